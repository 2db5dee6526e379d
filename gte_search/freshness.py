"""Searching beside a writer: a reader (the service, the TUI) keeps its vectors in memory and
reloads them once another connection (the service's watcher, `gte-search index`) has
committed and let go of the write lock. While a writer is at work the reader keeps what it
has: reloading mid-update would rebuild FAISS from SQLite after every file."""

from __future__ import annotations

from gte_search.index import SearchIndex


class Freshness:
    """Tracks what one reading `SearchIndex` has seen; use it on the index's own thread."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self._seen = index.store.data_version()

    def stale(self) -> bool:
        """Drop the vectors when another connection committed since they were loaded (the
        next search loads them again); True when it did."""
        version = self.index.store.data_version()
        if version == self._seen or self.index.lock.holder() is not None:
            return False
        self.index.cache.forget()
        self._seen = version
        return True
