"""The index's SQLite database: schema, writes and reads. Nothing outside it writes SQL."""

from gte_search.store.database import Store, StoreError
from gte_search.store.records import (
    TRANSIENT_SKIP_KINDS,
    FileState,
    IndexCounts,
    IndexModel,
    PendingChunk,
    SkipKind,
    SkippedFile,
    StoredChunk,
)

__all__ = [
    "TRANSIENT_SKIP_KINDS",
    "FileState",
    "IndexCounts",
    "IndexModel",
    "PendingChunk",
    "SkipKind",
    "SkippedFile",
    "Store",
    "StoreError",
    "StoredChunk",
]
