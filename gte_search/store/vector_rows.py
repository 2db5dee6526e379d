"""The store's reads and writes for the second phase of an update: chunks are stored first,
searchable by their words, and their vectors follow in batches (`gte_search.embedding`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import sqlite_utils

from gte_search.store import schema
from gte_search.store.records import PendingChunk
from indexer.chunk import Chunk

# Chunks without a vector, found from the two narrow indexes of ids alone: rows of `chunks`
# hold their text and rows of `vectors` their vector, and reading either table through would
# read every page (at 100k chunks: 110 ms, against 25 ms this way).
_PENDING_IDS = (
    f"SELECT id FROM chunks INDEXED BY {schema.CHUNK_IDS_INDEX} WHERE id > ? "
    f"EXCEPT SELECT chunk_id FROM vectors INDEXED BY {schema.VECTOR_IDS_INDEX} "
    "ORDER BY 1 LIMIT ?"
)


class VectorRows:
    """Part of `Store` (mixed in so all SQL stays in the package)."""

    db: sqlite_utils.Database

    def vector_progress(self) -> tuple[int, int]:
        """How many chunks the index holds, and how many of them have their vector (a vector
        without its chunk cannot exist: the foreign key refuses it)."""
        chunks, vectors = self.db.execute(
            "SELECT (SELECT count(*) FROM chunks), (SELECT count(*) FROM vectors)"
        ).fetchone()
        return int(chunks), int(vectors)

    def pending_chunks(self, after: int, limit: int) -> list[PendingChunk]:
        """Up to `limit` chunks stored without their vector, with ids above `after`, oldest
        first, with the text their vector is computed from."""
        ids = [row[0] for row in self.db.execute(_PENDING_IDS, [after, limit])]
        if not ids:
            return []
        rows = self.db.execute(
            "SELECT c.id, c.text_hash, f.path, c.start_line, c.end_line, c.kind, c.language, "
            "c.symbol, c.text FROM chunks c JOIN files f ON f.id = c.file_id "
            "WHERE c.id IN (SELECT value FROM json_each(?)) ORDER BY c.id",
            [json.dumps(ids)],
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
