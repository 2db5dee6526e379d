"""Search results, and how every interface shows them safely: paths and text."""

from __future__ import annotations

import os
import unicodedata
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


class PathOutsideRoot(ValueError):
    """A hit's path leads outside its root (a tampered index, or a symlink made since)."""


def resolve_hit_path(hit: SearchHit) -> Path:
    """The absolute, symlink-free path of a hit's file, checked to lie inside its root.

    Call this before reading, showing or opening a hit's file: the index stores paths as text,
    and a path or a symlink on disk may have changed since it was written.
    """
    return resolve_in_root(hit.root, hit.path)


def resolve_in_root(root: str | Path, path: str) -> Path:
    """The absolute, symlink-free path that `path` (relative to `root`, or absolute) names,
    checked to lie inside `root`: `..`, absolute paths elsewhere and symlinks that leave the
    root raise `PathOutsideRoot`. The one containment check every interface uses."""
    base = Path(root).resolve()
    resolved = (base / path).resolve()
    if not resolved.is_relative_to(base) or resolved == base:
        raise PathOutsideRoot(f"{path} resolves to {resolved}, outside its root {base}")
    return resolved


def inside_roots(hits: list[SearchHit]) -> tuple[list[SearchHit], list[str]]:
    """The hits whose file lies inside its root (nothing outside a root is ever shown), and a
    note for each one dropped (a symlink made after indexing can lead out)."""
    kept: list[SearchHit] = []
    notes: list[str] = []
    for hit in hits:
        try:
            resolve_hit_path(hit)
        except PathOutsideRoot as error:
            notes.append(f"dropped a result: {inert(str(error))}")
            continue
        kept.append(hit)
    return kept, notes


def display_path(hit: SearchHit, cwd: Path | None = None) -> str:
    """How every interface names a hit's file: relative to the current directory when the
    file lies under it (what a shell or an editor opens from here), else absolute."""
    absolute = resolve_hit_path(hit)
    relative = os.path.relpath(absolute, cwd or Path.cwd())
    return str(absolute) if relative.startswith("..") else relative


def inert(text: str, *, multiline: bool = False) -> str:
    """Text with control and format characters (ESC, BEL, bidi overrides, ...) shown as
    visible `\\xNN` / `\\uNNNN` escapes, so file content cannot drive the terminal. Tabs are
    kept, and newlines when `multiline`."""
    keep = "\n\t" if multiline else "\t"
    return "".join(
        ch
        if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf")
        else f"\\x{ord(ch):02x}"
        if ord(ch) < 0x100
        else f"\\u{ord(ch):04x}"
        for ch in text
    )
