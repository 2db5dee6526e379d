"""Searching beside a writer: a reader (the service, the TUI) keeps its vectors in memory and
reloads them once another connection (the service's watcher, `gte-search index`) has
committed and let go of the write lock. While a writer is at work the reader keeps what it
has: reloading mid-update would rebuild FAISS from SQLite after every file."""

from __future__ import annotations

import time

from gte_search.index import SearchIndex


class Freshness:
    """Tracks what one reading `SearchIndex` has seen; use it on the index's own thread.
    `while_writing`: also reload during a writer's run, at most this often (seconds), for a
    reader that should show a long run's progress (the MCP server)."""

    def __init__(self, index: SearchIndex, *, while_writing: float | None = None) -> None:
        self.index = index
        self.while_writing = while_writing
        self._seen = index.store.data_version()
        self._dropped_at = 0.0

    def stale(self) -> bool:
        """Drop the vectors when another connection committed since they were loaded (the
        next search loads them again); True when it did."""
        version = self.index.store.data_version()
        if version == self._seen:
            return False
        if self.index.lock.holder() is not None and (
            self.while_writing is None or time.monotonic() - self._dropped_at < self.while_writing
        ):
            return False
        self.index.cache.forget()
        self._seen = version
        self._dropped_at = time.monotonic()
        return True
