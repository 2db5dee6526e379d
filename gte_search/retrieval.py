"""Candidate generation: the lexical list (FTS5), the semantic list (FAISS), and the search
that turns them into hits in each mode."""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from gte_search.hits import SEARCH_MODES, SearchHit, SearchMode
from gte_search.lexical import any_of, named_symbols, query_terms
from gte_search.models import EmbeddingModel
from gte_search.pipeline import in_background
from gte_search.query import SearchFilters
from gte_search.rank import RANKING_SIGNALS, rank_hybrid, without_overlaps
from gte_search.store import Store, StoredChunk
from gte_search.vectors import VectorIndex

# How deep each ranking goes before hybrid search fuses them (at least 2k).
FUSION_DEPTH = 80
# A query term in more than this share of the chunks is left out of the lexical search when
# the other terms find enough rows (see `lexical_candidates`).
COMMON_TERM_SHARE = 0.5
# How many definitions of a named symbol join the candidates (overloads, same name in
# several modules).
SYMBOL_CANDIDATES = 20

Ranking = list[tuple[int, float]]  # (chunk id, score), best first


def lexical_candidates(store: Store, query: str, depth: int, allowed: np.ndarray | None) -> Ranking:
    terms = query_terms(query)
    if not terms:
        return []
    # bm25 scores every row holding any term, and FTS5 gives a term in more than half the
    # chunks an IDF of ~0: on a large index such a term (`request` in an HTTP library) costs
    # most of the time and changes no score. Rows holding only common terms would rank
    # last, so they are looked for only when the telling terms find too few rows.
    chunks, counts = store.term_chunk_counts(terms)
    telling = [term for term in terms if counts[term] <= COMMON_TERM_SHARE * chunks]
    if telling and len(telling) < len(terms):
        found = store.search_lexical(any_of(telling), depth, allowed)
        if len(found) >= depth:
            return found
    return store.search_lexical(any_of(terms), depth, allowed)


def semantic_candidates(
    vectors: VectorIndex, query_vector: np.ndarray, depth: int, allowed: np.ndarray | None
) -> Ranking:
    return vectors.search(query_vector, depth, allowed)


def symbol_candidates(store: Store, query: str, allowed: np.ndarray | None) -> list[int]:
    """Chunks defining a symbol the query names, wherever the two lists put them: a name
    mentioned in many doc paragraphs can push its own definition out of both."""
    names = named_symbols(query)
    if not names:
        return []
    return store.search_symbols(names, SYMBOL_CANDIDATES, allowed)


def search(
    store: Store,
    vectors: Callable[[], VectorIndex],
    embedder: EmbeddingModel | None,
    query: str,
    k: int,
    filters: SearchFilters | None,
    mode: SearchMode,
    signals: Collection[str] | None = None,
) -> list[SearchHit]:
    """The k best chunks for `query` that pass `filters` (see `SearchIndex.search`)."""
    if mode not in SEARCH_MODES:
        raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
    if not query.strip() or k < 1:
        return []
    allowed = store.filtered_chunk_ids(filters) if filters else None
    if mode == "lexical":
        return _hits(store, lexical_candidates(store, query, k, allowed))
    if embedder is None:
        raise ValueError(f"{mode} search needs an embedder")
    if mode == "semantic":
        query_vector = embedder.embed_query(query)
        return _hits(store, semantic_candidates(vectors(), query_vector, k, allowed))
    depth = max(FUSION_DEPTH, 2 * k)
    # The query is encoded and FAISS searched on another thread while this one reads the
    # lexical list: the model, FAISS and SQLite each release the GIL, so the two lists cost
    # the slower of them, not their sum. SQLite stays here (a connection has one thread).
    vector_index = vectors()  # loading or checking it reads SQLite
    model = embedder
    found_semantic = in_background(
        lambda: semantic_candidates(vector_index, model.embed_query(query), depth, allowed),
        "gte-search-semantic",
    )
    lexical = lexical_candidates(store, query, depth, allowed)
    semantic = found_semantic.result()
    chosen = RANKING_SIGNALS if signals is None else signals
    unknown = set(chosen) - set(RANKING_SIGNALS)
    if unknown:
        raise ValueError(f"unknown ranking signals {sorted(unknown)}; known: {RANKING_SIGNALS}")
    ids = {i for i, _ in semantic} | {i for i, _ in lexical}
    if "definitions" in chosen:
        ids |= set(symbol_candidates(store, query, allowed))
    stored = store.chunks_by_id(sorted(ids))
    path_filters = filters.paths if filters else ()
    ranked = rank_hybrid(query, (semantic, lexical), stored, chosen, path_filters)
    return without_overlaps(_hits(store, ranked, stored))[:k]


def _hits(
    store: Store, ranked: Ranking, stored: dict[int, StoredChunk] | None = None
) -> list[SearchHit]:
    if stored is None:
        stored = store.chunks_by_id([chunk_id for chunk_id, _ in ranked])
    hits = []
    for chunk_id, score in ranked:
        found = stored.get(chunk_id)
        if found is None:
            continue
        chunk = found.chunk
        hits.append(
            SearchHit(
                path=chunk.path,
                root=found.root,
                start_line=chunk.start_line,
                end_line=chunk.end_line,
                score=round(score, 6),
                kind=chunk.kind,
                language=chunk.language,
                symbol=chunk.symbol,
                text=chunk.text,
            )
        )
    return hits
