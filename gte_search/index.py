"""The library API: open an index, add roots to it, search it, describe it.

The CLI, the TUI and the tests all go through `SearchIndex`; none of them touch SQLite or
FAISS directly.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gte_search.lexical import named_symbols, search_lexical
from gte_search.lock import IndexBusy, IndexLock
from gte_search.pipeline import StageTimer, read_ahead
from gte_search.query import SearchFilters
from gte_search.rank import SYMBOL_BOOST, fuse_by_definition, names_symbol, without_overlaps
from gte_search.search import SEARCH_MODES, SearchHit, SearchMode
from gte_search.store import (
    FileState,
    IndexModel,
    SkippedFile,
    Store,
    StoredChunk,
    StoreError,
)
from gte_search.vectors import VECTOR_INDEX_KINDS, VectorIndex
from indexer.chunking import chunk_file
from indexer.chunk import Chunk
from indexer.languages import language_for
from indexer.read import DEFAULT_MAX_FILE_BYTES, VANISHED, Skipped, SourceText, read_source
from indexer.walk import WalkedFile, WalkProblem, walk

if TYPE_CHECKING:
    from gte_search.embed import Embedder
    from gte_search.models import ModelSource

Chunker = Callable[[str, str], list[Chunk]]  # (path, text) -> chunks

DATABASE_NAME = "index.db"
VECTORS_NAME = "vectors.faiss"
# Chunks gathered before a batch is embedded: large enough for length-sorted batching to pay.
EMBED_GROUP_CHUNKS = 256
# GTE models are trained on 512-token inputs; longer chunks would be truncated by the model.
CHUNK_TOKEN_BUDGET = 512
# Files read and chunked ahead of the one being stored, in a background thread; 0 turns the
# overlap off.
READ_AHEAD_FILES = 64
# How deep each ranking goes before hybrid search fuses them (at least 2k).
FUSION_DEPTH = 80


class IndexProblem(Exception):
    """A user-facing problem with an index: missing, unreadable, or built with another model."""


class IndexLocked(IndexProblem):
    """Another process is updating the index (see `SearchIndex.writing`)."""


@dataclass
class IndexReport:
    model_id: str
    files_added: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_skipped: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    problems: list[WalkProblem] = field(default_factory=list)
    # Seconds per stage: walk, parse (read + chunk, overlapped with embedding in a background
    # thread), embed, store (SQLite), faiss (add, remove, save, rebuild).
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def chunks(self) -> int:
        return self.chunks_embedded + self.chunks_reused

    @property
    def files_indexed(self) -> int:
        return self.files_added + self.files_changed


@dataclass(frozen=True)
class IndexOptions:
    """How files are found and read; a run's choice, not remembered by the index."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    use_ignore_files: bool = True


# Skip reasons that a later run may find gone although the file's stat is unchanged.
_TRANSIENT_REASONS = ("unreadable", "not a regular file", "symlink")


@dataclass(frozen=True)
class IndexStatus:
    directory: Path
    roots: list[str]
    files: int
    chunks: int
    skipped: list[SkippedFile]
    model: IndexModel | None
    size_bytes: int


class Progress:
    """What an indexing run tells its caller; the CLI draws a bar, tests may record."""

    def start_root(self, root: Path, files: int) -> None: ...

    def advance(self, files: float) -> None: ...


# What the read-ahead thread hands over: the file's text (or why it is skipped), and its
# chunks when its content changed.
_Parsed = tuple[SourceText | Skipped, list[Chunk] | None]


def _read_and_chunk(
    item: WalkedFile, state: FileState | None, chunker: Chunker, options: IndexOptions
) -> _Parsed | None:
    """Read and chunk a file off the main thread (no SQLite here); None when unchanged."""
    if state and not _needs_reading(state, item, options.max_file_bytes):
        return None
    source = read_source(item.absolute, options.max_file_bytes)
    if isinstance(source, Skipped) or (state and state.content_hash == source.content_hash):
        return source, None
    return source, chunker(item.path, source.text)


