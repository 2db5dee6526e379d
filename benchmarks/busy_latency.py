"""Warm query latency, idle and beside two CPU-bound processes, per thread setting.

People search while a compiler or a test run loads the CPU. Thread pools that spin (FAISS's
OpenMP, torch's intra-op pool) then fight that load for work that needs a millisecond. This
times, in one process and one run (so ratios hold on a noisy machine):

- search: `SearchIndex.search` (hybrid: query encoding + FAISS + SQLite + ranking) over the
  queries of tests/sample_queries.md, like `search --batch`, per query encoder (ONNX, torch)
  and thread setting (FAISS single-query threads, encoder threads);
- faiss: one exact single-query search over a synthetic 100k x 384 index;
- index: torch embedding throughput of chunk-sized texts, all cores vs one thread.

Each setting prints p50/p95 idle and with two busy processes (`python -c 'while 1: pass'`),
and the busy/idle ratio of p50 (target for the chosen setting: <= 2).

    python benchmarks/busy_latency.py --index /tmp/x     # an index of sample_repos
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gte_search import vectors  # noqa: E402
from gte_search.index import SearchIndex  # noqa: E402
from gte_search.models import EmbeddingModel, resolve_model  # noqa: E402


@contextmanager
def busy(count: int) -> Iterator[None]:
    """`count` CPU-bound processes running beside the block."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(count)]
    time.sleep(0.5)  # let the scheduler see them
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def measure(run: Callable[[], object], repeats: int) -> list[float]:
    run()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def sample_queries() -> list[str]:
    text = (REPO / "tests" / "sample_queries.md").read_text()
    return re.findall(r"^\| \d+ \| ([^|]+?) \|", text, re.MULTILINE)[:30]


def report(name: str, idle: list[float], loaded: list[float]) -> None:
    idle_p50, idle_p95 = percentiles(idle)
    busy_p50, busy_p95 = percentiles(loaded)
    print(
        f"{name:<44} idle p50 {idle_p50:7.2f} p95 {idle_p95:7.2f} | 2 busy p50 {busy_p50:7.2f} "
        f"p95 {busy_p95:7.2f} ms | ratio {busy_p50 / idle_p50:5.1f}x",
        flush=True,
    )


def both(run: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    idle = measure(run, repeats)
    with busy(2):
        loaded = measure(run, repeats)
    return idle, loaded


def search_settings(index: SearchIndex, queries: list[str], rounds: int) -> None:
    import torch

    from gte_search.embed import Embedder
    from gte_search.query_encoder import OnnxQueryEncoder, export_dir, prepare_query_encoder

    model = index.model
    assert model is not None
    source = resolve_model(model.model_id, named_by_user=True)
    index.load_vectors()
    cores = len(os.sched_getaffinity(0))
    encoders: list[tuple[str, Callable[[], EmbeddingModel]]] = []
    if prepare_query_encoder(source):
        for threads in (cores, 1):
            encoders.append(
                (
                    f"onnx x{threads}",
                    lambda t=threads: OnnxQueryEncoder(export_dir(source), threads=t),
                )
            )
    torch_embedder = Embedder(source, precision="fp32")
    for threads in (cores, 1):

        def with_threads(t: int = threads) -> EmbeddingModel:
            torch.set_num_threads(t)
            return torch_embedder

        encoders.append((f"torch x{threads}", with_threads))
    for name, make in encoders:
        embedder = make()
        # torch is slow enough that only the default pair and the chosen pair are timed.
        for faiss_threads in (
            (None, 1) if name.startswith("onnx") else (None,) if " x1" not in name else (1,)
        ):
            vectors.SEARCH_THREADS = faiss_threads

            def run(embedder: EmbeddingModel = embedder) -> None:
                for query in queries:
                    index.search(query, embedder, 10)

            idle, loaded = both(run, rounds)
            per_query = len(queries)
            label = f"search {name}, faiss x{faiss_threads or cores}"
            report(label, [t / per_query for t in idle], [t / per_query for t in loaded])
    vectors.SEARCH_THREADS = 1
    torch.set_num_threads(cores)


def faiss_settings(count: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    data = rng.standard_normal((count, 384)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    built = vectors.VectorIndex.build(384, [(np.arange(count, dtype=np.int64), data)], "flat")
    query = data[0]
    cores = len(os.sched_getaffinity(0))
    for threads in (None, 1):
        vectors.SEARCH_THREADS = threads
        idle, loaded = both(lambda: built.search(query, 80), repeats)
        report(f"faiss {count // 1000}k flat, x{threads or cores}", idle, loaded)
    vectors.SEARCH_THREADS = 1


def index_settings(source_id: str, texts: int) -> None:
    import torch

    from gte_search.embed import Embedder

    embedder = Embedder(resolve_model(source_id, named_by_user=True))
    chunk = " ".join(["def handler(request): return parse(request.headers)"] * 12)
    batch = [f"{i} {chunk}" for i in range(texts)]
    cores = len(os.sched_getaffinity(0))
    for threads in (cores, 1):
        torch.set_num_threads(threads)
        idle, loaded = both(lambda: embedder.embed(batch), 3)
        rate_idle = texts / (statistics.median(idle) / 1000)
        rate_busy = texts / (statistics.median(loaded) / 1000)
        print(
            f"index: torch {embedder.precision} x{threads}: {rate_idle:6.1f} chunks/s idle, "
            f"{rate_busy:6.1f} with 2 busy",
            flush=True,
        )
    torch.set_num_threads(cores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index (of sample_repos)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the queries")
    parser.add_argument("--queries", type=int, default=10, help="how many sample queries")
    parser.add_argument("--skip-index", action="store_true", help="skip the embedding part")
    args = parser.parse_args()
    print(
        f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.2f} "
        "before (other work on the machine inflates both columns)"
    )
    index = SearchIndex.open(args.index)
    queries = sample_queries()[: args.queries]
    print(f"{len(queries)} queries x {args.rounds} rounds; times are per query")
    search_settings(index, queries, args.rounds)
    faiss_settings(100_000, 30)
    if not args.skip_index:
        assert index.model is not None
        index_settings(index.model.model_id, 32)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
