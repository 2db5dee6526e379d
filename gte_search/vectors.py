"""The FAISS index: derived from the SQLite vectors, saved atomically, rebuilt when in doubt."""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import faiss
import numpy as np

# A FAISS file starts with the fourcc of its outer index: an IndexIDMap2 over a flat index,
# or an IndexIVFFlat (which keeps chunk ids itself, and supports add/remove by id).
_ID_MAP2_MAGIC = b"IxM2"
_IVF_FLAT_MAGIC = b"IwFl"
_FLAT_IP_MAGIC = b"IxFI"
# Each index header: fourcc, d (int32), ntotal (int64), two unused int64, is_trained (1 byte),
# metric (int32). An IndexIDMap2 of an IndexFlatIP is two headers, the vectors as a
# length-prefixed float array, then the ids as a length-prefixed int64 array.
_HEADER = struct.Struct("<4siqqqbi")
IndexKind = Literal["auto", "flat", "ivf"]
# Exact search scans every vector: ~15 ms per query at 200k x 384 on 2 cores. Above this an
# IVF index scans only the `nprobe` nearest of its lists (benchmarks/scale.py).
IVF_THRESHOLD = 200_000
# One query scans its vectors on one thread: FAISS's OpenMP threads wait for each other by
# spinning, so beside a compiler or a test run a 1 ms search took ~100 ms with one thread
# per core (benchmarks/busy_latency.py). None leaves FAISS's own setting (all cores), which
# builds, training and calibration keep.
SEARCH_THREADS: int | None = 1
# nprobe is the smallest power of two whose recall@10 against exact search reaches this.
TARGET_RECALL = 0.95
_CALIBRATION_QUERIES = 200


class VectorIndex:
    """Inner-product search over unit vectors (so scores are cosine), keyed by chunk id."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self.index = index or faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._gpu_index: faiss.Index | None = None

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def kind(self) -> str:
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    def ids(self) -> np.ndarray:
        if isinstance(self.index, faiss.IndexIVF):
            lists = self.index.invlists
            parts = [
                faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                for i in range(lists.nlist)
                if lists.list_size(i)
            ]
            ids = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        else:
            ids = faiss.vector_to_array(self.index.id_map)
        return np.sort(ids.astype(np.int64))

    def wants(self, kind: str) -> bool:
        """Whether this index is of the type `kind` asks for at its present size."""
        return self.kind == resolve_kind(kind, len(self))

    @classmethod
    def build(
        cls,
        dimension: int,
        batches: Iterable[tuple[np.ndarray, np.ndarray]],
        kind: str = "auto",
    ) -> VectorIndex:
        """A new index over (ids, vectors) batches, of the type `kind` asks for at that size."""
        pairs = list(batches)
        ids = np.concatenate([i for i, _ in pairs]) if pairs else np.empty(0, dtype=np.int64)
        if resolve_kind(kind, len(ids)) == "flat":
            built = cls(dimension)
            for batch_ids, vectors in pairs:
                built.add(batch_ids, vectors)
            return built
        vectors = np.ascontiguousarray(np.concatenate([v for _, v in pairs]), dtype=np.float32)
        del pairs
        return cls(dimension, build_ivf(ids.astype(np.int64), vectors))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
            self._gpu_index = None

    def remove(self, ids: Iterable[int]) -> None:
        doomed = np.fromiter(ids, dtype=np.int64)
        if len(doomed):
            self.index.remove_ids(doomed)
            self._gpu_index = None

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The `k` nearest chunk ids with their cosine similarity, best first; only ids in
        `allowed` when it is given, so filters apply before the cut."""
        if len(self) == 0 or k <= 0 or (allowed is not None and len(allowed) == 0):
            return []
        params = None
        if isinstance(self.index, faiss.IndexIVF):
            # A filter may keep few vectors, and none in the nearest lists: scan every list
            # (as costly as exact search, and as complete).
            params = faiss.SearchParametersIVF(
                nprobe=self.index.nlist if allowed is not None else self.index.nprobe
            )
            if allowed is not None:
                params.sel = faiss.IDSelectorBatch(allowed)
        elif allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        # GPU indexes take no id selector; a filtered search runs on the CPU copy.
        searcher = self.index if params is not None else self._searcher()
        with omp_threads(SEARCH_THREADS):
            scores, ids = searcher.search(
                np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32),
                min(k, len(self)),
                params=params,
            )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]

    def _searcher(self) -> faiss.Index:
        if not gpu_count():
            return self.index
        if self._gpu_index is None:
            self._gpu_index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, self.index)
        return self._gpu_index

    def save(self, path: Path) -> None:
        """Write to a temporary file, fsync, then rename: a crash never leaves half a file."""
        temporary = path.with_name(path.name + ".tmp")
        faiss.write_index(self.index, str(temporary))
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path, dimension: int) -> VectorIndex | None:
        """The saved index, or None when it is missing or not a valid index of this dimension."""
        try:
            if not _layout_is_complete(path, dimension):
                return None
            index = faiss.read_index(str(path))
        except (OSError, RuntimeError):
            return None
        if index.d != dimension or not isinstance(index, faiss.IndexIDMap2 | faiss.IndexIVFFlat):
            return None
        return cls(dimension, index)


