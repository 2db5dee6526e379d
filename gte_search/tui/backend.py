"""The library calls the TUI makes, each on the thread that owns its SQLite connection.

SQLite connections belong to the thread that opened them, so the index used for searching is
opened, used and closed on one long-lived thread; re-indexing opens its own index on its own
thread (`reindex`).

When a `gte-search serve` answers on the index's socket, searches go to it and no model is
loaded here; if it stops answering, the TUI loads the model and searches in-process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gte_search.freshness import Freshness
from gte_search.hits import SearchHit
from gte_search.index import IndexProblem, IndexReport, IndexStatus, Progress, SearchIndex
from gte_search.lock import LOCK_NAME, IndexLock
from gte_search.model_choice import choose_model
from gte_search.query import QueryError, SearchFilters
from gte_search.service_client import ServiceClient, ServiceUnavailable, ServiceUserError

if TYPE_CHECKING:
    from gte_search.embed import Embedder

T = TypeVar("T")
# Builds an embedder for a model id; `named_by_user` False lets the default model fall back.
EmbedderLoader = Callable[[str, bool], "Embedder"]


def load_embedder(
    model_id: str, named_by_user: bool, *, trust_remote_code: bool = False
) -> Embedder:
    """Resolve and load a model the way the CLI does (torch is imported here, not before)."""
    from gte_search.embed import Embedder
    from gte_search.models import resolve_model

    source = resolve_model(model_id, named_by_user=named_by_user)
    return Embedder(source, trust_remote_code=trust_remote_code)


class ServiceGone(Exception):
    """The index's service stopped answering: load the model, then search again here."""


class Searcher:
    """Owns the searching `SearchIndex` and the query embedder, or the connection to the
    index's service, on one worker thread."""

    def __init__(self, index_dir: Path, loader: EmbedderLoader) -> None:
        self.index_dir = index_dir
        self.loader = loader
        self.index: SearchIndex | None = None
        self.embedder: Embedder | None = None
        self.freshness: Freshness | None = None
        # What `written_elsewhere` compares with: the database's data version once it is
        # open, else the index folder's files.
        self._opened_at: int | tuple[tuple[str, int, int], ...] = ()
        self.service: ServiceClient | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gte-search")

    async def run(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    def shutdown(self) -> None:
        self._thread.submit(self._close)
        self._thread.shutdown(wait=False, cancel_futures=True)

    # These run on the searcher's thread (through `run`).

    def _close(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None
        self._drop_service()

    def _drop_service(self) -> None:
        if self.service is not None:
            self.service.close()
            self.service = None

    def open(self) -> IndexStatus | None:
        """(Re)open the index, so it sees what a re-index wrote; None when there is none."""
        if self.index is not None:
            self.index.close()
            self.index = None
        try:
            self.index = SearchIndex.open(self.index_dir)
        except IndexProblem:
            self._opened_at = index_signature(self.index_dir)
            return None
        self.freshness = Freshness(self.index)
        self._opened_at = self.index.store.data_version()
        return self.index.status()

    def written_elsewhere(self) -> bool:
        """Whether another process wrote the index since `open`. SQLite's data version
        changes only with another connection's commits; the files of the index folder change
        with this process's own reads too (SQLite's -wal and -shm), so they are compared only
        while there is no index to open (the empty-index screen)."""
        if self.index is None:
            return index_signature(self.index_dir) != self._opened_at
        return self.index.store.data_version() != self._opened_at

    def load_model(self) -> Embedder | None:
        """The model for searching here; None when the index's service answers searches
        (it holds the model, so none is loaded)."""
        assert self.index is not None and self.index.model is not None
        if self.embedder is None and self.service is None:
            self.service = ServiceClient.connect(self.index_dir)
        if self.service is not None:
            return None
        self.embedder = self.loader(self.index.model.model_id, True)
        return self.embedder

    def search(self, text: str, filters: SearchFilters, k: int) -> tuple[list[SearchHit], float]:
        """The hits and the seconds they took. Raises `ServiceGone` when the service failed
        (then `load_model` loads the model here) and `QueryError` for a filter the index
        cannot match, from the service too."""
        started = time.perf_counter()
        if self.service is not None:
            try:
                hits, _ = self.service.search(text, k, filters, "hybrid")
            except ServiceUserError as error:  # the message an in-process search gives
                raise QueryError(str(error)) from error
            except ServiceUnavailable as error:
                self._drop_service()
                raise ServiceGone(str(error)) from error
            return hits, time.perf_counter() - started
        assert self.index is not None and self.embedder is not None
        assert self.freshness is not None
        self.freshness.stale()  # sees what a service's watcher or `gte-search index` wrote
        hits = self.index.search(text, self.embedder, k, filters)
        return hits, time.perf_counter() - started


def reindex(
    index_dir: Path,
    roots: Sequence[Path],
    loader: EmbedderLoader,
    model: str | None,
    progress: Progress,
) -> IndexReport:
    """Bring `roots` up to date in an index of this thread's own, with an embedder of its own
    (a tokenizer must not be shared between threads). Creates the index when there is none,
    with `model` (the default model, allowed to fall back, when None)."""
    with SearchIndex.open(index_dir, create=True) as index:
        # `model` only names the model of a new index; an existing one keeps its own.
        choice = choose_model(index.model, None if index.model else model)
        embedder = loader(choice.model_id, choice.named_by_user)
        return index.update(list(roots), embedder, progress)


def index_signature(index_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """The index folder's files' names, sizes and mtimes: a few stat calls, cheap enough to
    poll. They change when any process writes the index, but also when one merely reads it
    (SQLite's -wal and -shm files)."""
    try:
        files = sorted(path for path in index_dir.iterdir() if path.name != LOCK_NAME)
    except OSError:
        return ()
    signature = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        signature.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(signature)


def indexer_running(index_dir: Path) -> bool:
    """Whether another process holds the index's write lock now."""
    return IndexLock(index_dir).holder() is not None
