"""Scale benchmark: FAISS flat vs IVF on synthetic unit vectors (384-d, like MiniLM/gte-small).

    python benchmarks/scale.py                  # 100k vectors
    python benchmarks/scale.py --sizes 100000,1000000

Vectors are drawn around random centres (real embeddings cluster by topic; uniform random
vectors have no structure and are the worst case for any IVF index). Queries are stored
vectors plus noise. Prints build time, memory, p50/p95 latency of one query at a time, and
recall@10 against exact search.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import faiss
import numpy as np

from gte_search.vectors import VectorIndex, recall_at_k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated vector counts")
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="flat,ivf")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min), "
        f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads"
    )
    print(
        f"{'vectors':>9} {'index':<5} {'build s':>8} {'MiB':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'recall@10':>9} {'nprobe':>7}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        rng = np.random.default_rng(0)
        vectors = _clustered(rng, size, args.dimension)
        ids = np.arange(1, size + 1, dtype=np.int64)
        queries = vectors[rng.choice(size, args.queries, replace=False)]
        queries = _normalise(queries + rng.normal(0, 0.5 / np.sqrt(args.dimension), queries.shape))
        _, rows = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
        exact = ids[rows]
        for kind in args.kinds.split(","):
            before = _rss_mib()
            started = time.perf_counter()
            index = VectorIndex.build(args.dimension, _batches(ids, vectors), kind)
            build = time.perf_counter() - started
            memory = _rss_mib() - before
            latencies = []
            for query in queries:
                started = time.perf_counter()
                index.search(query, 10)
                latencies.append((time.perf_counter() - started) * 1000)
            if index.kind == "ivf":
                nprobe = index.index.nprobe
                recall = recall_at_k(index.index, queries, exact, nprobe)
            else:
                nprobe, recall = "-", _flat_recall(index, queries, exact)
            print(
                f"{size:>9} {kind:<5} {build:>8.1f} {memory:>7.0f} "
                f"{statistics.median(latencies):>7.2f} {np.percentile(latencies, 95):>7.2f} "
                f"{recall:>9.3f} {nprobe:>7}",
                flush=True,
            )
            del index


def _clustered(rng: np.random.Generator, size: int, dimension: int) -> np.ndarray:
    centres = rng.normal(size=(max(1, size // 100), dimension)).astype(np.float32)
    out = np.empty((size, dimension), dtype=np.float32)
    step = 100_000
    for start in range(0, size, step):
        count = min(step, size - start)
        picked = centres[rng.integers(0, len(centres), count)]
        out[start : start + count] = _normalise(
            picked + rng.normal(size=(count, dimension)).astype(np.float32)
        )
    return out


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _batches(ids: np.ndarray, vectors: np.ndarray, step: int = 50_000):
    for start in range(0, len(ids), step):
        yield ids[start : start + step], vectors[start : start + step]


def _flat_recall(index: VectorIndex, queries: np.ndarray, exact: np.ndarray) -> float:
    found = [[i for i, _ in index.search(q, 10)] for q in queries]
    return (
        sum(len(set(f) & set(e)) for f, e in zip(found, exact.tolist(), strict=True)) / exact.size
    )


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1_048_576


if __name__ == "__main__":
    main()
