"""What a fresh `gte-search search` process spends before its first result, per query path.

For each path (lexical; hybrid with the torch query encoder; hybrid with the ONNX one) it
prints:

- a breakdown from a fresh process that runs the search's stages one after another with a
  timer around each: Python start, imports, index open, model load, FAISS load, query;
- the total wall time of `python -m gte_search search QUERY --mode M` in a fresh process
  (median of --runs), which is what a user waits for.

With --baseline DIR (a checkout of an older commit, e.g. `git archive 158453d | tar -x -C
DIR`), the same total is timed for that code's default (hybrid, torch) search.

    gte-search index sample_repos --index /tmp/x        # HF_HUB_OFFLINE=1: bundled MiniLM
    python benchmarks/cold_start.py --index /tmp/x

The ONNX path exports the model first if the cache has no export (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUERY = "parse the retry after header"

# Run in a fresh interpreter: times each stage of a search as the CLI does it.
STAGES = r"""
import json, sys, time
start = time.perf_counter()
times = {}
def lap(name):
    global start
    now = time.perf_counter()
    times[name] = round((now - start) * 1000, 1)
    start = now
mode, index_dir, query = sys.argv[1:4]
from pathlib import Path
import gte_search.cli, gte_search.cli_search, gte_search.index
if mode != "lexical":
    import os
    if os.environ["GTE_SEARCH_QUERY_ENCODER"] == "torch":
        import gte_search.embed
    else:
        import gte_search.query_encoder, onnxruntime, tokenizers
lap("imports")
from gte_search.index import SearchIndex
index = SearchIndex.open(Path(index_dir))
model = index.model
lap("index open")
embedder = None
if mode != "lexical":
    from gte_search.cli_common import load_embedder
    embedder = load_embedder(model.model_id, named_by_user=True, trust_remote_code=False,
                             for_queries=True)
    lap("model load")
    index.load_vectors()
    lap("faiss load")
hits = index.search(query, embedder, 10, mode=mode)
lap("query")
times["torch imported"] = "torch" in sys.modules
print(json.dumps(times))
"""

PATHS = [("lexical", "lexical", "torch"), ("hybrid torch", "hybrid", "torch"),
         ("hybrid onnx", "hybrid", "auto")]  # fmt: skip


def environment(encoder: str, pythonpath: Path) -> dict[str, str]:
    env = dict(os.environ, GTE_SEARCH_QUERY_ENCODER=encoder, PYTHONPATH=str(pythonpath))
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


def fresh_total(mode: str, encoder: str, index: Path, runs: int, code: Path = REPO) -> float:
    """Median seconds of a fresh `search` process, start to exit (its output discarded)."""
    command = [sys.executable, "-m", "gte_search", "search", QUERY, "--index", str(index)]
    command += ["--mode", mode, "-k", "10"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            command, env=environment(encoder, code), stdout=subprocess.DEVNULL, check=False
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def breakdown(mode: str, encoder: str, index: Path) -> dict[str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", STAGES, mode, str(index), QUERY],
        env=environment(encoder, REPO),
        capture_output=True,
        text=True,
        check=True,
    )
    total = (time.perf_counter() - start) * 1000
    stages: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    timed = sum(v for v in stages.values() if not isinstance(v, bool))
    stages["python start + exit"] = round(total - timed, 1)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per path")
    parser.add_argument("--baseline", type=Path, help="an older checkout to time as well")
    args = parser.parse_args()
    from gte_search.models import resolve_model
    from gte_search.query_encoder import prepare_query_encoder

    sys.path.insert(0, str(REPO))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gte_search.index import SearchIndex

    with SearchIndex.open(args.index) as opened:
        assert opened.model is not None, "index something first"
        model_id = opened.model.model_id
    prepare_query_encoder(resolve_model(model_id, named_by_user=True))
    print(f"model {model_id}; {len(os.sched_getaffinity(0))} cores; "
          f"load average {os.getloadavg()[0]:.2f} (other work inflates every number)")  # fmt: skip
    for name, mode, encoder in PATHS:
        stages = breakdown(mode, encoder, args.index)
        parts = ", ".join(f"{k} {v:.0f}" for k, v in stages.items() if not isinstance(v, bool))
        print(f"{name:<13} breakdown (ms): {parts}; torch imported: {stages['torch imported']}")
    print()
    totals = {}
    for name, mode, encoder in PATHS:
        totals[name] = fresh_total(mode, encoder, args.index, args.runs)
        print(f"{name:<13} fresh process, median of {args.runs}: {totals[name]:.2f} s", flush=True)
    if args.baseline:
        before = fresh_total("hybrid", "torch", args.index, args.runs, args.baseline)
        ratio = totals["hybrid onnx"] / before
        print(f"{'baseline':<13} fresh process, median of {args.runs}: {before:.2f} s "
              f"(hybrid, {args.baseline}); onnx/baseline = {ratio:.2f}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
