"""What one edited file costs the watcher (`gte-search watch` / `serve`) on a large root: the
update told which path changed, against the same update walking the whole root.

    python benchmarks/watch_update.py [--chunks 100000] [--runs 5]

Uses the synthetic corpus and hashing stand-in model of `ranking_latency.py` (and its cached
index), so what is timed is walking, reading, storing and saving FAISS, not embedding.
"""

from __future__ import annotations

import argparse
import statistics
import time

from ranking_latency import HashingEmbedder, add_corpus_arguments, synthetic_corpus

from gte_search.index import SearchIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    add_corpus_arguments(parser)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root, index_dir = synthetic_corpus(args)
    embedder = HashingEmbedder()
    with SearchIndex.open(index_dir, create=True) as index:
        report = index.update([root], embedder)
        edited = min(root.rglob("*.py"))
        rel = edited.relative_to(root).as_posix()
        original = edited.read_text()
        print(f"root: {index.store.counts().chunks:,} chunks; editing {rel} each run")
        print(f"{'update':<22} {'median s':>9} {'walk s':>7} {'faiss s':>8}")
        for name, changed in (("whole root walked", None), ("told the changed path", [rel])):
            seconds, walks, faiss = [], [], []
            for run in range(args.runs):
                edited.write_text(original + f"\n\ndef edited_{run}():\n    return {run}\n")
                started = time.perf_counter()
                report = index.update(
                    [root], embedder, changed=None if changed is None else {root: changed}
                )
                seconds.append(time.perf_counter() - started)
                walks.append(report.stages.get("walk", 0.0))
                faiss.append(report.stages.get("faiss", 0.0))
                assert report.files_changed == 1, report
            print(
                f"{name:<22} {statistics.median(seconds):>9.3f} "
                f"{statistics.median(walks):>7.3f} {statistics.median(faiss):>8.3f}"
            )
        edited.write_text(original)
        index.update([root], embedder, changed={root: [rel]})


if __name__ == "__main__":
    main()
