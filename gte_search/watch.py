"""Keep an index up to date with its roots: OS file notifications (watchfiles), filtered by the
walker's own rules (.gitignore, excluded folders), debounced, and applied through the normal
incremental update under the normal writer lock.

Used by `gte-search serve` (on a thread, beside the searches) and `gte-search watch` (in the
foreground). The watcher opens its own `SearchIndex` on its own thread: SQLite connections
belong to the thread that opened them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from gte_search.index import IndexOptions, IndexProblem, IndexReport, SearchIndex
from gte_search.models import EmbeddingModel, ModelError
from indexer.walk import IGNORE_FILES, is_walked

# watchfiles yields a burst once no new change came for STEP_MS, or after DEBOUNCE_MS however
# busy the burst (a branch switch, a formatter over 500 files): one update per burst.
STEP_MS = 50
DEBOUNCE_MS = 1600
# How often the watcher looks up from waiting, to notice a stop or a root added by `index`.
TIMEOUT_MS = 500
# How often a watcher waiting for another writer's lock checks whether it should stop.
LOCK_POLL_SECONDS = 0.2
# After watching failed (too many folders for the system's limit), try again this much later.
RETRY_SECONDS = 30.0

ModelProvider = Callable[[str], EmbeddingModel]  # model id -> the loaded model


@dataclass(frozen=True)
class WatchUpdate:
    """One update the watcher made (or tried): for the log line and the service's counters."""

    paths: list[str]  # the changed paths that caused it, relative to their root
    report: IndexReport | None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class _Burst:
    roots: dict[Path, list[str]] = field(default_factory=dict)

    def add(self, root: Path, rel: str) -> None:
        self.roots.setdefault(root, []).append(rel)


def changed_paths(
    changes: Iterable[tuple[object, str]],
    roots: list[Path],
    excluded: Path,
    options: IndexOptions | None = None,
) -> dict[Path, list[str]]:
    """The roots a burst of changes touches, with the paths that matter: those `walk` would
    reach, and ignore files (which change what it reaches). The index directory is never
    one of them: its own writes must not start another update."""
    burst = _Burst()
    honour = (options or IndexOptions()).use_ignore_files
    deepest_first = sorted(roots, key=lambda r: len(r.parts), reverse=True)
    for _change, raw in changes:
        path = Path(raw)
        if path == excluded or path.is_relative_to(excluded):
            continue
        root = next((r for r in deepest_first if path.is_relative_to(r) and path != r), None)
        if root is None:
            continue
        rel = path.relative_to(root).as_posix()
        if path.name in IGNORE_FILES:
            parent = path.parent.relative_to(root).as_posix()
            if parent == "." or is_walked(root, parent, is_dir=True, use_ignore_files=honour):
                burst.add(root, rel)
        elif is_walked(root, rel, is_dir=path.is_dir(), use_ignore_files=honour):
            burst.add(root, rel)
    return burst.roots


class IndexWatcher:
    """Watches every root of an index until `stop` is set; `on_update` hears of each update,
    `on_ready` once the first catch-up update is done and changes are being watched."""

    def __init__(
        self,
        index_dir: Path,
        model: ModelProvider,
        on_update: Callable[[WatchUpdate], None],
        *,
        on_ready: Callable[[list[Path]], None] | None = None,
        stop: threading.Event | None = None,
        options: IndexOptions | None = None,
    ) -> None:
        self.index_dir = index_dir.resolve()
        self.options = options or IndexOptions()  # as `gte-search index` was given them
        self.model = model
        self.on_update = on_update
        self.on_ready = on_ready
        self.stop = stop or threading.Event()
        self.ready = threading.Event()
        self._seen_version: int | None = None

    def run(self) -> None:
        """Watch until `stop` is set (or Ctrl-C, in the foreground)."""
        index = SearchIndex.open(self.index_dir)
        try:
            while not self.stop.is_set():
                roots = _live_roots(index)
                if not roots:
                    self.ready.set()
                    self.stop.wait(TIMEOUT_MS / 1000)
                    continue
                try:
                    self._watch(index, roots)
                except OSError as error:  # e.g. the system's limit of watched folders
                    self.on_update(WatchUpdate([], None, f"cannot watch the roots: {error}"))
                    self.stop.wait(RETRY_SECONDS)
        finally:
            index.close()

    def _watch(self, index: SearchIndex, roots: list[Path]) -> None:
        caught_up = False
        for changes in watchfiles.watch(
            *roots,
            watch_filter=None,  # the walker's rules decide, below
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            stop_event=self.stop,
            rust_timeout=TIMEOUT_MS,
            yield_on_timeout=True,
        ):
            if not caught_up:
                # Watching has begun: bring every root up to date once, for what changed
                # while nothing watched; a change from now on is seen by the watcher.
                self._update(index, {root: [] for root in roots})
                caught_up = True
                self.ready.set()
                if self.on_ready:
                    self.on_ready(roots)
            affected = changed_paths(changes, roots, self.index_dir, self.options)
            if affected:
                self._update(index, affected)
            if self.stop.is_set() or _live_roots(index) != roots:
                return  # a root was added or removed: watch the new set

    def _update(self, index: SearchIndex, affected: dict[Path, list[str]]) -> None:
        paths = [rel for rels in affected.values() for rel in rels]
        started = time.perf_counter()
        try:
            model = index.model
            if model is None:
                return
            embedder = self.model(model.model_id)
            if not self._take_lock(index):
                return
            try:
                # Another process (`gte-search index`) wrote since our last update: the
                # vectors this connection holds in memory are stale.
                if index.store.data_version() != self._seen_version:
                    index.cache.forget()
                report = index.update(
                    sorted(affected), embedder, options=self.options, changed=affected
                )
                self._seen_version = index.store.data_version()
            finally:
                index.lock.release()
        except (IndexProblem, ModelError) as error:
            self.on_update(WatchUpdate(paths, None, str(error), time.perf_counter() - started))
            return
        except Exception as error:  # say it and keep watching: the next change may succeed
            problem = f"{type(error).__name__}: {error}"
            self.on_update(WatchUpdate(paths, None, problem, time.perf_counter() - started))
            return
        if _changed(report) or report.problems:
            self.on_update(WatchUpdate(paths, report, None, time.perf_counter() - started))

    def _take_lock(self, index: SearchIndex) -> bool:
        """The writer lock, waiting for another writer; False when told to stop first."""
        while not index.lock.try_acquire():
            if self.stop.wait(LOCK_POLL_SECONDS):
                return False
        return True


def _live_roots(index: SearchIndex) -> list[Path]:
    return [root for root in index.roots() if root.is_dir()]


def _changed(report: IndexReport) -> int:
    return report.files_added + report.files_changed + report.files_removed


def describe(update: WatchUpdate) -> str:
    """The line `gte-search watch` prints for an update."""
    stamp = time.strftime("%H:%M:%S")
    shown = ", ".join(sorted(set(update.paths))[:3]) or "catch-up"
    more = len(set(update.paths)) - 3
    if more > 0:
        shown += f" and {more} more"
    if update.report is None:
        return f"{stamp} {shown}: not updated: {update.error}"
    report = update.report
    return (
        f"{stamp} {shown}: {report.files_added} added, {report.files_changed} changed, "
        f"{report.files_removed} removed; {report.chunks_embedded} "
        f"chunk{'' if report.chunks_embedded == 1 else 's'} embedded in {update.seconds:.2f}s"
    )
