"""Retrieval quality: NDCG@10 per project, language and query kind, per search method.

    python benchmarks/quality.py [--project NAME ...] [--split tune|held-out|all]
                                 [--cache DIR] [--json FILE] [--misses N] [--check]

Projects are the JSON files in benchmarks/projects/ (format in bench_projects.py): a pinned
git revision, a pinned sdist or a folder of this repository, with annotated queries. Sources
are fetched into the cache (default ~/.cache/gte-search-bench) the way a user would:
`git init` + `git fetch --depth 1 URL REVISION` (or `git clone URL` + `git checkout
REVISION`) for git, `pip download --no-binary :all: --no-deps` + unpack for pip, into
<cache>/src/<name>-<rev12 or version>/. A folder already there is used as it is, so the
cache can be staged in advance. A project's `include` list becomes a `.ignore` in its
checkout, so only those paths are indexed.

Each project has its own index, <cache>/index/<name>/, embedded with the bundled
all-MiniLM-L6-v2 weights; a second run only re-checks the files.

Scoring: a hit is relevant when its file is a target's file and its lines overlap the
target's lines (a target without lines matches any chunk of the file). Each target counts
once, for the first hit that finds it. NDCG@10 has binary gains and an ideal that finds every
target (min(targets, 10)) first; MRR@10 is 1/rank of the first relevant hit, Recall@10 the
share of targets found. Every number is averaged per project, then over projects (a
macro-average, so a project with many queries does not outweigh the others).

The split: a query is held out when sha256(id) % 3 == 0; ranking weights are tuned on the
rest. The overall table always shows tune and held-out separately.

Methods: lexical, semantic, hybrid (plain fusion), hybrid + ranker (every signal in
gte_search.rank.RANKING_SIGNALS, read at run time), and one ablation per signal (all
signals but that one).

--check exits 1 when hybrid + ranker scores below plain hybrid on the held-out queries: a
regression guard for ranking changes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import fmean

from bench_projects import (
    KINDS,
    BenchmarkError,
    Project,
    Query,
    Score,
    checkout,
    load_projects,
    score,
)

from gte_search import rank
from gte_search.embed import Embedder
from gte_search.hits import SearchMode
from gte_search.index import SearchIndex
from gte_search.models import BUNDLED_MODEL_ID, resolve_model

CUTOFF = 10
HYBRID, RANKER = "hybrid", "hybrid + ranker"
SPLITS = ("tune", "held-out", "all")
Hit = tuple[str, int, int]


@dataclass(frozen=True)
class Method:
    name: str
    mode: SearchMode
    signals: tuple[str, ...] | None  # None: every ranking signal


def methods() -> list[Method]:
    signals = rank.RANKING_SIGNALS
    rows = [
        Method("lexical", "lexical", ()),
        Method("semantic", "semantic", ()),
        Method(HYBRID, "hybrid", ()),
        Method(RANKER, "hybrid", None),
    ]
    return rows + [
        Method(f"{RANKER} - {s}", "hybrid", tuple(x for x in signals if x != s)) for s in signals
    ]


@dataclass
class QueryResult:
    project: str
    language: str
    query: Query
    scores: dict[str, Score] = field(default_factory=dict)
    ranked: dict[str, list[Hit]] = field(default_factory=dict)  # top 10 per method


def open_index(project: Project, root: Path, cache: Path, embedder: Embedder) -> SearchIndex:
    """The project's own index, brought up to date with its checkout."""
    suffix = "" if embedder.precision == "fp32" else f"-{embedder.precision}"
    index = SearchIndex.open(cache / "index" / f"{project.name}{suffix}", create=True)
    index.prepare_model(embedder.model_id, rebuild=False)
    for old in index.roots():
        if old != root:  # an earlier pin of the project
            index.remove_root(old)
    started = time.perf_counter()
    report = index.update([root], embedder)
    print(
        f"{project.name}: {index.status().chunks} chunks, {report.chunks_embedded} embedded "
        f"now, {time.perf_counter() - started:.0f}s",
        file=sys.stderr,
    )
    return index