@dataclass
class _PreparedFile:
    root_id: int
    file: WalkedFile
    source: SourceText
    chunks: list[Chunk]
    is_new: bool


class SearchIndex:
    def __init__(self, directory: Path, store: Store) -> None:
        self.directory = directory
        self.store = store
        self.notices: list[str] = []
        self._vectors: VectorIndex | None = None
        self.lock = IndexLock(directory)

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

    def _vectors_changing(self) -> None:
        """Called before SQLite's vectors change: the saved FAISS file stops matching them.

        Deleting it (rather than trusting an id comparison later) matters because SQLite can
        reuse the ids of deleted chunks: a stale file could hold the same ids, other vectors.
        A run that is killed leaves no file, and the next open rebuilds it from SQLite."""
        (self.directory / VECTORS_NAME).unlink(missing_ok=True)

    @property
    def model(self) -> IndexModel | None:
        return self.store.model()

    # vectors

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS index, checked against SQLite and rebuilt from it when they disagree."""
        if self._vectors is None:
            model = self.model
            dimension = model.dimension if model else 0
            path = self.directory / VECTORS_NAME
            before = _identity(path)
            loaded = VectorIndex.load(path, dimension)
            stored_ids = self.store.vector_ids()
            # An indexer deletes the file before changing SQLite: if it is still the same
            # file after reading the ids, the ids were read before any change.
            same_file = before is not None and before == _identity(path)
            if loaded is not None and same_file and np.array_equal(loaded.ids(), stored_ids):
                self._vectors = loaded
            else:
                self._vectors = self._rebuild_vectors(dimension, bool(len(stored_ids)))
        return self._vectors

    def roots(self) -> list[Path]:
        return [Path(root) for root in self.store.roots()]

    def remove_root(self, root: Path) -> int:
        """Forget a root with its files, chunks and vectors; returns how many files it held."""
        if str(root) not in self.store.roots():
            known = ", ".join(self.store.roots()) or "none"
            raise IndexProblem(f"{root} is not a root of this index (roots: {known})")
        with self.writing():
            _ = self.vectors  # loaded before SQLite changes, as in `update`
            self._vectors_changing()
            files, chunk_ids = self.store.remove_root(root) or (0, [])
            self.vectors.remove(chunk_ids)
            self.vectors.save(self.directory / VECTORS_NAME)
        return files

    def _rebuild_vectors(self, dimension: int, say_so: bool) -> VectorIndex:
        kind = self.store.get_meta("faiss") or "auto"
        rebuilt = VectorIndex.build(dimension, self.store.iter_vectors(), kind)
        # Only the lock holder writes the file: a search running beside an indexer keeps its
        # rebuilt copy in memory, so it cannot overwrite the indexer's newer file.
        mine = self.lock.held
        if dimension and (mine or self.lock.try_acquire()):
            try:
                rebuilt.save(self.directory / VECTORS_NAME)
            finally:
                if not mine:
                    self.lock.release()
        elif say_so and (holder := self.lock.holder()):
            self.notices.append(
                f"process {holder} is updating the index; searching what it has stored so far"
            )
            return rebuilt
        if say_so:
            self.notices.append(
                "the vector index was missing or out of date; rebuilt it from the database"
            )
        return rebuilt

    # indexing

    def check_model(self, source: ModelSource, *, rebuild: bool) -> None:
        """Refuse to mix vectors of two models in one index, unless asked to start over."""
        current = self.model
        if current is None or current.model_id == source.model_id:
            return
        if not rebuild:
            raise IndexProblem(
                f"this index was built with {current.model_id}, not {source.model_id}; "
                "rerun with --rebuild to re-embed everything with the new model"
            )
        with self.writing():
            self._vectors_changing()
            self.store.clear()
        self._vectors = None

    def update(
        self,
        roots: Sequence[Path],
        embedder: Embedder,
        progress: Progress | None = None,
        options: IndexOptions | None = None,
        *,
        vector_kind: str | None = None,
    ) -> IndexReport:
        """Bring the index up to date with `roots`: new and changed files are chunked and
        embedded, unchanged ones kept, vanished ones dropped. Files that could not be read
        are recorded with their reason and listed in the report's `problems`. `vector_kind`
        (one of `vectors.VECTOR_INDEX_KINDS`) sets the FAISS index type for this and later runs."""
        with self.writing():
            return self._update(
                roots, embedder, progress or Progress(), options or IndexOptions(), vector_kind
            )

    def _update(
        self,
        roots: Sequence[Path],
        embedder: Embedder,
        progress: Progress,
        options: IndexOptions,
        vector_kind: str | None,
    ) -> IndexReport:
        started = time.perf_counter()
        current = self.model
        if current is None:
            self.store.set_model(
                IndexModel(embedder.model_id, embedder.dimension, embedder.pooling)
            )
            self._vectors = None
        elif current.model_id != embedder.model_id:
            raise IndexProblem(f"this index was built with {current.model_id}")
        if vector_kind is not None:
            if vector_kind not in VECTOR_INDEX_KINDS:
                raise IndexProblem(f"unknown vector index type {vector_kind!r}")
            self.store.set_meta("faiss", vector_kind)
        self.store.set_meta("precision", getattr(embedder, "precision", "fp32"))
        report = IndexReport(embedder.model_id)
        timer = StageTimer(report.stages)
        # Load (or rebuild) FAISS before SQLite changes, so the two move in step from here on.
        with timer("faiss"):
            _ = self.vectors
            self._vectors_changing()
        # Chunks are priced with the model's own tokenizer, so none is truncated when embedded.
        chunker = partial(
            chunk_file,
            max_tokens=min(CHUNK_TOKEN_BUDGET, embedder.max_tokens),
            count_lines=embedder.count_line_tokens,
        )
        for root in roots:
            self._update_root(root.resolve(), embedder, chunker, progress, report, options)
        with timer("faiss"):
            if self.vectors.wants(self.store.get_meta("faiss") or "auto"):
                self.vectors.save(self.directory / VECTORS_NAME)
            else:  # crossed the flat/IVF threshold, or asked for the other type
                self._vectors = self._rebuild_vectors(self.vectors.dimension, say_so=False)
        report.seconds = time.perf_counter() - started
        return report

    def _update_root(
        self,
        root: Path,
        embedder: Embedder,
        chunker: Chunker,
        progress: Progress,
        report: IndexReport,
        options: IndexOptions,
    ) -> None:
        if not root.is_dir():
            if str(root) not in self.store.roots():
                raise IndexProblem(f"{root} is not a directory")
            # A known root that is gone (an unmounted disk?) is kept: report it, go on.
            reason = f"root is missing; drop it with: gte-search remove {root}"
            report.problems.append(WalkProblem(str(root), reason))
            return
        timer = StageTimer(report.stages)
        with timer("walk"):
            found = [
                _storable(item)
                for item in walk(
                    root,
                    use_ignore_files=options.use_ignore_files,
                    excluded_paths=(self.directory,),
                )
            ]
        files = [item for item in found if isinstance(item, WalkedFile)]
        if not files and str(root) not in self.store.roots():
            raise IndexProblem(f"{root} holds no files to index")
        root_id = self.store.add_root(root)
        known = self.store.file_states(root_id)
        for problem in (item for item in found if isinstance(item, WalkProblem)):
            self._record_skip(root_id, problem.path, 0, 0, problem.reason, known, report)
            if problem.unreadable:
                report.problems.append(problem)
        progress.start_root(root, len(files))
        pending: list[_PreparedFile] = []

        def read(item: WalkedFile) -> _Parsed | None:
            with timer("parse"):
                return _read_and_chunk(item, known.get(item.path), chunker, options)

        for item, parsed in read_ahead(files, read, READ_AHEAD_FILES):
            state = known.get(item.path)
            prepared = self._prepare(root_id, item, state, chunker, report, options, known, parsed)
            if prepared is None:
                progress.advance(1)
                continue
            pending.append(prepared)
            if sum(len(p.chunks) for p in pending) >= EMBED_GROUP_CHUNKS:
                self._embed_and_store(pending, embedder, report, progress)
                pending = []
        self._embed_and_store(pending, embedder, report, progress)
        vanished = set(known) - {item.path for item in found}
        with timer("store"):
            removed = self.store.remove_files(root_id, vanished)
        with timer("faiss"):
            self.vectors.remove(removed)
        report.files_removed += len(vanished)

    def _prepare(
        self,
        root_id: int,
        item: WalkedFile,
        state: FileState | None,
        chunker: Chunker,
        report: IndexReport,
        options: IndexOptions,
        known: dict[str, FileState],
        parsed: _Parsed | None = None,
    ) -> _PreparedFile | None:
        """Read and chunk a file that changed (or take `parsed`, read ahead); None when there
        is nothing to embed."""
        if state and not _needs_reading(state, item, options.max_file_bytes):
            report.files_unchanged += 1
            return None
        source = parsed[0] if parsed else read_source(item.absolute, options.max_file_bytes)
        if isinstance(source, Skipped) and source.reason == VANISHED:
            # Deleted between the walk and now: as if the walk had not seen it.
            if state:
                self.vectors.remove(self.store.remove_files(root_id, [item.path]))
                report.files_removed += 1
            return None
        if isinstance(source, Skipped):
            reason = source.reason
            self._record_skip(root_id, item.path, item.size, item.mtime_ns, reason, known, report)
            if reason.startswith("unreadable"):
                report.problems.append(WalkProblem(item.path, reason))
            return None
        if state and state.content_hash == source.content_hash:
            self.store.touch_file(state.id, source.size, source.mtime_ns)
            report.files_unchanged += 1
            return None
        chunks = parsed[1] if parsed else None
        if chunks is None:
            chunks = chunker(item.path, source.text)
        return _PreparedFile(root_id, item, source, chunks, is_new=state is None)

    def _record_skip(
        self,
        root_id: int,
        path: str,
        size: int,
        mtime_ns: int,
        reason: str,
        known: dict[str, FileState],
        report: IndexReport,
    ) -> None:
        report.files_skipped += 1
        state = known.get(path)
        if (
            state
            and state.skip_reason == reason
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
            skip_reason=reason,
        )
        self.vectors.remove(removed)

    def _embed_and_store(
        self,
        pending: list[_PreparedFile],
        embedder: Embedder,
        report: IndexReport,
        progress: Progress,
    ) -> None:
        timer = StageTimer(report.stages)
        texts = {c.embedding_hash: c.embedding_text for p in pending for c in p.chunks}
        with timer("store"):
            known = self.store.vectors_for_texts(texts)
        # Identical texts (licence headers, repeated boilerplate) are embedded once.
        missing = [digest for digest in texts if digest not in known]
        # The bar moves with each embedded batch, not only when a group of files is stored.
        files_per_text = len(pending) / len(missing) if missing else 0.0
        with timer("embed"):
            fresh = embedder.embed(
                [texts[digest] for digest in missing],
                on_batch=lambda count: progress.advance(count * files_per_text),
            )
        if not missing:
            progress.advance(len(pending))
        known.update(zip(missing, fresh, strict=True))
        report.chunks_embedded += len(missing)
        for prepared in pending:
            hashes = [c.embedding_hash for c in prepared.chunks]
            matrix = np.stack([known[h] for h in hashes]) if hashes else None
            with timer("store"):
                removed, added = self.store.replace_file(
                    prepared.root_id,
                    prepared.file.path,
                    size=prepared.source.size,
                    mtime_ns=prepared.source.mtime_ns,
                    content_hash=prepared.source.content_hash,
                    language=language_for(prepared.file.path),
                    skip_reason=None,
                    chunks=prepared.chunks,
                    vectors=matrix,
                )
            with timer("faiss"):
                self.vectors.remove(removed)
                if matrix is not None:
                    self.vectors.add(np.array(added, dtype=np.int64), matrix)
            if prepared.is_new:
                report.files_added += 1
            else:
                report.files_changed += 1
        report.chunks_reused += sum(len(p.chunks) for p in pending) - len(missing)

    # searching

    def search(
        self,
        query: str,
        embedder: Embedder | None,
        k: int = 10,
        filters: SearchFilters | None = None,
        *,
        mode: SearchMode = "hybrid",
    ) -> list[SearchHit]:
        """The k best chunks for `query` (plain text: parse query syntax with
        `gte_search.query.parse_query` first) that pass `filters`.

        `mode` is "semantic" (cosine similarity of GTE vectors), "lexical" (FTS5 bm25 over
        code-aware tokens; needs no embedder) or "hybrid" (both, fused by `gte_search.rank`).
        """
        if mode not in SEARCH_MODES:
            raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
        if not query.strip() or k < 1:
            return []
        allowed = self.store.filtered_chunk_ids(filters) if filters else None
        if mode == "lexical":
            return self._hits(search_lexical(self.store.db, query, k, allowed))
        if embedder is None:
            raise ValueError(f"{mode} search needs an embedder")
        if mode == "semantic":
            return self._hits(self.vectors.search(embedder.embed_query(query), k, allowed))
        depth = max(FUSION_DEPTH, 2 * k)
        vector = self.vectors.search(embedder.embed_query(query), depth, allowed)
        lexical = search_lexical(self.store.db, query, depth, allowed)
        rankings = [[i for i, _ in vector], [i for i, _ in lexical]]
        stored = self.store.chunks_by_id(list({i for ranking in rankings for i in ranking}))

        def definition_of(chunk_id: int) -> Hashable:
            found = stored.get(chunk_id)
            if found is None or not found.chunk.symbol:
                return chunk_id
            return (found.root, found.chunk.path, found.chunk.symbol)

        fused = fuse_by_definition(rankings, definition_of)
        names = named_symbols(query)
        for chunk_id, found in stored.items():
            if found.chunk.kind == "code" and names_symbol(found.chunk.symbol, names):
                fused[chunk_id] += SYMBOL_BOOST
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
        return without_overlaps(self._hits(ranked, stored))[:k]

    def _hits(
        self, ranked: list[tuple[int, float]], stored: dict[int, StoredChunk] | None = None
    ) -> list[SearchHit]:
        if stored is None:
            stored = self.store.chunks_by_id([chunk_id for chunk_id, _ in ranked])
        hits = []
        for chunk_id, score in ranked:
            found = stored.get(chunk_id)
            if found is None:
                continue
            chunk = found.chunk
            hits.append(
                SearchHit(
                    path=chunk.path,
                    root=found.root,
                    start_line=chunk.start_line,
                    end_line=chunk.end_line,
                    score=round(score, 6),
                    kind=chunk.kind,
                    language=chunk.language,
                    symbol=chunk.symbol,
                    text=chunk.text,
                )
            )
        return hits

    def status(self) -> IndexStatus:
        size = sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file())
        return IndexStatus(
            directory=self.directory,
            roots=self.store.roots(),
            files=self.store.count("files", "WHERE skip_reason IS NULL"),
            chunks=self.store.count("chunks"),
            skipped=self.store.skipped_files(),
            model=self.model,
            size_bytes=size,
        )


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _needs_reading(state: FileState, item: WalkedFile, max_bytes: int) -> bool:
    """Whether a known file must be read again: its stat changed, or its last reading may
    come out differently now (it was unreadable, or the size limit changed)."""
    if (state.size, state.mtime_ns) != (item.size, item.mtime_ns):
        return True
    reason = state.skip_reason
    if reason is None:
        return item.size > max_bytes
    if reason.startswith("too large"):
        return item.size <= max_bytes
    return reason.startswith(_TRANSIENT_REASONS)


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
    return WalkProblem(shown, "file name is not valid UTF-8", unreadable=False)
