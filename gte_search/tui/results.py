"""The results table: one row per hit, the selected row marked and highlighted at all times,
also while the focus is in the search box (where it is most of the time)."""

from __future__ import annotations

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from gte_search.hits import SearchHit, inert

MARKER = "\N{HEAVY RIGHT-POINTING ANGLE QUOTATION MARK ORNAMENT}"  # as fzf marks it


class ResultsTable(DataTable[Text]):
    def __init__(self) -> None:
        super().__init__(id="results", cursor_type="row", zebra_stripes=True)
        self.marked: int | None = None

    def on_mount(self) -> None:
        self.add_columns(" #", "score", "location", "symbol", "kind")

    def show(self, hits: list[SearchHit]) -> None:
        self.clear()
        self.marked = None
        for rank, hit in enumerate(hits, start=1):
            self.add_row(
                _rank(rank, marked=False),
                Text(f"{hit.score:.3f}", style="green"),
                Text(_tail(inert(f"{hit.path}:{hit.start_line}-{hit.end_line}"), 48)),
                Text(_head(inert(hit.symbol or ""), 40), style="bold"),
                Text(f"{'◆' if hit.kind == 'code' else '¶'} {hit.language}", style="dim"),
            )
        if hits:
            self.move_cursor(row=0)
            self.mark(0)

    def mark(self, row: int) -> None:
        """Put the marker on `row` (the cursor's), off the row that had it."""
        if self.marked == row or not 0 <= row < self.row_count:
            return
        if self.marked is not None and self.marked < self.row_count:
            self.update_cell_at(Coordinate(self.marked, 0), _rank(self.marked + 1, marked=False))
        self.update_cell_at(Coordinate(row, 0), _rank(row + 1, marked=True))
        self.marked = row


def _rank(rank: int, *, marked: bool) -> Text:
    return Text(f"{MARKER if marked else ' '}{rank:>2}", style="bold" if marked else "")


def _tail(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _head(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