def unmatched_targets(index: SearchIndex, project: Project) -> list[str]:
    """Targets no chunk of the index can match: an annotation to fix, or a file the include
    list leaves out. They still count in the ideal, so they cost the project score."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for path, start, end in index.store.db.execute(
        "SELECT f.path, c.start_line, c.end_line FROM chunks c JOIN files f ON f.id = c.file_id"
    ):
        spans[path].append((start, end))
    return [
        f"{query.id}: {target.path}:{target.lines}"
        for query in project.queries
        for target in query.targets
        if not any(target.matches(target.path, s, e) for s, e in spans.get(target.path, []))
    ]


def run_project(
    project: Project, index: SearchIndex, embedder: Embedder, split: str, rows: list[Method]
) -> list[QueryResult]:
    results = []
    for query in project.queries:
        if split != "all" and query.held_out != (split == "held-out"):
            continue
        result = QueryResult(project.name, project.language, query)
        for method in rows:
            hits = index.search(
                query.text, embedder, CUTOFF, mode=method.mode, signals=method.signals
            )
            ranked = [(h.path, h.start_line, h.end_line) for h in hits]
            result.scores[method.name] = score(ranked, query.targets)
            result.ranked[method.name] = ranked
        results.append(result)
    return results


# ---- averages and tables ----------------------------------------------------------------


def macro(results: Sequence[QueryResult], method: str, metric: str = "ndcg") -> float | None:
    """Mean per project, then mean over projects; None when no query is left."""
    per_project: dict[str, list[float]] = defaultdict(list)
    for result in results:
        per_project[result.project].append(getattr(result.scores[method], metric))
    return fmean(fmean(v) for v in per_project.values()) if per_project else None


def split_of(results: Sequence[QueryResult], split: str) -> list[QueryResult]:
    if split == "all":
        return list(results)
    return [r for r in results if r.query.held_out == (split == "held-out")]


def cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def markdown(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def overall_table(results: Sequence[QueryResult], rows: list[Method]) -> str:
    splits = [s for s in SPLITS if split_of(results, s)]
    header = ["method"] + [f"{s} NDCG@10 ({len(split_of(results, s))})" for s in splits]
    header += ["MRR@10", "Recall@10"]
    body = [
        [m.name]
        + [cell(macro(split_of(results, s), m.name)) for s in splits]
        + [cell(macro(results, m.name, "mrr")), cell(macro(results, m.name, "recall"))]
        for m in rows
    ]
    return markdown(header, body)


def group_table(
    results: Sequence[QueryResult], rows: list[Method], group: Callable[[QueryResult], str]
) -> str:
    """NDCG@10 per group (project, language or kind), each a macro-average over projects."""
    groups: dict[str, list[QueryResult]] = defaultdict(list)
    for result in results:
        groups[group(result)].append(result)
    names = sorted(groups, key=lambda g: (KINDS.index(g) if g in KINDS else len(KINDS), g))
    header = ["method"] + [f"{g} ({len(groups[g])})" for g in names] + [f"all ({len(results)})"]
    body = [
        [m.name] + [cell(macro(groups[g], m.name)) for g in names] + [cell(macro(results, m.name))]
        for m in rows
    ]
    return markdown(header, body)


def misses(results: Sequence[QueryResult], count: int) -> str:
    worst = sorted(results, key=lambda r: (r.scores[RANKER].ndcg, r.query.id))[:count]
    lines = [f"Worst {len(worst)} queries of {RANKER} (NDCG@10):"]
    for r in worst:
        lines.append(f"- {r.query.id} {r.scores[RANKER].ndcg:.3f} [{r.query.kind}] {r.query.text}")
        for rank_, (path, start, end) in enumerate(r.ranked[RANKER][:3], start=1):
            lines.append(f"    {rank_}. {path}:{start}-{end}")
        for t in r.query.targets:
            lines.append(f"    want {t.path}" + (f":{t.lines[0]}-{t.lines[1]}" if t.lines else ""))
    return "\n".join(lines)


def report_json(results: Sequence[QueryResult], rows: list[Method]) -> dict[str, object]:
    def averages(subset: Sequence[QueryResult]) -> dict[str, dict[str, float | None]]:
        return {
            m.name: {k: macro(subset, m.name, k) for k in ("ndcg", "mrr", "recall")} for m in rows
        }

    groups: dict[str, Callable[[QueryResult], str]] = {
        "project": lambda r: r.project,
        "language": lambda r: r.language,
        "kind": lambda r: r.query.kind,
    }
    by: dict[str, dict[str, object]] = {}
    for name, key in groups.items():
        keys = sorted({key(r) for r in results})
        by[name] = {k: averages([r for r in results if key(r) == k]) for k in keys}
    return {
        "signals": list(rank.RANKING_SIGNALS),
        "splits": {s: averages(split_of(results, s)) for s in SPLITS if split_of(results, s)},
        "by": by,
        "queries": [
            {
                "id": r.query.id,
                "project": r.project,
                "kind": r.query.kind,
                "held_out": r.query.held_out,
                "scores": {name: asdict(s) for name, s in r.scores.items()},
                "top3": {name: hits[:3] for name, hits in r.ranked.items()},
            }
            for r in results
        ],
    }


# ---- command line -----------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").split("\n")[4:]),
    )
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gte-search-bench")
    parser.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="NAME",
        help="only this project (repeatable; default: all)",
    )
    parser.add_argument("--split", choices=SPLITS, default="all")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every number here")
    parser.add_argument(
        "--misses", type=int, default=0, metavar="N", help=f"show the N worst queries of {RANKER}"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"exit 1 when {RANKER} is below {HYBRID} on held-out queries",
    )
    parser.add_argument(
        "--precision", default="fp32", help="model arithmetic (fp32, bf16, int8, auto)"
    )
    args = parser.parse_args()
    if args.check and args.split == "tune":
        parser.error("--check compares held-out queries; use --split held-out or all")

    projects = load_projects(names=args.project)
    roots = {p.name: checkout(p, args.cache) for p in projects}
    embedder = Embedder(
        resolve_model(BUNDLED_MODEL_ID, named_by_user=True), precision=args.precision
    )
    rows = methods()
    results: list[QueryResult] = []
    searching = 0.0
    for project in projects:
        with open_index(project, roots[project.name], args.cache, embedder) as index:
            for problem in unmatched_targets(index, project):
                print(f"warning: no chunk can match {problem}", file=sys.stderr)
            started = time.perf_counter()
            results += run_project(project, index, embedder, args.split, rows)
            searching += time.perf_counter() - started
    if not results:
        raise BenchmarkError("no queries in this split")

    print(f"### Overall ({len(projects)} projects, macro-average)\n")
    print(overall_table(results, rows))
    print(f"\n### NDCG@10 per project ({args.split} queries)\n")
    print(group_table(results, rows, lambda r: r.project))
    print(f"\n### NDCG@10 per language ({args.split} queries)\n")
    print(group_table(results, rows, lambda r: r.language))
    print(f"\n### NDCG@10 per kind ({args.split} queries)\n")
    print(group_table(results, rows, lambda r: r.query.kind))
    searches = len(results) * len(rows)
    print(
        f"\n{len(results)} queries x {len(rows)} methods = {searches} searches in "
        f"{searching:.1f}s ({searches / searching:.1f} queries/s), model {embedder.model_id}, "
        f"signals {', '.join(rank.RANKING_SIGNALS) or 'none'}"
    )
    if args.misses:
        print("\n" + misses(results, args.misses))
    if args.json:
        args.json.write_text(json.dumps(report_json(results, rows), indent=1) + "\n")
    if args.check:
        held_out = split_of(results, "held-out")
        ranker, hybrid = macro(held_out, RANKER), macro(held_out, HYBRID)
        if ranker is not None and hybrid is not None and ranker < hybrid:
            print(
                f"check failed: {RANKER} {ranker:.3f} < {HYBRID} {hybrid:.3f} on held-out",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchmarkError as error:
        sys.exit(f"error: {error}")
