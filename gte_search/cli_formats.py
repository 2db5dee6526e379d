"""Search results in the line formats other tools read: JSON lines for pipelines, file lists
like `rg -l`, and `path:line:col:text` lines like `rg --vimgrep` for editors' quickfix lists."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Literal

from gte_search.highlight import best_line
from gte_search.hits import SearchHit, display_path, inert

LineFormat = Literal["jsonl", "files", "vimgrep"]


def jsonl_lines(hits: list[SearchHit]) -> Iterator[str]:
    """One hit per line, with exactly the `--json` keys."""
    for hit in hits:
        yield json.dumps(dataclasses.asdict(hit))


def file_lines(hits: list[SearchHit]) -> Iterator[str]:
    """Each file once, in the order of its best hit."""
    yield from dict.fromkeys(inert(display_path(hit)) for hit in hits)


def vimgrep_lines(hits: list[SearchHit], query: str) -> Iterator[str]:
    """`path:line:col:text` for the best-matching line of each hit. The column is 1-based and
    counts bytes, as rg and vim's quickfix list do; it points at the first query term."""
    for hit in hits:
        number, offset, text = best_line(hit, query)
        column = len(text[:offset].encode("utf-8")) + 1
        yield f"{inert(display_path(hit))}:{number}:{column}:{inert(text)}"


def format_lines(kind: LineFormat, hits: list[SearchHit], query: str) -> Iterator[str]:
    if kind == "jsonl":
        return jsonl_lines(hits)
    if kind == "files":
        return file_lines(hits)
    return vimgrep_lines(hits, query)
