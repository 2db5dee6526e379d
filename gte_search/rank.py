"""Fusing rankings: reciprocal rank fusion, the exact-symbol boost, and de-duplication.

Cosine similarities and bm25 scores live on different scales, so hybrid search fuses ranks,
not scores (Cormack et al., 2009): a chunk scores sum(1 / (RRF_K + rank)) over the rankings
it appears in, rank counted from 1.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Sequence
from typing import Protocol, TypeVar

from gte_search.signals import (
    DEFINITION_BOOST,
    DEMOTION_FACTOR,
    QueryIntent,
    definition_boosts,
    demoted,
    diversify,
    documentation_factor,
    fusion_weights,
    path_boosts,
)
from gte_search.store import StoredChunk

# The constant from the RRF paper: it damps the difference between the very first ranks.
RRF_K = 60
# The signals hybrid search applies after fusion (`gte_search.signals`), each by name so that
# a benchmark can switch one off (`search(..., signals=...)`); `()` is plain fusion.
RANKING_SIGNALS: tuple[str, ...] = (
    "shape",
    "definitions",
    "paths",
    "demotion",
    "questions",
    "diversity",
)


def reciprocal_rank_fusion(
    rankings: Iterable[Sequence[int]], weights: Sequence[float] | None = None, k: int = RRF_K
) -> dict[int, float]:
    """Chunk id → fused score, over any number of best-first rankings of chunk ids, each
    counted with its weight (default 1)."""
    fused: dict[int, float] = {}
    for position, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[position]
        for rank, chunk_id in enumerate(ranking, start=1):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (k + rank)
    return fused


def fuse_by_definition(
    rankings: Sequence[Sequence[int]],
    definition_of: Callable[[int], Hashable],
    weights: Sequence[float] | None = None,
) -> dict[int, float]:
    """RRF where a definition cut into several chunks counts as one: its best rank in each
    ranking is what it scores, and that score goes to its best chunk. Without this, one
    ranking's first hit and the other's may be two pieces of the same function, and each
    piece alone loses to a chunk that both rankings put second.

    The other pieces keep their own fused score, so they follow without flooding the top.
    """
    weights = weights or [1.0] * len(rankings)
    own = reciprocal_rank_fusion(rankings, weights)
    best_ranks: dict[Hashable, list[int]] = {}
    for position, ranking in enumerate(rankings):
        for rank, chunk_id in enumerate(ranking, start=1):
            ranks = best_ranks.setdefault(definition_of(chunk_id), [0] * len(rankings))
            if not ranks[position]:
                ranks[position] = rank
    leaders: dict[Hashable, int] = {}
    for chunk_id, score in own.items():
        key = definition_of(chunk_id)
        if key not in leaders or score > own[leaders[key]]:
            leaders[key] = chunk_id
    fused = dict(own)
    for key, chunk_id in leaders.items():
        fused[chunk_id] = sum(
            weight / (RRF_K + rank)
            for weight, rank in zip(weights, best_ranks[key], strict=True)
            if rank
        )
    return fused


def rank_hybrid(
    query: str,
    rankings: tuple[Sequence[tuple[int, float]], Sequence[tuple[int, float]]],
    stored: dict[int, StoredChunk],
    signals: Collection[str] = RANKING_SIGNALS,
    path_filters: Sequence[str] = (),
) -> list[tuple[int, float]]:
    """Fuse the (semantic, lexical) best-first (chunk id, score) rankings by definition,
    apply the named ranking `signals`, and return (chunk id, score) best first. `stored`
    holds every candidate, including any found only by their symbol."""
    intent = QueryIntent.of(query, path_filters)

    def definition_of(chunk_id: int) -> Hashable:
        found = stored.get(chunk_id)
        if found is None or not found.chunk.symbol:
            return chunk_id
        return (found.root, found.chunk.path, found.chunk.symbol)

    weights = fusion_weights(intent) if "shape" in signals else (1.0, 1.0)
    fused = fuse_by_definition([[i for i, _ in r] for r in rankings], definition_of, weights)
    boosts = [
        *([definition_boosts(intent, stored, fused)] if "definitions" in signals else []),
        *([path_boosts(intent, stored)] if "paths" in signals else []),
    ]
    for found_boosts in boosts:
        for chunk_id, boost in found_boosts.items():
            if chunk_id in fused or boost >= DEFINITION_BOOST:
                fused[chunk_id] = fused.get(chunk_id, 0.0) + boost
    # demotion and questions each scale a candidate's score: one pass does both.
    demote = "demotion" in signals
    questions = "questions" in signals
    for chunk_id in fused:
        found = stored.get(chunk_id)
        if found is None:
            continue
        if demote and demoted(intent, found):
            fused[chunk_id] *= DEMOTION_FACTOR
        if questions:
            fused[chunk_id] *= documentation_factor(intent, found)
    ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    return diversify(ranked, stored) if "diversity" in signals else ranked


class Placed(Protocol):
    """Anything with a place in a file: a `SearchHit`, a stored chunk."""

    @property
    def root(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def start_line(self) -> int: ...
    @property
    def end_line(self) -> int: ...


T = TypeVar("T", bound=Placed)


def without_overlaps(items: Iterable[T]) -> list[T]:
    """Items in order, dropping any whose lines overlap a better one's in the same file."""
    kept: list[T] = []
    seen: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for item in items:
        spans = seen.setdefault((item.root, item.path), [])
        if any(item.start_line <= end and start <= item.end_line for start, end in spans):
            continue
        spans.append((item.start_line, item.end_line))
        kept.append(item)
    return kept
