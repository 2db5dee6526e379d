"""The results table: one row per hit, the selected row marked and highlighted at all times,
also while the focus is in the search box (where it is most of the time)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from gte_search.hits import SearchHit, inert

MARKER = "\N{HEAVY RIGHT-POINTING ANGLE QUOTATION MARK ORNAMENT}"  # as fzf marks it
KIND_WIDTH = 12  # "◆ javascript"
RANK_WIDTH = 4  # the marker, a space, two digits


@dataclass(frozen=True)
class Columns:
    """What fits in a table `width` columns wide: the score goes first, then the kind (the
    preview's title shows both); location and symbol share the rest, cut with an ellipsis."""

    score: bool
    kind: bool
    location: int
    symbol: int

    @classmethod
    def for_width(cls, width: int) -> Columns:
        score, kind = width >= 100, width >= 64
        # Every cell has one column of padding each side; the scrollbar takes one.
        fixed = RANK_WIDTH + 2 + (5 + 2 if score else 0) + (KIND_WIDTH + 2 if kind else 0) + 1
        rest = max(20, width - fixed - 4)
        location = min(48, rest * 11 // 20)
        return cls(score, kind, location, min(40, rest - location))


class ResultsTable(DataTable[Text]):
    def __init__(self) -> None:
        super().__init__(id="results", cursor_type="row", zebra_stripes=True)
        self.marked: int | None = None
        # Each root's label, shown before its hits' paths (see `root_labels`).
        self.labels: Mapping[str, str] = {}

    def show(self, hits: list[SearchHit], width: int, row: int = 0) -> None:
        """`hits`, in columns that fit `width`, the cursor on `row`."""
        columns = Columns.for_width(width)
        self.clear(columns=True)
        self.marked = None
        labels = [" #", *(["score"] if columns.score else []), "location", "symbol"]
        labels += ["kind"] if columns.kind else []
        rows = [self._cells(rank, hit, columns) for rank, hit in enumerate(hits, start=1)]
        # Each column as wide as its widest cell, as DataTable would size it, but at once: it
        # measures new rows only when next idle, and a screen drawn before that shows every
        # column as narrow as its header.
        for position, label in enumerate(labels):
            widest = max((cells[position].cell_len for cells in rows), default=0)
            self.add_column(label, width=max(len(label), widest))
        for cells in rows:
            self.add_row(*cells)
        if hits:
            row = min(row, len(hits) - 1)
            self.move_cursor(row=row)
            self.mark(row)

    def _cells(self, rank: int, hit: SearchHit, columns: Columns) -> list[Text]:
        cells = [
            _rank(rank, marked=False),
            *([Text(f"{hit.score:.3f}", style="green")] if columns.score else []),
            location_cell(hit, self.labels.get(hit.root), columns.location),
            Text(_head(inert(hit.symbol or ""), columns.symbol), style="bold"),
        ]
        if columns.kind:
            kind = f"{'◆' if hit.kind == 'code' else '¶'} {hit.language}"
            cells.append(Text(_head(kind, KIND_WIDTH), style="dim"))
        return cells

    def labelled(self, hit: SearchHit, text: Text) -> Text:
        """`text` (the preview's title) after the label of `hit`'s root, when it has one."""
        label = self.labels.get(hit.root)
        return Text.assemble((f"{inert(label)} · ", "dim"), text) if label else text

    def mark(self, row: int) -> None:
        """Put the marker on `row` (the cursor's), off the row that had it."""
        if self.marked == row or not 0 <= row < self.row_count:
            return
        if self.marked is not None and self.marked < self.row_count:
            self.update_cell_at(Coordinate(self.marked, 0), _rank(self.marked + 1, marked=False))
        self.update_cell_at(Coordinate(row, 0), _rank(row + 1, marked=True))
        self.marked = row


def root_labels(roots: Sequence[str]) -> dict[str, str]:
    """What names each root before its hits' paths: nothing with one root (paths stay
    short), else the root's folder name, with as many parent folders as it takes to tell
    roots of the same name apart (`a/src`, `b/src`)."""
    if len(roots) < 2:
        return {}
    parts = {root: PurePath(root).parts for root in roots}
    labels: dict[str, str] = {}
    for root in roots:
        for depth in range(1, len(parts[root]) + 1):
            tail = parts[root][-depth:]
            if all(other == root or parts[other][-depth:] != tail for other in roots):
                break
        labels[root] = "/".join(tail).lstrip("/") or root
    return labels


def location_cell(hit: SearchHit, label: str | None, width: int) -> Text:
    """`path:first-last`, after a dim `label · ` when the hit's root has one; the path is
    cut from the left to fit `width`, the label kept (it is what tells same paths apart)."""
    location = inert(f"{hit.path}:{hit.start_line}-{hit.end_line}")
    if not label:
        return Text(_tail(location, width))
    prefix = _head(inert(label), max(4, width // 3)) + " · "
    return Text.assemble((prefix, "dim"), _tail(location, max(2, width - len(prefix))))


def _rank(rank: int, *, marked: bool) -> Text:
    return Text(f"{MARKER if marked else ' '}{rank:>2}", style="bold" if marked else "")


def _tail(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _head(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
