"""The second phase of an update: embed the chunks stored without vectors.

An update stores every changed file's chunks first (phase 1, `gte_search.indexing`), so their
words are searchable within seconds; their vectors follow here, a batch at a time. Each batch
is one SQLite transaction, added to the vector cache after it commits, so a run killed at any
moment leaves every chunk either with its vector or pending, and the next run embeds only the
pending ones, whichever run stored them.
"""

from __future__ import annotations

import numpy as np

from gte_search.models import EmbeddingModel
from gte_search.pipeline import Progress, StageTimer
from gte_search.reports import IndexReport
from gte_search.store import PendingChunk, Store
from gte_search.vector_cache import VectorCache

# Chunks embedded and committed together: large enough for length-sorted batching to pay,
# small enough that a kill loses little and the vectors searched grow steadily.
FILL_BATCH_CHUNKS = 256


def fill_vectors(
    store: Store,
    cache: VectorCache,
    embedder: EmbeddingModel,
    progress: Progress,
    timer: StageTimer,
    report: IndexReport,
) -> None:
    """Embed every pending chunk of the index, committing a batch at a time."""
    with timer("store"):
        chunks, vectors = store.vector_progress()
    report.chunks_pending = chunks - vectors
    if report.chunks_pending:
        progress.start_embedding(vectors, chunks)
    # An embedder with a fixed cost per call (a Ray job starts its actors) asks for larger
    # batches; the default suits the in-process one.
    batch_chunks: int = getattr(embedder, "group_chunks", FILL_BATCH_CHUNKS)
    after = 0
    while report.chunks_pending > 0:  # each batch takes its share off
        with timer("store"):
            batch = store.pending_chunks(after, batch_chunks)
        if not batch:
            return
        _fill_batch(store, cache, embedder, progress, timer, report, batch)
        after = batch[-1].id


def _fill_batch(
    store: Store,
    cache: VectorCache,
    embedder: EmbeddingModel,
    progress: Progress,
    timer: StageTimer,
    report: IndexReport,
    batch: list[PendingChunk],
) -> None:
    texts = {chunk.text_hash: chunk.embedding_text for chunk in batch}
    # A text embedded by an earlier batch (or shared with a chunk stored before) is reused:
    # identical texts (licence headers, repeated boilerplate) are embedded once.
    with timer("store"):
        known = store.vectors_for_texts(texts)
    missing = [digest for digest in texts if digest not in known]
    # The bar moves with each embedded model batch, not only when this batch is committed.
    chunks_per_text = len(batch) / len(missing) if missing else 0.0
    with timer("embed"):
        fresh = embedder.embed(
            [texts[digest] for digest in missing],
            on_batch=lambda count: progress.embedded(count * chunks_per_text),
        )
    if not missing:
        progress.embedded(len(batch))
    known.update(zip(missing, fresh, strict=True))
    ids = [chunk.id for chunk in batch]
    matrix = np.stack([known[chunk.text_hash] for chunk in batch])
    with timer("store"):
        store.add_vectors(ids, matrix)
    with timer("faiss"):
        cache.add(ids, matrix)
    report.chunks_embedded += len(missing)
    report.chunks_pending -= len(batch)
    report.chunks_reused += len(batch) - len(missing)
