"""The store's reads and writes for the second phase of an update: chunks are stored first,
searchable by their words, and their vectors follow in batches (`gte_search.embedding`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sqlite_utils

from gte_search.store.records import PendingChunk
from indexer.chunk import Chunk

_PENDING = (
    "FROM chunks c JOIN files f ON f.id = c.file_id "
    "WHERE NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_id = c.id)"
)


class VectorRows:
    """Part of `Store` (mixed in so all SQL stays in the package)."""

    db: sqlite_utils.Database

    def pending_count(self) -> int:
        """Chunks stored without their vector yet."""
        return int(self.db.execute(f"SELECT count(*) {_PENDING}").fetchone()[0])

    def pending_chunks(self, after: int, limit: int) -> list[PendingChunk]:
        """Up to `limit` chunks stored without their vector, with ids above `after`, oldest
        first, with the text their vector is computed from."""
        rows = self.db.execute(
            "SELECT c.id, c.text_hash, f.path, c.start_line, c.end_line, c.kind, c.language, "
            f"c.symbol, c.text {_PENDING} AND c.id > ? ORDER BY c.id LIMIT ?",
            [after, limit],
        )
        return [
            PendingChunk(row[0], row[1], Chunk(row[2], *row[3:]).embedding_text) for row in rows
        ]

    def add_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Store the vectors of pending chunks, all in one transaction."""
        with self.db.atomic():
            self.db.conn.executemany(
                "INSERT INTO vectors (chunk_id, vector) VALUES (?, ?)",
                [
                    (int(i), np.asarray(v, dtype=np.float32).tobytes())
                    for i, v in zip(ids, vectors, strict=True)
                ],
            )
