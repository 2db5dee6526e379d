"""The update pipeline, in two phases. Phase 1: walk → triage (read + chunk, on a read-ahead
thread) → store (SQLite, one transaction per file): every changed file's chunks are stored,
searchable by their words, with the vectors of texts embedded before and the rest pending.
Phase 2 (`gte_search.vector_fill`): embed the pending chunks in committed batches → vector
cache (FAISS). A first index is searchable lexically long before its vectors are done.

`triage` decides what to do with each walked file, once, off the main thread and without
SQLite; the main thread only applies its typed outcome.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

import numpy as np

from gte_search.models import EmbeddingModel
from gte_search.pipeline import Progress, StageTimer, read_ahead
from gte_search.reports import IndexInterrupted, IndexProblem, IndexReport
from gte_search.store import FileState, IndexModel, SkipKind, Store
from gte_search.triage import (
    Changed,
    Chunker,
    IndexOptions,
    Outcome,
    Skip,
    Touched,
    Unchanged,
    Vanished,
    triage,
)
from gte_search.vector_cache import VectorCache
from gte_search.vector_fill import fill_vectors
from indexer.chunk import Chunk
from indexer.chunking import CHUNKER_VERSION, chunk_file
from indexer.languages import language_for
from indexer.read import SourceText
from indexer.walk import IGNORE_FILES, WalkedFile, WalkProblem, is_inside, walk, walk_paths

# Chunks of changed files gathered before they are stored: one look-up of the vectors their
# texts already have, then one transaction per file.
STORE_GROUP_CHUNKS = 256
# GTE models are trained on 512-token inputs; longer chunks would be truncated by the model.
CHUNK_TOKEN_BUDGET = 512
# A watcher's burst naming more paths than this (a branch switch) walks the whole root: one
# walk is cheaper than looking up each path's ignore rules.
SCOPED_WALK_MAX_PATHS = 500
# Files read and chunked ahead of the one being stored, in a background thread; 0 turns the
# overlap off.
READ_AHEAD_FILES = 64


@dataclass(frozen=True)
class _WalkedRoot:
    root: Path
    found: list[WalkedFile | WalkProblem]
    # The paths (files or folders) this walk looked at, when it looked at only some;
    # known files elsewhere in the root are left as they are.
    scope: frozenset[str] | None = None

    def covers(self, path: str) -> bool:
        return self.scope is None or is_inside(path, self.scope)


@dataclass
class _Pending:
    root_id: int
    path: str
    source: SourceText
    chunks: list[Chunk]
    is_new: bool


class Update:
    """One run of the pipeline over some roots, under the caller's write lock."""

    def __init__(
        self,
        store: Store,
        cache: VectorCache,
        embedder: EmbeddingModel,
        progress: Progress,
        options: IndexOptions,
        excluded: Path,
        changed: Mapping[Path, Collection[str]] | None = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.embedder = embedder
        self.progress = progress
        self.options = options
        self.excluded = excluded  # the index directory, never indexed itself
        # Per root, the only paths that may have changed (a watcher's burst); a root not
        # named, or named with no paths, is walked whole.
        self.changed = {root.resolve(): paths for root, paths in (changed or {}).items()}
        self.report = IndexReport(embedder.model_id)
        self.timer = StageTimer(self.report.stages)
        # Chunks are priced with the model's own tokenizer, so none is truncated when embedded.
        self.chunker: Chunker = partial(
            chunk_file,
            max_tokens=min(CHUNK_TOKEN_BUDGET, embedder.max_tokens),
            count_lines=embedder.count_line_tokens,
        )

    def run(self, roots: Sequence[Path], vector_kind: str | None) -> IndexReport:
        try:
            return self._run(roots, vector_kind)
        except KeyboardInterrupt:
            raise IndexInterrupted(self.report) from None

    def _run(self, roots: Sequence[Path], vector_kind: str | None) -> IndexReport:
        started = time.perf_counter()
        # Every argument is checked, and every root walked, before anything is changed: a run
        # that fails on its arguments leaves the index as it was, FAISS file included.
        planned, absorbed = self._plan_roots(roots)
        walked = [w for w in (self._walk(root) for root in planned) if w is not None]
        current = self.store.model()
        if current is None:
            embedder = self.embedder
            self.store.set_model(
                IndexModel(embedder.model_id, embedder.dimension, embedder.pooling)
            )
            self.cache.forget()
        elif current.model_id != self.embedder.model_id:
            raise IndexProblem(f"this index was built with {current.model_id}")
        if vector_kind is not None:
            self.store.set_meta("faiss", vector_kind)
        known_roots = set(self.store.roots()) - {str(root) for root in absorbed}
        # An index chunked by an earlier chunker is re-chunked whole; unchanged texts keep
        # their vectors, so this costs reading and chunking, little embedding.
        self.rechunk = bool(known_roots) and self.store.get_meta("chunker") != CHUNKER_VERSION
        # Load (or rebuild) FAISS before SQLite changes, so the two move in step from here on.
        with self.timer("faiss"):
            self.report.notices += self.cache.load()
            self.cache.invalidate()
        for nested in absorbed:
            _, removed = self.store.remove_root(nested) or (0, [])
            self.cache.remove(removed)
        for walked_root in walked:
            self.store.mark_interrupted(walked_root.root, True)
            self._update_root(walked_root)
            self.store.mark_interrupted(walked_root.root, False)
        if known_roots <= {str(w.root) for w in walked if w.scope is None}:
            self.store.set_meta("chunker", CHUNKER_VERSION)
        # Phase 2, for every chunk still without its vector, stored by this run or by one
        # that was interrupted. (The model may still be loading until here: see
        # gte_search.deferred_model.)
        self.store.set_meta("precision", self.embedder.precision)
        fill_vectors(self.store, self.cache, self.embedder, self.progress, self.timer, self.report)
        with self.timer("faiss"):
            self.cache.save()
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _plan_roots(self, requested: Sequence[Path]) -> tuple[list[Path], list[Path]]:
        """The roots to update, and the known roots that a new, enclosing root absorbs. A
        folder inside a known root updates that root: one file, one root, one hit."""
        known = [Path(root) for root in self.store.roots()]
        planned: list[Path] = []
        absorbed: list[Path] = []
        for path in (p.resolve() for p in requested):
            enclosing = next((r for r in known if path != r and path.is_relative_to(r)), None)
            if enclosing is not None:
                self.report.notices.append(
                    f"{path} lies inside the indexed root {enclosing}; updating that root"
                )
                path = enclosing
            nested = [r for r in known if r != path and r.is_relative_to(path)]
            for root in nested:
                self.report.notices.append(f"the indexed root {root} becomes part of {path}")
            absorbed += [r for r in nested if r not in absorbed]
            if path not in planned:
                planned.append(path)
        return planned, absorbed

    def _walk(self, root: Path) -> _WalkedRoot | None:
        """Walk a root; None for a known root that is gone (reported, kept)."""
        if not root.is_dir():
            if str(root) not in self.store.roots():
                raise IndexProblem(f"{root} is not a directory")
            # A known root that is gone (an unmounted disk?) is kept: report it, go on.
            reason = f"root is missing; drop it with: gte-search remove {root}"
            self.report.problems.append(WalkProblem(str(root), reason))
            return None
        scope = self._scope(root)  # None for a new root, so the check below sees it whole
        honour, excluded = self.options.use_ignore_files, (self.excluded,)
        with self.timer("walk"):
            items = (
                walk(root, use_ignore_files=honour, excluded_paths=excluded)
                if scope is None
                else walk_paths(root, scope, use_ignore_files=honour, excluded_paths=excluded)
            )
            found = [_storable(item) for item in items]
        if str(root) not in self.store.roots() and not any(
            isinstance(item, WalkedFile) for item in found
        ):
            raise IndexProblem(f"{root} holds no files to index")
        return _WalkedRoot(root, found, scope)

    def _scope(self, root: Path) -> frozenset[str] | None:
        """The changed paths to look at instead of walking a known root whole; None to walk
        it whole (not named, a new root, too many paths, or an ignore file changed, which can
        change what any path under it means)."""
        paths = self.changed.get(root)
        if not paths or len(paths) > SCOPED_WALK_MAX_PATHS or str(root) not in self.store.roots():
            return None
        if any(PurePosixPath(path).name in IGNORE_FILES for path in paths):
            return None
        return frozenset(paths)

    def _update_root(self, walked: _WalkedRoot) -> None:
        report = self.report
        root, found = walked.root, walked.found
        files = [item for item in found if isinstance(item, WalkedFile)]
        report.files_total += len(files)
        root_id = self.store.add_root(root)
        known = self.store.file_states(root_id)
        for problem in (item for item in found if isinstance(item, WalkProblem)):
            kind: SkipKind = "unreadable" if problem.unreadable else _problem_kind(problem)
            self._record_skip(root_id, problem.path, 0, 0, Skip(kind, problem.reason), known)
        self.progress.start_root(root, len(files))
        pending: list[_Pending] = []

        def read(item: WalkedFile) -> Outcome:
            with self.timer("parse"):
                state = known.get(item.path)
                return triage(item, state, self.chunker, self.options, rechunk=self.rechunk)

        for item, outcome in read_ahead(files, read, READ_AHEAD_FILES):
            state = known.get(item.path)
            if isinstance(outcome, Changed):
                pending.append(
                    _Pending(root_id, item.path, outcome.source, outcome.chunks, state is None)
                )
                if sum(len(p.chunks) for p in pending) >= STORE_GROUP_CHUNKS:
                    self._store(pending)
                    pending = []
                continue
            self._apply(root_id, item, state, outcome, known)
            self.progress.advance(1)
        self._store(pending)
        vanished = {path for path in known if walked.covers(path)} - {item.path for item in found}
        with self.timer("store"):
            removed = self.store.remove_files(root_id, vanished)
        with self.timer("faiss"):
            self.cache.remove(removed)
        report.files_removed += len(vanished)

    def _apply(
        self,
        root_id: int,
        item: WalkedFile,
        state: FileState | None,
        outcome: Outcome,
        known: dict[str, FileState],
    ) -> None:
        if isinstance(outcome, Unchanged):
            self.report.files_unchanged += 1
        elif isinstance(outcome, Touched):
            assert state is not None
            self.store.touch_file(state.id, outcome.source.size, outcome.source.mtime_ns)
            self.report.files_unchanged += 1
        elif isinstance(outcome, Vanished):
            if state:
                self.cache.remove(self.store.remove_files(root_id, [item.path]))
                self.report.files_removed += 1
        elif isinstance(outcome, Skip):
            self._record_skip(root_id, item.path, item.size, item.mtime_ns, outcome, known)

    def _record_skip(
        self,
        root_id: int,
        path: str,
        size: int,
        mtime_ns: int,
        skip: Skip,
        known: dict[str, FileState],
    ) -> None:
        self.report.files_skipped += 1
        if skip.kind == "unreadable":
            self.report.problems.append(WalkProblem(path, skip.reason))
        state = known.get(path)
        if (
            state
            and (state.skip_kind, state.skip_reason) == (skip.kind, skip.reason)
            and (state.size, state.mtime_ns) == (size, mtime_ns)
        ):
            return  # recorded by an earlier run
        removed, _ = self.store.replace_file(
            root_id,
            path,
            size=size,
            mtime_ns=mtime_ns,
            content_hash=None,
            language=language_for(path),
            skip=(skip.kind, skip.reason),
        )
        self.cache.remove(removed)

    def _store(self, pending: list[_Pending]) -> None:
        """Store changed files with their chunks; a chunk whose text was embedded before (in
        any file) gets that vector now, the others are left pending for phase 2."""
        report, timer = self.report, self.timer
        with timer("store"):
            known = self.store.vectors_for_texts(
                c.embedding_hash for p in pending for c in p.chunks
            )
        for item in pending:
            vectors = [known.get(c.embedding_hash) for c in item.chunks]
            with timer("store"):
                removed, added = self.store.replace_file(
                    item.root_id,
                    item.path,
                    size=item.source.size,
                    mtime_ns=item.source.mtime_ns,
                    content_hash=item.source.content_hash,
                    language=language_for(item.path),
                    chunks=item.chunks,
                    vectors=vectors,
                )
            reused = [(i, v) for i, v in zip(added, vectors, strict=True) if v is not None]
            with timer("faiss"):
                self.cache.remove(removed)
                if reused:
                    self.cache.add([i for i, _ in reused], np.stack([v for _, v in reused]))
            report.chunks_reused += len(reused)
            if item.is_new:
                report.files_added += 1
            else:
                report.files_changed += 1
            self.progress.advance(1)


def _problem_kind(problem: WalkProblem) -> SkipKind:
    return "bad_name" if problem.reason == BAD_NAME_REASON else "symlink"


BAD_NAME_REASON = "file name is not valid UTF-8"


def _storable(item: WalkedFile | WalkProblem) -> WalkedFile | WalkProblem:
    """SQLite text must be UTF-8, and os.walk hands undecodable names over with surrogate
    escapes. Such a file is recorded, skipped, under its name with `\\xNN` escapes."""
    try:
        item.path.encode("utf-8")
        return item
    except UnicodeEncodeError:
        shown = os.fsencode(item.path).decode("utf-8", "backslashreplace")
    if isinstance(item, WalkProblem):
        return WalkProblem(shown, item.reason, item.unreadable)
    return WalkProblem(shown, BAD_NAME_REASON, unreadable=False)
