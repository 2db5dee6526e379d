"""The library API: open an index, add roots to it, search it, describe it.

The CLI, the TUI and the tests all go through `SearchIndex`; none of them touch SQLite or
FAISS directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gte_search.lexical import named_symbols, search_lexical
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
    text_hash,
)
from gte_search.vectors import VectorIndex
from indexer.chunk import chunk_file
from indexer.chunks import Chunk
from indexer.languages import language_for
from indexer.read import Skipped, SourceText, read_source
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
# How deep each ranking goes before hybrid search fuses them (at least 2k).
FUSION_DEPTH = 80


class IndexProblem(Exception):
    """A user-facing problem with an index: missing, unreadable, or built with another model."""


@dataclass
class IndexReport:
    model_id: str
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_skipped: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    problems: list[WalkProblem] = field(default_factory=list)

    @property
    def chunks(self) -> int:
        return self.chunks_embedded + self.chunks_reused


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

    def advance(self, files: int) -> None: ...


@dataclass
class _PreparedFile:
    root_id: int
    file: WalkedFile
    source: SourceText
    chunks: list[Chunk]


class SearchIndex:
    def __init__(self, directory: Path, store: Store) -> None:
        self.directory = directory
        self.store = store
        self.notices: list[str] = []
        self._vectors: VectorIndex | None = None

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
        self.store.close()

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
            loaded = VectorIndex.load(self.directory / VECTORS_NAME, dimension)
            stored_ids = self.store.vector_ids()
            if loaded is not None and np.array_equal(loaded.ids(), stored_ids):
                self._vectors = loaded
            else:
                if len(stored_ids):
                    self.notices.append(
                        "the vector index was missing or out of date; rebuilt it from the database"
                    )
                self._vectors = self._rebuild_vectors(dimension)
        return self._vectors

    def _rebuild_vectors(self, dimension: int) -> VectorIndex:
        rebuilt = VectorIndex(dimension)
        for ids, vectors in self.store.iter_vectors():
            rebuilt.add(ids, vectors)
        if dimension:
            rebuilt.save(self.directory / VECTORS_NAME)
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
        self.store.clear()
        (self.directory / VECTORS_NAME).unlink(missing_ok=True)
        self._vectors = None

    def update(
        self,
        roots: Sequence[Path],
        embedder: Embedder,
        progress: Progress | None = None,
    ) -> IndexReport:
        """Bring the index up to date with `roots`: new and changed files are chunked and
        embedded, unchanged ones kept, vanished ones dropped."""
        started = time.perf_counter()
        progress = progress or Progress()
        current = self.model
        if current is None:
            self.store.set_model(
                IndexModel(embedder.model_id, embedder.dimension, embedder.pooling)
            )
            self._vectors = None
        elif current.model_id != embedder.model_id:
            raise IndexProblem(f"this index was built with {current.model_id}")
        # Load (or rebuild) FAISS before SQLite changes, so the two move in step from here on.
        _ = self.vectors
        report = IndexReport(embedder.model_id)
        # Chunks are priced with the model's own tokenizer, so none is truncated when embedded.
        chunker = partial(
            chunk_file,
            max_tokens=min(CHUNK_TOKEN_BUDGET, embedder.max_tokens),
            count_lines=embedder.count_line_tokens,
        )
        for root in roots:
            self._update_root(root.resolve(), embedder, chunker, progress, report)
        self.vectors.save(self.directory / VECTORS_NAME)
        report.seconds = time.perf_counter() - started
        return report

    def _update_root(
        self,
        root: Path,
        embedder: Embedder,
        chunker: Chunker,
        progress: Progress,
        report: IndexReport,
    ) -> None:
        if not root.is_dir():
            raise IndexProblem(f"{root} is not a directory")
        found = list(walk(root, excluded_paths=(self.directory,)))
        files = [item for item in found if isinstance(item, WalkedFile)]
        if not files and str(root) not in self.store.roots():
            raise IndexProblem(f"{root} holds no files to index")
        root_id = self.store.add_root(root)
        known = self.store.file_states(root_id)
        report.problems += [item for item in found if isinstance(item, WalkProblem)]
        progress.start_root(root, len(files))
        pending: list[_PreparedFile] = []
        for item in files:
            prepared = self._prepare(root_id, item, known.get(item.path), chunker, report)
            if prepared is None:
                progress.advance(1)
                continue
            pending.append(prepared)
            if sum(len(p.chunks) for p in pending) >= EMBED_GROUP_CHUNKS:
                self._embed_and_store(pending, embedder, report)
                progress.advance(len(pending))
                pending = []
        self._embed_and_store(pending, embedder, report)
        progress.advance(len(pending))
        vanished = set(known) - {item.path for item in files}
        self.vectors.remove(self.store.remove_files(root_id, vanished))
        report.files_removed += len(vanished)

    def _prepare(
        self,
        root_id: int,
        item: WalkedFile,
        state: FileState | None,
        chunker: Chunker,
        report: IndexReport,
    ) -> _PreparedFile | None:
        """Read and chunk a file that changed; None when there is nothing to embed."""
        if state and (state.size, state.mtime_ns) == (item.size, item.mtime_ns):
            report.files_unchanged += 1
            return None
        source = read_source(item.absolute)
        if isinstance(source, Skipped):
            removed, _ = self.store.replace_file(
                root_id,
                item.path,
                size=item.size,
                mtime_ns=item.mtime_ns,
                content_hash=None,
                language=language_for(item.path),
                skip_reason=source.reason,
            )
            self.vectors.remove(removed)
            report.files_skipped += 1
            return None
        if state and state.content_hash == source.content_hash:
            self.store.touch_file(state.id, item.size, item.mtime_ns)
            report.files_unchanged += 1
            return None
        return _PreparedFile(root_id, item, source, chunker(item.path, source.text))

    def _embed_and_store(
        self, pending: list[_PreparedFile], embedder: Embedder, report: IndexReport
    ) -> None:
        texts = {text_hash(c.embedding_text): c.embedding_text for p in pending for c in p.chunks}
        known = self.store.vectors_for_texts(texts)
        # Identical texts (licence headers, repeated boilerplate) are embedded once.
        missing = [digest for digest in texts if digest not in known]
        fresh = embedder.embed([texts[digest] for digest in missing])
        known.update(zip(missing, fresh, strict=True))
        report.chunks_embedded += len(missing)
        for prepared in pending:
            hashes = [text_hash(c.embedding_text) for c in prepared.chunks]
            matrix = np.stack([known[h] for h in hashes]) if hashes else None
            removed, added = self.store.replace_file(
                prepared.root_id,
                prepared.file.path,
                size=prepared.file.size,
                mtime_ns=prepared.file.mtime_ns,
                content_hash=prepared.source.content_hash,
                language=language_for(prepared.file.path),
                skip_reason=None,
                chunks=prepared.chunks,
                vectors=matrix,
            )
            self.vectors.remove(removed)
            if matrix is not None:
                self.vectors.add(np.array(added, dtype=np.int64), matrix)
            report.files_indexed += 1
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
