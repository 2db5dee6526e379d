"""Line packing shared by every chunker, and the plain line-window fallback.

Rows here are 0-based indexes into ``text.split("\\n")``; chunks report them 1-based.
We split on "\\n" only (not `str.splitlines`) because that is how tree-sitter counts rows
and how editors number lines; a "\\r" left at a line end is whitespace to the estimator.
"""

from __future__ import annotations

from collections.abc import Collection
from itertools import accumulate

from indexer.chunk import Chunk, ChunkKind
from indexer.tokens import LineCounter, estimate_lines, text_budget

# Short enough to read at a glance in a search hit, long enough to hold a typical function.
WINDOW_LINES = 60
# A piece cut from a longer run of lines has at least this many rows where the budget allows:
# a class line or the last line of a docstring alone says too little to be found.
MIN_LINES = 5


class Lines:
    """A file's lines with per-line token weights, so any row range is priced in O(1)."""

    def __init__(
        self,
        path: str,
        text: str,
        language: str,
        kind: ChunkKind,
        count_lines: LineCounter | None = None,
    ) -> None:
        self.path = path
        self.language = language
        self.kind: ChunkKind = kind
        self.rows = text.split("\n")
        self.weights = (count_lines or estimate_lines)(self.rows)
        self._prefix = [0.0, *accumulate(self.weights)]

    def weight(self, start: int, end: int) -> float:
        return self._prefix[end + 1] - self._prefix[start]

    def is_blank(self, row: int) -> bool:
        # Every non-space character weighs at least one token, so zero means blank.
        return self.weights[row] == 0

    def chunk(self, start: int, end: int, symbol: str | None) -> Chunk:
        return Chunk(
            path=self.path,
            start_line=start + 1,
            end_line=end + 1,
            kind=self.kind,
            language=self.language,
            symbol=symbol,
            text="\n".join(self.rows[start : end + 1]),
        )

    def pack(
        self,
        start: int,
        end: int,
        budget: int,
        cuts: Collection[int] = (),
        max_lines: int | None = None,
    ) -> list[tuple[int, int]]:
        """Split rows start..end into consecutive ranges that each weigh at most `budget`.

        A range preferably ends just before a row in `cuts` (a statement start), else
        before a row that follows a blank line, else wherever the budget runs out, and holds
        at least MIN_LINES rows unless the budget forbids it. Blank rows at range edges are
        dropped and all-blank ranges vanish. A single row heavier than the budget still
        becomes its own range: chunk text is whole lines, so the embedder's truncation is
        the only way to shorten it.
        """
        ranges = self._greedy(start, end, budget, cuts, max_lines)
        if len(ranges) < 2:
            return ranges
        # Greedy filling can leave a two-line tail; aim for even pieces instead, as long as
        # that does not take more of them.
        share = self.weight(start, end) / len(ranges)
        for slack in (1.1, 1.25, 1.5):
            even = self._greedy(start, end, min(budget, share * slack), cuts, max_lines)
            if len(even) <= len(ranges):
                ranges = even
                break
        return self._fill_tail(ranges, budget, cuts, max_lines)

    def _fill_tail(
        self,
        ranges: list[tuple[int, int]],
        budget: float,
        cuts: Collection[int],
        max_lines: int | None,
    ) -> list[tuple[int, int]]:
        """A last range under MIN_LINES rows joins the one before it, or takes rows from it."""
        (first, stop), (start, end) = ranges[-2], ranges[-1]
        if end - start + 1 >= MIN_LINES or self.weight(start, end) > budget:
            return ranges
        limit = max_lines or len(self.rows)
        if self.weight(first, end) <= budget and end - first < limit:
            return [*ranges[:-2], (first, end)]
        fallback = None
        # New first rows for the tail, nearest first, leaving MIN_LINES rows before them.
        for row in range(start - 1, first + MIN_LINES - 1, -1):
            if self.weight(row, end) > budget or end - row >= limit:
                break
            if self.is_blank(row) or end - row + 1 < MIN_LINES:
                continue
            if row in cuts or self.is_blank(row - 1):
                fallback = row
                break
            fallback = fallback if fallback is not None else row
        if fallback is None:
            return ranges
        stop = fallback - 1
        while self.is_blank(stop):
            stop -= 1
        return [*ranges[:-2], (first, stop), (fallback, end)]

    def _greedy(
        self,
        start: int,
        end: int,
        budget: float,
        cuts: Collection[int],
        max_lines: int | None,
    ) -> list[tuple[int, int]]:
        ranges: list[tuple[int, int]] = []
        row = start
        limit = max_lines or len(self.rows)
        while row <= end:
            while row <= end and self.is_blank(row):
                row += 1
            if row > end:
                break
            last = row
            while last < end and last + 1 - row < limit and self.weight(row, last + 1) <= budget:
                last += 1
            if last < end:
                last = _best_cut(self, row, last, cuts) - 1
            stop = last
            while self.is_blank(stop):
                stop -= 1
            ranges.append((row, stop))
            row = last + 1
        return ranges


def _best_cut(lines: Lines, first: int, last: int, cuts: Collection[int]) -> int:
    """The row to start the next range at, when the current one must end by `last`."""
    lowest = first + MIN_LINES
    for cut in range(last + 1, lowest - 1, -1):
        if cut in cuts:
            return cut
    for cut in range(last + 1, lowest - 1, -1):
        if lines.is_blank(cut - 1) and not lines.is_blank(cut):
            return cut
    return last + 1


def pack_chunks(
    lines: Lines,
    start: int,
    end: int,
    max_tokens: int,
    symbol: str | None,
    cuts: Collection[int] = (),
    max_lines: int | None = None,
) -> list[Chunk]:
    budget = text_budget(max_tokens, lines.path, symbol)
    return [
        lines.chunk(first, last, symbol)
        for first, last in lines.pack(start, end, budget, cuts, max_lines)
    ]


def chunk_lines(
    path: str,
    text: str,
    language: str,
    max_tokens: int,
    kind: ChunkKind,
    count_lines: LineCounter | None = None,
) -> list[Chunk]:
    """Fixed windows of up to WINDOW_LINES lines under the budget; blank windows skipped."""
    lines = Lines(path, text, language, kind, count_lines)
    return pack_chunks(lines, 0, len(lines.rows) - 1, max_tokens, None, (), WINDOW_LINES)
