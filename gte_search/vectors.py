"""The FAISS index: derived from the SQLite vectors, saved atomically, rebuilt when in doubt."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

# A FAISS file starts with the fourcc of its outer index; ours is always an IndexIDMap2.
_ID_MAP2_MAGIC = b"IxM2"
_FLAT_IP_MAGIC = b"IxFI"
# Each index header: fourcc, d (int32), ntotal (int64), two unused int64, is_trained (1 byte),
# metric (int32). An IndexIDMap2 of an IndexFlatIP is two headers, the vectors as a
# length-prefixed float array, then the ids as a length-prefixed int64 array.
_HEADER = struct.Struct("<4siqqqbi")


class VectorIndex:
    """Inner-product search over unit vectors (so scores are cosine), keyed by chunk id."""

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self.index = index or faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._gpu_index: faiss.Index | None = None

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> np.ndarray:
        return np.sort(faiss.vector_to_array(self.index.id_map).astype(np.int64))

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
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        # GPU indexes take no id selector; a filtered search runs on the CPU copy.
        searcher = self.index if allowed is not None else self._searcher()
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
        if index.d != dimension or not isinstance(index, faiss.IndexIDMap2):
            return None
        return cls(dimension, index)


def gpu_count() -> int:
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


def _layout_is_complete(path: Path, dimension: int) -> bool:
    """Whether the file is a whole IndexIDMap2(IndexFlatIP) of `dimension`, judged by its
    headers and size: FAISS itself may abort or allocate wildly on a truncated or garbage file."""
    with path.open("rb") as handle:
        head = handle.read(2 * _HEADER.size)
        size = os.fstat(handle.fileno()).st_size
    if len(head) < 2 * _HEADER.size:
        return False
    outer = _HEADER.unpack_from(head, 0)
    inner = _HEADER.unpack_from(head, _HEADER.size)
    if (outer[0], inner[0]) != (_ID_MAP2_MAGIC, _FLAT_IP_MAGIC):
        return False
    if outer[1] != dimension or inner[1] != dimension or outer[2] != inner[2] or outer[2] < 0:
        return False
    count = outer[2]
    return size == 2 * _HEADER.size + 8 + count * dimension * 4 + 8 + count * 8
