"""The store's reads for search: chunks by id, filters, the FTS5 query and symbol lookup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from gte_search.lexical import name_terms, names_symbol, unqualified
from gte_search.query import SearchFilters
from gte_search.store import schema
from gte_search.store.filters import matching_chunk_ids
from gte_search.store.records import StoredChunk
from indexer.chunk import Chunk

# bm25 column weights: a name in the symbol or path says more than a word in the body.
LEXICAL_COLUMN_WEIGHTS = (4.0, 2.0, 1.0)  # symbol, path, body


@dataclass
class _TermCounts:
    """Chunks per query term, valid while the index is as it was when counted."""

    version: tuple[int, int]
    chunks: int
    per_term: dict[str, int] = field(default_factory=dict)


class SearchReads:
    """Part of `Store`: the queries a search runs (mixed in so all SQL stays in the package)."""

    db: sqlite_utils.Database
    _term_counts: _TermCounts | None = None

    def term_chunk_counts(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many chunks the index holds, and how many hold each of `terms` (query terms),
        remembered until this or another connection changes the index."""
        version = (
            int(self.db.execute("PRAGMA data_version").fetchone()[0]),
            self.db.conn.total_changes,
        )
        known = self._term_counts
        if known is None or known.version != version:
            chunks = int(self.db.execute("SELECT count(*) FROM chunks").fetchone()[0])
            known = self._term_counts = _TermCounts(version, chunks)
        table = schema.FTS_TABLE
        for term in terms:
            if term not in known.per_term:
                known.per_term[term] = int(
                    self.db.execute(
                        f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", [f'"{term}"']
                    ).fetchone()[0]
                )
        return known.chunks, {term: known.per_term[term] for term in terms}

    def chunks_by_id(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        return self._chunks(f"WHERE c.id IN ({','.join('?' * len(ids))})", list(ids)) if ids else {}

    def all_chunks(self) -> dict[int, StoredChunk]:
        return self._chunks("", [])

    def _chunks(self, where: str, params: list[object]) -> dict[int, StoredChunk]:
        rows = self.db.execute(
            "SELECT c.id, r.path, f.path, c.start_line, c.end_line, c.kind, c.language, "
            "c.symbol, c.text FROM chunks c JOIN files f ON f.id = c.file_id "
            f"JOIN roots r ON r.id = f.root_id {where} ORDER BY c.id",
            params,
        )
        return {row[0]: StoredChunk(row[0], row[1], Chunk(row[2], *row[3:])) for row in rows}

    def filtered_chunk_ids(self, filters: SearchFilters) -> np.ndarray:
        """Ids of the chunks that pass `filters`."""
        return matching_chunk_ids(self.db, filters)

    def search_lexical(
        self, match: str, limit: int, allowed: Iterable[int] | None = None
    ) -> list[tuple[int, float]]:
        """Up to `limit` (chunk id, score) pairs for an FTS5 MATCH expression, best first;
        the score is the negated bm25, so higher is better. Only ids in `allowed` when given:
        the filter applies before the cut."""
        keep = None if allowed is None else {int(i) for i in allowed}
        if limit <= 0 or (keep is not None and not keep):
            return []
        weights = ", ".join(str(w) for w in LEXICAL_COLUMN_WEIGHTS)
        table = schema.FTS_TABLE
        # Without a filter SQLite can keep only the best `limit` rows as it scores them.
        cut = " LIMIT ?" if keep is None else ""
        rows = self.db.execute(
            f"SELECT rowid, bm25({table}, {weights}) AS rank FROM {table} "
            f"WHERE {table} MATCH ? ORDER BY rank{cut}",
            [match, limit] if keep is None else [match],
        )
        found: list[tuple[int, float]] = []
        for chunk_id, rank in rows:
            if keep is None or chunk_id in keep:
                found.append((int(chunk_id), -float(rank)))
                if len(found) >= limit:
                    break
        return found

    def search_symbols(
        self, names: Sequence[str], limit: int, allowed: Iterable[int] | None = None
    ) -> list[int]:
        """Ids of up to `limit` code chunks whose symbol is one of `names` exactly (the whole
        qualified name or its last part), found through the symbol column of the lexical
        index and checked exactly here."""
        terms = {name_terms(name.rsplit(".", 1)[-1])[0] for name in names if name_terms(name)}
        if not terms or limit <= 0:
            return []
        keep = None if allowed is None else {int(i) for i in allowed}
        match = " OR ".join(f'symbol : "{term}"' for term in sorted(terms))
        # The exact check in SQL too (GLOB is case-sensitive, and names are identifiers, so
        # they hold no GLOB syntax): a common word matches many symbols' parts.
        exact = " OR ".join(["c.symbol IN (?, ?)", "c.symbol GLOB ?"] * len(names))
        exact_params = [
            p for name in names for p in (name, unqualified(name), f"*.{name.rsplit('.', 1)[-1]}")
        ]
        rows = self.db.execute(
            f"SELECT c.id, c.symbol FROM {schema.FTS_TABLE} f JOIN chunks c ON c.id = f.rowid "
            f"WHERE {schema.FTS_TABLE} MATCH ? AND c.kind = 'code' AND ({exact}) ORDER BY c.id",
            [match, *exact_params],
        )
        found = []
        for chunk_id, symbol in rows:
            if (keep is None or chunk_id in keep) and names_symbol(symbol, names):
                found.append(int(chunk_id))
                if len(found) >= limit:
                    break
        return found
