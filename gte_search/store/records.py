"""What the store hands out: small frozen records, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from indexer.chunk import Chunk
from indexer.read import SkipKind as ReadSkipKind

# Why a walked file holds no chunks: the reader's reasons, or a name SQLite cannot store.
# Stored beside the human-readable reason, so a later run decides what to re-read from the
# kind, never by parsing the text.
SkipKind = ReadSkipKind | Literal["bad_name"]
# Kinds whose cause can go away while the file's stat stays the same (permissions fixed, a
# symlink replaced by a file), so a later run reads the file again.
TRANSIENT_SKIP_KINDS: frozenset[SkipKind] = frozenset({"unreadable", "not_regular", "symlink"})


@dataclass(frozen=True)
class IndexModel:
    """What the vectors in an index were made with; searches must use the same."""

    model_id: str
    dimension: int
    pooling: str


@dataclass(frozen=True)
class FileState:
    """What the index knows of a file, enough to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str | None
    skip_reason: str | None = None
    skip_kind: SkipKind | None = None


@dataclass(frozen=True)
class StoredChunk:
    id: int
    root: str
    chunk: Chunk


@dataclass(frozen=True)
class SkippedFile:
    root: str
    path: str
    reason: str


@dataclass(frozen=True)
class IndexCounts:
    files: int  # indexed files, skipped ones not counted
    chunks: int
    vectors: int
    lexical: int  # rows of the FTS table, kept equal to chunks by triggers


@dataclass(frozen=True)
class PendingChunk:
    """A chunk stored without its vector: searchable by its words, not yet by meaning."""

    id: int
    text_hash: str  # equal hashes share one vector
    embedding_text: str
