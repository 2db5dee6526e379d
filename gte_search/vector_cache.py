"""The FAISS file is a cache of the vectors in SQLite. This module is that rule, whole:

- **load**: the saved file is used only when it is complete and holds exactly SQLite's vector
  ids; otherwise the index is rebuilt from SQLite.
- **invalidate**: before a writer changes SQLite's vectors it deletes the file, because SQLite
  can reuse the ids of deleted chunks: a stale file could hold the same ids, other vectors. A
  writer killed at any moment leaves no file, and the next open rebuilds it.
- **apply**: the writer changes its in-memory copy in step with each SQLite transaction.
- **save**: at the end of a write, atomically (temporary file, fsync, rename).
- **readers never write**: a search that rebuilds beside a running indexer keeps its copy in
  memory, so it cannot overwrite the indexer's newer file. Only the lock holder saves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gte_search.lock import IndexLock
from gte_search.store import Store
from gte_search.vectors import VectorIndex

VECTORS_NAME = "vectors.faiss"


class VectorCache:
    def __init__(self, directory: Path, store: Store, lock: IndexLock) -> None:
        self.path = directory / VECTORS_NAME
        self.store = store
        self.lock = lock
        self._index: VectorIndex | None = None

    @property
    def index(self) -> VectorIndex:
        """The vectors, loaded (or rebuilt) on first use; see `load` for the notices."""
        if self._index is None:
            self.load()
        assert self._index is not None
        return self._index

    def load(self) -> list[str]:
        """Load the vectors if not loaded yet; returns what the user should be told."""
        if self._index is not None:
            return []
        model = self.store.model()
        dimension = model.dimension if model else 0
        before = _identity(self.path)
        loaded = VectorIndex.load(self.path, dimension)
        stored_ids = self.store.vector_ids()
        # A writer deletes the file before changing SQLite: if it is still the same file after
        # reading the ids, the ids were read before any change.
        same_file = before is not None and before == _identity(self.path)
        if loaded is not None and same_file and np.array_equal(loaded.ids(), stored_ids):
            self._index = loaded
            return []
        return self.rebuild(dimension, say_so=bool(len(stored_ids)))

    def rebuild(self, dimension: int, *, say_so: bool) -> list[str]:
        kind = self.store.get_meta("faiss") or "auto"
        self._index = VectorIndex.build(dimension, self.store.iter_vectors(), kind)
        mine = self.lock.held
        if dimension and (mine or self.lock.try_acquire()):
            try:
                self._index.save(self.path)
            finally:
                if not mine:
                    self.lock.release()
        elif say_so and (holder := self.lock.holder()):
            return [f"process {holder} is updating the index; searching what it has stored so far"]
        if say_so:
            return ["the vector index was missing or out of date; rebuilt it from the database"]
        return []

    def invalidate(self) -> None:
        """Call before SQLite's vectors change (holding the write lock)."""
        self.path.unlink(missing_ok=True)

    def forget(self) -> None:
        """Drop the in-memory copy: the next use loads again (after the model changed)."""
        self._index = None

    def remove(self, ids: list[int]) -> None:
        self.index.remove(ids)

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        self.index.add(np.array(ids, dtype=np.int64), vectors)

    def save(self) -> None:
        """Write the vectors at the end of a write, re-built when their type no longer fits
        the index's size or the type asked for (crossing the flat/IVF threshold)."""
        assert self.lock.held, "only the writer saves the vector index"
        if self.index.wants(self.store.get_meta("faiss") or "auto"):
            self.index.save(self.path)
        else:
            self.rebuild(self.index.dimension, say_so=False)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size