@contextmanager
def omp_threads(count: int | None) -> Iterator[None]:
    """FAISS's OpenMP threads set to `count` inside, restored after (None: unchanged)."""
    if count is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def resolve_kind(kind: str, size: int) -> str:
    if size == 0:  # nothing to train an IVF index on yet
        return "flat"
    if kind == "auto":
        return "ivf" if size > IVF_THRESHOLD else "flat"
    return kind


def build_ivf(ids: np.ndarray, vectors: np.ndarray, seed: int = 0) -> faiss.IndexIVFFlat:
    """An IVF index over `vectors` (unit rows) keyed by `ids`, with ~4 sqrt(n) lists trained
    on a sample, and `nprobe` calibrated against exact search on stored vectors."""
    count, dimension = vectors.shape
    nlist = max(1, min(int(4 * math.sqrt(count)), count // 39))
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()
    rng = np.random.default_rng(seed)
    sample = min(count, 64 * nlist)
    training = vectors[np.sort(rng.choice(count, sample, replace=False))]
    index.train(training)
    index.add_with_ids(vectors, ids)
    index.nprobe = calibrate_nprobe(index, ids, vectors, rng)
    return index


def calibrate_nprobe(
    index: faiss.IndexIVF,
    ids: np.ndarray,
    vectors: np.ndarray,
    rng: np.random.Generator,
    k: int = 10,
) -> int:
    """The smallest power-of-two nprobe with recall@k >= TARGET_RECALL against exact search.
    Queries are stored vectors with noise added, so a vector does not simply find itself."""
    count, dimension = vectors.shape
    picks = rng.choice(count, min(_CALIBRATION_QUERIES, count), replace=False)
    noise = rng.normal(0, 0.5 / math.sqrt(dimension), (len(picks), dimension))
    queries = vectors[picks] + noise
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    k = min(k, count)
    _, rows = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    exact = ids[rows]
    nprobe = 1
    while nprobe < index.nlist:
        if recall_at_k(index, queries, exact, nprobe) >= TARGET_RECALL:
            return nprobe
        nprobe *= 2
    return int(index.nlist)


def recall_at_k(index: faiss.Index, queries: np.ndarray, exact: np.ndarray, nprobe: int) -> float:
    """The share of the exact top-k ids (rows of `exact`) that `index` finds at `nprobe`."""
    k = exact.shape[1]
    _, found = index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
    hits = sum(len(set(f) & set(e)) for f, e in zip(found.tolist(), exact.tolist(), strict=True))
    return hits / exact.size


def gpu_count() -> int:
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


def _layout_is_complete(path: Path, dimension: int) -> bool:
    """Whether the file is a whole IndexIDMap2(IndexFlatIP), or a plausible IndexIVFFlat, of
    `dimension`, judged by headers and size: FAISS itself may abort or allocate wildly on a
    truncated or garbage file."""
    with path.open("rb") as handle:
        head = handle.read(2 * _HEADER.size)
        size = os.fstat(handle.fileno()).st_size
    if len(head) < 2 * _HEADER.size:
        return False
    outer = _HEADER.unpack_from(head, 0)
    if outer[0] == _IVF_FLAT_MAGIC:
        # Its inverted lists hold every vector and id; the exact layout varies by version.
        count = outer[2]
        return bool(outer[1] == dimension and count >= 0 and size >= count * (dimension * 4 + 8))
    inner = _HEADER.unpack_from(head, _HEADER.size)
    if (outer[0], inner[0]) != (_ID_MAP2_MAGIC, _FLAT_IP_MAGIC):
        return False
    if outer[1] != dimension or inner[1] != dimension or outer[2] != inner[2] or outer[2] < 0:
        return False
    count = outer[2]
    return bool(size == 2 * _HEADER.size + 8 + count * dimension * 4 + 8 + count * 8)
