"""Triage: what one walked file needs, decided once, on the read-ahead thread.

The outcome is typed: unchanged (not even read), touched (new stat, same content), vanished,
skipped (with its kind and reason), or changed (with its chunks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gte_search.store import TRANSIENT_SKIP_KINDS, FileState, SkipKind
from indexer.chunk import Chunk
from indexer.read import DEFAULT_MAX_FILE_BYTES, Skipped, SourceText, read_source
from indexer.walk import WalkedFile

Chunker = Callable[[str, str], list[Chunk]]  # (path, text) -> chunks


@dataclass(frozen=True)
class IndexOptions:
    """How files are found and read; a run's choice, not remembered by the index."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    use_ignore_files: bool = True


@dataclass(frozen=True)
class Unchanged:
    """Same size and mtime as indexed: not even read."""


@dataclass(frozen=True)
class Touched:
    """The stat changed but the content did not: only the stat is recorded."""

    source: SourceText


@dataclass(frozen=True)
class Vanished:
    """Deleted between the walk and the read: as if the walk had not seen it."""


@dataclass(frozen=True)
class Skip:
    kind: SkipKind
    reason: str


@dataclass(frozen=True)
class Changed:
    source: SourceText
    chunks: list[Chunk]


Outcome = Unchanged | Touched | Vanished | Skip | Changed


def triage(
    item: WalkedFile,
    state: FileState | None,
    chunker: Chunker,
    options: IndexOptions,
    *,
    rechunk: bool = False,
) -> Outcome:
    """Decide what a walked file needs, reading and chunking it only when its content may have
    changed, or every file when `rechunk` (the chunker changed since the index was made).
    Runs on the read-ahead thread: no SQLite here."""
    if not rechunk and state and not _needs_reading(state, item, options.max_file_bytes):
        return Unchanged()
    source = read_source(item.absolute, options.max_file_bytes)
    if isinstance(source, Skipped):
        return Vanished() if source.kind == "vanished" else Skip(source.kind, source.reason)
    if not rechunk and state and state.content_hash == source.content_hash:
        return Touched(source)
    return Changed(source, chunker(item.path, source.text))


def _needs_reading(state: FileState, item: WalkedFile, max_bytes: int) -> bool:
    """Whether a known file must be read again: its stat changed, or its last reading may
    come out differently now (it was unreadable, or the size limit changed)."""
    if (state.size, state.mtime_ns) != (item.size, item.mtime_ns):
        return True
    if state.skip_reason is None:
        return item.size > max_bytes
    if state.skip_kind == "too_large":
        return item.size <= max_bytes
    return state.skip_kind in TRANSIENT_SKIP_KINDS
