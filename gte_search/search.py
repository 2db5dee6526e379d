"""Search results, and the few lines of a result that best show why it matched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from indexer.chunk import ChunkKind

SearchMode = Literal["hybrid", "semantic", "lexical"]
SEARCH_MODES: tuple[SearchMode, ...] = ("hybrid", "semantic", "lexical")


@dataclass(frozen=True)
class SearchHit:
    """One result. Its fields are the `--json` contract: add none without a version bump."""

    path: str
    root: str
    start_line: int
    end_line: int
    score: float
    kind: ChunkKind
    language: str
    symbol: str | None
    text: str


_STOP_WORDS = frozenset(
    "a an and are as at be by do does for from how i in is it of on or the to what when where "
    "which who why with".split()
)
_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")


def query_terms(query: str) -> set[str]:
    """Lower-cased words of a query, identifiers split (retryPolicy → retry, policy)."""
    words = {word.lower() for word in _WORD.findall(query)}
    return {word for word in words if word not in _STOP_WORDS and len(word) > 1}


def term_spans(line: str, terms: set[str]) -> list[tuple[int, int]]:
    """Character spans in `line` of words that start with a query term (retry → retries)."""
    spans = []
    for match in _WORD.finditer(line):
        word = match.group().lower()
        # Prefixes both ways: "retry" marks "retries", "retrying" marks "retry".
        if any(word.startswith(t) or (t.startswith(word) and len(word) > 3) for t in terms):
            spans.append(match.span())
    return spans


def best_lines(hit: SearchHit, query: str, count: int = 4) -> tuple[int, list[str]]:
    """The `count` consecutive lines of a hit that mention the query most, with the line number
    of the first. Falls back to the hit's first lines, where a signature usually is."""
    lines = hit.text.split("\n")
    terms = query_terms(query)
    hits_per_line = [len(term_spans(line, terms)) for line in lines]
    best_start, best_total = 0, 0
    for start in range(max(1, len(lines) - count + 1)):
        total = sum(hits_per_line[start : start + count])
        if total > best_total:
            best_start, best_total = start, total
    return hit.start_line + best_start, lines[best_start : best_start + count]


class PathOutsideRoot(ValueError):
    """A hit's path leads outside its root (a tampered index, or a symlink made since)."""


def resolve_hit_path(hit: SearchHit) -> Path:
    """The absolute, symlink-free path of a hit's file, checked to lie inside its root.

    Call this before reading, showing or opening a hit's file: the index stores paths as text,
    and a path or a symlink on disk may have changed since it was written.
    """
    root = Path(hit.root).resolve()
    path = (root / hit.path).resolve()
    if not path.is_relative_to(root) or path == root:
        raise PathOutsideRoot(f"{hit.path} resolves to {path}, outside its root {root}")
    return path
