"""An index held open by a long-running server (the MCP server): searches that see what other
processes commit, a model loaded on the first query that needs one, the status, and reading
lines of files inside the index's roots. No protocol here: servers wrap these calls.

SQLite connections belong to the thread that opened them, so the index is opened, used and
closed on one worker thread (`call`); the model loads on another thread, so a lexical search
or a status never waits behind it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gte_search.hits import PathOutsideRoot, SearchHit, SearchMode, inside_roots, resolve_in_root
from gte_search.index import IndexProblem, SearchIndex
from gte_search.index_runs import IndexRuns, RunState
from gte_search.lock import IndexLock
from gte_search.query import SearchFilters

if TYPE_CHECKING:
    from gte_search.embed import Embedder

T = TypeVar("T")
# While another process indexes, every commit changes the database; reloading the vectors at
# most this often keeps searches fast and still shows its progress.
RELOAD_WHILE_INDEXING_SECONDS = 10.0
READ_MAX_LINES = 500
READ_MAX_FILE_BYTES = 10_000_000


class ReadRefused(Exception):
    """A read a caller asked for and may not have: outside the roots, missing, binary."""


@dataclass(frozen=True)
class SearchAnswer:
    hits: list[SearchHit]
    updating_pid: int | None  # the process updating the index meanwhile, if any
    notes: list[str]


@dataclass(frozen=True)
class ServiceStatus:
    index: str
    roots: list[str]
    files: int
    chunks: int
    embedded: int
    pending: int  # chunks stored without a vector yet
    model: str | None
    model_loaded: bool
    index_run_active: bool
    index_run_pid: int | None
    interrupted: list[str]
    last_run: RunState | None  # the last run this server started


@dataclass(frozen=True)
class FileLines:
    path: str  # absolute, symlinks resolved
    root: str
    start_line: int
    end_line: int
    total_lines: int
    text: str
    truncated: bool  # lines left out (READ_MAX_LINES) that were asked for, or follow


class IndexService:
    def __init__(self, directory: Path, *, trust_remote_code: bool = False) -> None:
        self.directory = directory
        self.trust_remote_code = trust_remote_code
        self.runs = IndexRuns(directory, trust_remote_code=trust_remote_code)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gte-search-index")
        self._model_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._seen_version: int | None = None
        self._vectors_loaded_at = 0.0
        try:
            self._index: SearchIndex = self.call(SearchIndex.open, directory).result()
            if self.call(lambda: self._index.model).result() is None:
                self.call(self._index.close).result()
                raise IndexProblem(f"the index at {directory} is empty; run: gte-search index PATH")
        except BaseException:
            self._worker.shutdown()
            raise

    def call(self, function: Callable[..., T], *args: object) -> Future[T]:
        """Run `function` on the thread that owns the index."""
        return self._worker.submit(function, *args)

    def close(self) -> None:
        self.runs.stop()
        self._worker.submit(self._index.close)
        self._worker.shutdown(wait=True)

    # The model: any thread.

    def embedder(self) -> Embedder:
        """The index's model, loaded on first use (torch is imported here, not at start)."""
        with self._model_lock:
            model_id = self.call(self._model_id).result()
            if self._embedder is None or self._embedder.model_id != model_id:
                from gte_search.embed import Embedder
                from gte_search.models import resolve_model

                source = resolve_model(model_id, named_by_user=True)
                self._embedder = Embedder(source, trust_remote_code=self.trust_remote_code)
            return self._embedder

    # The rest runs on the index's thread (through `call`).

    def _model_id(self) -> str:
        model = self._index.model
        if model is None:
            raise IndexProblem(f"the index at {self.directory} is empty")
        return model.model_id

    def _refresh(self) -> int | None:
        """Forget the vectors when another process committed since they were loaded; returns
        the PID of a process updating the index now."""
        holder = self._index.lock.holder()
        version = self._index.store.data_version()
        if version != self._seen_version:
            recent = time.monotonic() - self._vectors_loaded_at < RELOAD_WHILE_INDEXING_SECONDS
            if not (holder and recent):
                self._index.cache.forget()
                self._seen_version = version
                self._vectors_loaded_at = time.monotonic()
        return holder

    def search(
        self,
        query: str,
        embedder: Embedder | None,
        k: int,
        filters: SearchFilters,
        mode: SearchMode,
    ) -> SearchAnswer:
        holder = self._refresh()
        notes = [] if mode == "lexical" else self._index.load_vectors()
        hits, dropped = inside_roots(self._index.search(query, embedder, k, filters, mode=mode))
        return _answer(hits, holder, notes + dropped)

    def search_through_serve(
        self, query: str, k: int, filters: SearchFilters, mode: SearchMode
    ) -> SearchAnswer | None:
        """The answer of a `gte-search serve` running on this index, which holds its model
        and vectors warm, so that this process need not load its own; None when none answers
        (then search here). Any thread: it uses no SQLite connection."""
        from gte_search.service_client import ServiceClient, ServiceUnavailable

        client = ServiceClient.connect(self.directory)
        if client is None:
            return None
        with client:
            try:
                hits, notes = client.search(query, k, filters, mode)
            except ServiceUnavailable:
                return None
        return _answer(hits, IndexLock(self.directory).holder(), notes)

    def status(self) -> ServiceStatus:
        holder = self._refresh()
        info = self._index.status()
        counts = self._index.store.counts()
        return ServiceStatus(
            index=str(info.directory),
            roots=info.roots,
            files=info.files,
            chunks=info.chunks,
            embedded=counts.vectors,
            pending=max(0, counts.chunks - counts.vectors),
            model=info.model.model_id if info.model else None,
            model_loaded=self._embedder is not None,
            index_run_active=holder is not None,
            index_run_pid=holder,
            interrupted=info.interrupted,
            last_run=self.runs.state(),
        )

    def roots(self, name: str | None = None) -> list[str]:
        """Every root, or the one `name` means (its path or folder name)."""
        if name is not None:
            return [str(self._index.find_root(name))]
        return self._index.store.roots()

    def start_index_run(self) -> RunState:
        """Update the index's known roots in a background process; never adds a root."""
        holder = self._index.lock.holder()
        if holder:
            raise IndexProblem(f"process {holder} is already updating the index")
        if not self._index.store.roots():
            raise IndexProblem("this index has no roots; add one with: gte-search index PATH")
        return self.runs.start()


