"""The library API: open an index, bring roots up to date, search it, describe it.

The CLI, the TUI and the tests all go through `SearchIndex`; none of them touch SQLite or
FAISS directly. Each method delegates to the module of its stage: `indexing` (the update
pipeline), `vector_cache` (FAISS as a cache of SQLite), `retrieval` and `rank` (search).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from gte_search import retrieval
from gte_search.config import VECTOR_INDEX_KINDS
from gte_search.hits import SearchHit, SearchMode
from gte_search.indexing import Update
from gte_search.lock import IndexBusy, IndexLock
from gte_search.model_choice import prepare_model
from gte_search.models import EmbeddingModel
from gte_search.pipeline import Progress
from gte_search.query import SearchFilters
from gte_search.reports import (
    IndexInterrupted,
    IndexLocked,
    IndexProblem,
    IndexReport,
    IndexStatus,
)
from gte_search.store import IndexModel, Store, StoreError
from gte_search.store.filters import root_matches
from gte_search.triage import IndexOptions
from gte_search.vector_cache import VECTORS_NAME, VectorCache
from gte_search.vectors import VectorIndex

DATABASE_NAME = "index.db"

__all__ = [
    "DATABASE_NAME",
    "VECTORS_NAME",
    "IndexInterrupted",
    "IndexLocked",
    "IndexOptions",
    "IndexProblem",
    "IndexReport",
    "IndexStatus",
    "Progress",
    "SearchIndex",
]


class SearchIndex:
    def __init__(self, directory: Path, store: Store) -> None:
        self.directory = directory
        self.store = store
        self.lock = IndexLock(directory)
        self.cache = VectorCache(directory, store, self.lock)

    @classmethod
    def open(cls, directory: Path, *, create: bool = False) -> SearchIndex:
        database = directory / DATABASE_NAME
        if not database.exists():
            if not create:
                raise IndexProblem(
                    f"no index at {directory}; create one with: gte-search index PATH"
                )
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            return cls(directory, Store(database))
        except StoreError as error:
            raise IndexProblem(str(error)) from error

    def close(self) -> None:
        self.lock.release()
        self.store.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def writing(self, *, wait: bool = False) -> Iterator[None]:
        """Hold the index's write lock: one writer at a time, readers never wait. Raises
        `IndexLocked` naming the holder when `wait` is false and another process has it.
        Nested use is a no-op, so `update` inside `writing` keeps the outer lock."""
        if self.lock.held:
            yield
            return
        try:
            self.lock.acquire(wait=wait)
        except IndexBusy as error:
            raise IndexLocked(str(error)) from error
        try:
            yield
        finally:
            self.lock.release()

    @property
    def model(self) -> IndexModel | None:
        return self.store.model()

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS index, checked against SQLite and rebuilt from it when they disagree."""
        return self.cache.index

    def load_vectors(self) -> list[str]:
        """Load the vectors now (searching does it when needed); returns what the user should
        be told, such as a rebuild from the database."""
        return self.cache.load()

    def roots(self) -> list[Path]:
        return [Path(root) for root in self.store.roots()]

    def status(self) -> IndexStatus:
        size = sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())
        counts = self.store.counts()
        return IndexStatus(
            directory=self.directory,
            roots=self.store.roots(),
            files=counts.files,
            chunks=counts.chunks,
            skipped=self.store.skipped_files(),
            model=self.model,
            size_bytes=size,
            interrupted=self.store.interrupted_roots(),
            embedded=counts.vectors,
        )

    def find_root(self, name: str) -> Path:
        """The root `name` means: its path (absolute or relative to here) or its folder name,
        as `root:` filters accept."""
        roots = self.store.roots()
        matches = [root for root in roots if root_matches(root, (name,))]
        if len(matches) == 1:
            return Path(matches[0])
        known = ", ".join(roots) or "none"
        if not matches:
            raise IndexProblem(f"{name} is not a root of this index (roots: {known})")
        raise IndexProblem(f"{name} names several roots ({', '.join(matches)}); give its path")

    def remove_root(self, name: str | Path) -> tuple[Path, int]:
        """Forget a root (see `find_root`) with its files, chunks and vectors, and give the
        space back; returns the root and how many files it held."""
        root = self.find_root(str(name))
        with self.writing():
            self.cache.load()  # before SQLite changes, as in `update`
            self.cache.invalidate()
            files, chunk_ids = self.store.remove_root(root) or (0, [])
            self.cache.remove(chunk_ids)
            self.cache.save()
            self.store.reclaim_space()
        return root, files

    def prepare_model(self, model_id: str, *, rebuild: bool) -> None:
        """Refuse to mix vectors of two models in one index; with `rebuild`, drop every chunk
        and vector so the next update re-embeds everything."""
        with self.writing():
            prepare_model(self.store, self.cache, model_id, rebuild=rebuild)

    def update(
        self,
        roots: Sequence[Path],
        embedder: EmbeddingModel,
        progress: Progress | None = None,
        options: IndexOptions | None = None,
        *,
        vector_kind: str | None = None,
        changed: Mapping[Path, Collection[str]] | None = None,
    ) -> IndexReport:
        """Bring the index up to date with `roots`: new and changed files are chunked and
        embedded, unchanged ones kept, vanished ones dropped. Files that could not be read
        are recorded with their reason and listed in the report's `problems`. `vector_kind`
        (one of `config.VECTOR_INDEX_KINDS`) sets the FAISS index type for this and later
        runs. `changed` names, per known root, the only paths (files or folders, relative
        to it) that may have changed since the last update, as a file watcher hears of them:
        those are looked at instead of walking the whole root."""
        if vector_kind is not None and vector_kind not in VECTOR_INDEX_KINDS:
            raise IndexProblem(f"unknown vector index type {vector_kind!r}")
        with self.writing():
            run = Update(
                self.store,
                self.cache,
                embedder,
                progress or Progress(),
                options or IndexOptions(),
                self.directory,
                changed,
            )
            return run.run(roots, vector_kind)

    def search(
        self,
        query: str,
        embedder: EmbeddingModel | None,
        k: int = 10,
        filters: SearchFilters | None = None,
        *,
        mode: SearchMode = "hybrid",
        signals: Collection[str] | None = None,
    ) -> list[SearchHit]:
        """The k best chunks for `query` (plain text: parse query syntax with
        `gte_search.query.parse_query` first) that pass `filters`.

        `mode` is "semantic" (cosine similarity of GTE vectors), "lexical" (FTS5 bm25 over
        code-aware tokens; needs no embedder) or "hybrid" (both, fused by `gte_search.rank`).
        `signals` names the ranking signals hybrid search applies after fusion (default: all
        of `gte_search.rank.RANKING_SIGNALS`; `()` for plain fusion).
        """
        return retrieval.search(
            self.store, lambda: self.cache.index, embedder, query, k, filters, mode, signals
        )
