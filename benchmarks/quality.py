"""Retrieval quality: chunk-level NDCG@10 and MRR@10 per search mode and query kind.

    python benchmarks/quality.py [--cache DIR] [--json]

Query sets are the JSON files in benchmarks/queries/. Each names its corpus: a folder of this
repository (`sample_repos`) or a pinned sdist (`requests==2.32.3`) that is fetched with
`pip download --no-binary :all: --no-deps` and unpacked into the cache folder when missing.
All corpora go into one index in the cache folder, embedded with the bundled
all-MiniLM-L6-v2 weights; a second run only re-checks the files. Each query is searched
under a `root` filter for its own corpus.

A result is relevant when its file is the annotated file and its lines overlap the annotated
lines (an annotation without lines matches any chunk of the file). NDCG@10 uses binary gains;
its ideal ranking puts every relevant chunk of the index first, so a definition cut into
three chunks is found fully only when all three are in the top 10. MRR@10 is 1/rank of the
first relevant result (0 when none is in the top 10).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tarfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from gte_search.embed import Embedder
from gte_search.hits import SEARCH_MODES, SearchHit
from gte_search.index import SearchIndex
from gte_search.models import BUNDLED_MODEL_ID, resolve_model
from gte_search.query import make_filters

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
QUERIES = HERE / "queries"
KINDS = ("behaviour", "architecture", "symbol", "docs")
MODES = ("lexical", "semantic", "hybrid")
CUTOFF = 10


@dataclass(frozen=True)
class Query:
    corpus: str
    text: str
    kind: str
    path: str
    lines: tuple[int, int] | None

    def matches(self, path: str, start: int, end: int) -> bool:
        if path != self.path:
            return False
        return self.lines is None or (start <= self.lines[1] and self.lines[0] <= end)


def load_query_sets(folder: Path) -> dict[str, tuple[dict, list[Query]]]:
    sets = {}
    for file in sorted(folder.glob("*.json")):
        data = json.loads(file.read_text())
        queries = [
            Query(
                data["corpus"],
                item["query"],
                item["kind"],
                item["path"],
                tuple(item["lines"]) if item.get("lines") else None,
            )
            for item in data["queries"]
        ]
        unknown = {q.kind for q in queries} - set(KINDS)
        if unknown:
            raise SystemExit(f"{file}: unknown query kinds {sorted(unknown)}")
        sets[data["corpus"]] = (data["source"], queries)
    return sets


def corpus_root(source: dict, cache: Path) -> Path:
    """The folder a corpus lives in, fetching and unpacking a pinned sdist when missing."""
    if "path" in source:
        return (REPOSITORY / source["path"]).resolve()
    name, version = source["pip"].split("==")
    root = cache / f"{name}-{version}"
    if root.is_dir():
        return root.resolve()
    sdists = cache / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    archive = next(sdists.glob(f"{name}-{version}.tar.gz"), None)
    if archive is None:
        print(f"fetching {source['pip']} ...", file=sys.stderr)
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:"]
        subprocess.run([*pip, "--no-deps", source["pip"], "--dest", str(sdists)], check=True)
        archive = sdists / f"{name}-{version}.tar.gz"
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")
    return root.resolve()


def relevant_count(index: SearchIndex, root: Path, query: Query) -> int:
    rows = index.store.db.execute(
        "SELECT c.start_line, c.end_line FROM chunks c JOIN files f ON f.id = c.file_id "
        "JOIN roots r ON r.id = f.root_id WHERE r.path = ? AND f.path = ?",
        [str(root), query.path],
    )
    return sum(query.matches(query.path, start, end) for start, end in rows)


def score(hits: list[SearchHit], query: Query, relevant: int) -> tuple[float, float]:
    """(NDCG@10, MRR@10) of one result list."""
    gains = [query.matches(h.path, h.start_line, h.end_line) for h in hits[:CUTOFF]]
    dcg = sum(1 / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1) if gain)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(relevant, CUTOFF) + 1))
    first = next((rank for rank, gain in enumerate(gains, start=1) if gain), None)
    return (dcg / ideal if ideal else 0.0), (1 / first if first else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gte-search-bench")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--json", action="store_true", help="print per-query results as JSON")
    parser.add_argument(
        "--precision", default="fp32", help="model arithmetic (fp32, bf16, int8, auto)"
    )
    args = parser.parse_args()

    sets = load_query_sets(args.queries)
    roots = {corpus: corpus_root(source, args.cache) for corpus, (source, _) in sets.items()}
    embedder = Embedder(
        resolve_model(BUNDLED_MODEL_ID, named_by_user=True), precision=args.precision
    )
    # One index per precision: vectors made at one precision must not be reused for another.
    index = SearchIndex.open(args.cache / f"index-{embedder.precision}", create=True)
    started = time.perf_counter()
    report = index.update(list(roots.values()), embedder)
    print(
        f"index: {index.status().chunks} chunks, {report.chunks_embedded} embedded now, "
        f"{time.perf_counter() - started:.0f}s, {embedder.model_id}",
        file=sys.stderr,
    )

    results: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    per_query = []
    for corpus, (_, queries) in sets.items():
        root = roots[corpus]
        filters = make_filters(roots=(str(root),))
        for query in queries:
            relevant = relevant_count(index, root, query)
            if relevant == 0:
                raise SystemExit(f"{corpus}: no chunk matches the annotation of {query.text!r}")
            row = {"corpus": corpus, "query": query.text, "kind": query.kind}
            for mode in MODES:
                assert mode in SEARCH_MODES
                hits = index.search(query.text, embedder, CUTOFF, filters, mode=mode)
                ndcg, mrr = score(hits, query, relevant)
                for kind in (query.kind, "all"):
                    results[(mode, kind)].append((ndcg, mrr))
                row[mode] = {"ndcg": round(ndcg, 4), "mrr": round(mrr, 4)}
            per_query.append(row)
    if args.json:
        print(json.dumps(per_query, indent=1))
        return
    print_table(results)


def print_table(results: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    header = " | ".join(f"{mode} NDCG | {mode} MRR" for mode in MODES)
    print(f"| kind | queries | {header} |")
    print("|---|---:|" + "---:|" * (2 * len(MODES)))
    for kind in (*KINDS, "all"):
        count = len(results[(MODES[0], kind)])
        if not count:
            continue
        cells = []
        for mode in MODES:
            pairs = results[(mode, kind)]
            cells.append(f"{sum(p[0] for p in pairs) / count:.3f}")
            cells.append(f"{sum(p[1] for p in pairs) / count:.3f}")
        print(f"| {kind} | {count} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