def _answer(hits: list[SearchHit], holder: int | None, notes: list[str]) -> SearchAnswer:
    if holder:
        notes = [n for n in notes if "is updating the index" not in n]
        notes.insert(
            0,
            f"the index is being updated (process {holder}): results come from what it has "
            "stored so far",
        )
    return SearchAnswer(hits, holder, notes)


def read_lines(
    roots: list[str], path: str, start_line: int, end_line: int | None, *, cwd: Path
) -> FileLines:
    """Lines `start_line`..`end_line` (1-based, inclusive; at most READ_MAX_LINES) of a file
    inside one of `roots`. `path` is relative to a root (a hit's `path`), relative to `cwd`,
    or absolute; `resolve_in_root` refuses anything that leads out of the roots."""
    if start_line < 1 or (end_line is not None and end_line < start_line):
        raise ReadRefused("start_line must be at least 1, and end_line at least start_line")
    found = _find_file(roots, path, cwd)
    root, file = found
    if file.stat().st_size > READ_MAX_FILE_BYTES:
        raise ReadRefused(f"{path} is larger than {READ_MAX_FILE_BYTES:,} bytes")
    data = file.read_bytes()
    if b"\0" in data[:8192]:
        raise ReadRefused(f"{path} is a binary file")
    lines = data.decode("utf-8", errors="replace").splitlines()
    if start_line > max(1, len(lines)):
        raise ReadRefused(f"{path} has {len(lines)} lines; start_line {start_line} is past its end")
    wanted = (end_line or start_line + READ_MAX_LINES - 1) - start_line + 1
    last = min(len(lines), start_line + min(wanted, READ_MAX_LINES) - 1)
    return FileLines(
        path=str(file),
        root=root,
        start_line=start_line,
        end_line=last,
        total_lines=len(lines),
        text="\n".join(lines[start_line - 1 : last]),
        truncated=last < min(end_line or len(lines), len(lines)),
    )


def _find_file(roots: list[str], path: str, cwd: Path) -> tuple[str, Path]:
    candidates = [path] if Path(path).is_absolute() else [path, str(cwd / path)]
    inside = False
    for candidate in candidates:
        for root in roots:
            try:
                resolved = resolve_in_root(root, candidate)
            except PathOutsideRoot:
                continue
            inside = True
            if resolved.is_file():
                return root, resolved
    if inside:
        raise ReadRefused(f"{path}: no such file in the indexed roots")
    raise ReadRefused(
        f"refused: {path} is outside the indexed roots (paths, .. and symlinks may not leave "
        f"a root; roots: {', '.join(roots)})"
    )
