"""SQLite, through sqlite-utils, is the source of truth: roots, files, chunks, vectors, meta.

Every SQL statement of gte-search lives in this package.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sqlite_utils

from gte_search.store import schema
from gte_search.store.records import (
    FileState,
    IndexCounts,
    IndexModel,
    SkipKind,
    SkippedFile,
)
from gte_search.store.search_reads import SearchReads
from gte_search.store.vector_rows import VectorRows
from indexer.chunk import Chunk


class StoreError(Exception):
    """The index database cannot be opened or is not a gte-search index."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store(SearchReads, VectorRows):
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite_utils.Database(path)
            schema.register_functions(self.db.conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path} is not a readable gte-search index ({error})") from error

    def _migrate(self) -> None:
        tables = set(self.db.table_names())
        if tables and "meta" not in tables:
            raise StoreError(f"{self.path} is an SQLite database, but not a gte-search index")
        version = int(self.get_meta("schema_version") or 0) if tables else 0
        if version > len(schema.MIGRATIONS):
            raise StoreError(
                f"{self.path} was written by a newer gte-search (schema {version}); upgrade it"
            )
        for number, step in enumerate(schema.MIGRATIONS[version:], start=version + 1):
            with self.db.atomic():
                step(self.db)
                self.set_meta("schema_version", str(number))

    def close(self) -> None:
        self.db.close()

    def data_version(self) -> int:
        """Changes whenever another connection commits: a cheap 'has anything changed?'."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    # meta

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.table("meta").upsert({"key": key, "value": value}, pk="key")

    def model(self) -> IndexModel | None:
        model_id = self.get_meta("model_id")
        if model_id is None:
            return None
        return IndexModel(
            model_id, int(self.get_meta("dimension") or 0), self.get_meta("pooling") or "mean"
        )

    def set_model(self, model: IndexModel) -> None:
        with self.db.atomic():
            self.set_meta("model_id", model.model_id)
            self.set_meta("dimension", str(model.dimension))
            self.set_meta("pooling", model.pooling)

    def clear(self) -> None:
        """Drop every root, file, chunk and vector and the model, keeping the schema."""
        with self.db.atomic():
            for table in ("vectors", "chunks", "files", "roots"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM meta WHERE key != 'schema_version'")

    def clear_content(self) -> None:
        """Drop every file, chunk and vector and the model, keeping the roots and the
        settings: a rebuild re-embeds everything, with the model it is given."""
        with self.db.atomic():
            for table in ("vectors", "chunks", "files"):
                self.db.execute(f"DELETE FROM {table}")
            for key in ("model_id", "dimension", "pooling", "chunker"):
                self.db.execute("DELETE FROM meta WHERE key = ?", [key])

    def reclaim_space(self) -> None:
        """Give the pages of deleted rows back to the file system."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")

    def mark_interrupted(self, root: Path, running: bool) -> None:
        """Remember a root whose update has started and not finished: a run that is
        interrupted or killed leaves the mark, and `status` shows it."""
        marked = set(self.interrupted_roots())
        marked = marked | {str(root)} if running else marked - {str(root)}
        self.set_meta("interrupted_roots", json.dumps(sorted(marked)))

    def interrupted_roots(self) -> list[str]:
        return list(json.loads(self.get_meta("interrupted_roots") or "[]"))

    # roots and files

    def add_root(self, root: Path) -> int:
        existing = self.db.execute("SELECT id FROM roots WHERE path = ?", [str(root)]).fetchone()
        if existing:
            return int(existing[0])
        with self.db.atomic():
            inserted = self.db.table("roots").insert({"path": str(root), "added_at": _now()})
            return int(inserted.last_pk)  # type: ignore[arg-type]  # set by the insert

    def roots(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM roots ORDER BY path")]

    def file_states(self, root_id: int) -> dict[str, FileState]:
        rows = self.db.execute(
            "SELECT id, path, size, mtime_ns, content_hash, skip_reason, skip_kind FROM files "
            "WHERE root_id = ?",
            [root_id],
        )
        return {row[1]: FileState(*row) for row in rows}

    def indexed_paths(self) -> list[tuple[str, str]]:
        """(root, path) of every file that has chunks, sorted."""
        rows = self.db.execute(
            "SELECT r.path, f.path FROM files f JOIN roots r ON r.id = f.root_id "
            "WHERE f.skip_reason IS NULL ORDER BY r.path, f.path"
        )
        return [(root, path) for root, path in rows]

    def languages(self) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT language FROM chunks ORDER BY language")
        return [row[0] for row in rows if row[0]]

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Content is unchanged but the stat changed: remember the new stat."""
        with self.db.atomic():
            self.db.table("files").update(file_id, {"size": size, "mtime_ns": mtime_ns})

    def replace_file(
        self,
        root_id: int,
        path: str,
        *,
        size: int,
        mtime_ns: int,
        content_hash: str | None,
        language: str | None,
        skip: tuple[SkipKind, str] | None = None,
        chunks: Sequence[Chunk] = (),
        vectors: Sequence[np.ndarray | None] | np.ndarray | None = None,
    ) -> tuple[list[int], list[int]]:
        """Swap a file's chunks and vectors in one transaction; returns (removed, added) ids,
        `added` in the order of `chunks`. A chunk whose vector is None (or every chunk, when
        `vectors` is None) is stored pending: searchable by its words at once, embedded later
        (`VectorRows.add_vectors`). `skip` is (kind, reason) for a file recorded without
        chunks."""
        with self.db.atomic():
            existing = self.db.execute(
                "SELECT id FROM files WHERE root_id = ? AND path = ?", [root_id, path]
            ).fetchone()
            removed = self._delete_chunks_of([existing[0]]) if existing else []
            record = {
                "root_id": root_id,
                "path": path,
                "size": size,
                "mtime_ns": mtime_ns,
                "content_hash": content_hash,
                "language": language,
                "skip_kind": skip[0] if skip else None,
                "skip_reason": skip[1] if skip else None,
                "indexed_at": _now(),
            }
            if existing:
                file_id = int(existing[0])
                self.db.table("files").update(file_id, record)
            else:
                file_id = int(self.db.table("files").insert(record).last_pk)  # type: ignore[arg-type]
            added = []
            per_chunk = [None] * len(chunks) if vectors is None else vectors
            for chunk, vector in zip(chunks, per_chunk, strict=True):
                chunk_id = self.db.execute(
                    "INSERT INTO chunks (file_id, start_line, end_line, kind, language, symbol, "
                    "text, text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        file_id,
                        chunk.start_line,
                        chunk.end_line,
                        chunk.kind,
                        chunk.language,
                        chunk.symbol,
                        chunk.text,
                        chunk.embedding_hash,
                    ],
                ).lastrowid
                assert chunk_id is not None  # an INSERT always sets it
                if vector is not None:
                    self.db.execute(
                        "INSERT INTO vectors (chunk_id, vector) VALUES (?, ?)",
                        [chunk_id, np.asarray(vector, dtype=np.float32).tobytes()],
                    )
                added.append(int(chunk_id))
        return removed, added

    def remove_files(self, root_id: int, paths: Iterable[str]) -> list[int]:
        """Forget files that are gone from disk; returns the ids of their removed chunks."""
        removed: list[int] = []
        with self.db.atomic():
            for path in paths:
                row = self.db.execute(
                    "SELECT id FROM files WHERE root_id = ? AND path = ?", [root_id, path]
                ).fetchone()
                if row:
                    removed += self._delete_chunks_of([row[0]])
                    self.db.execute("DELETE FROM files WHERE id = ?", [row[0]])
        return removed

    def remove_root(self, root: Path) -> tuple[int, list[int]] | None:
        """Drop a root and everything under it in one transaction: (files, removed chunk ids),
        or None when it is not a root here."""
        with self.db.atomic():
            row = self.db.execute("SELECT id FROM roots WHERE path = ?", [str(root)]).fetchone()
            if row is None:
                return None
            root_id = row[0]
            of_root = (
                "SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.root_id = ?"
            )
            removed = [r[0] for r in self.db.execute(of_root, [root_id])]
            self.db.execute(f"DELETE FROM vectors WHERE chunk_id IN ({of_root})", [root_id])
            self.db.execute(f"DELETE FROM chunks WHERE id IN ({of_root})", [root_id])
            files = self.db.execute("DELETE FROM files WHERE root_id = ?", [root_id]).rowcount
            self.db.execute("DELETE FROM roots WHERE id = ?", [root_id])
        return int(files), removed

    def _delete_chunks_of(self, file_ids: list[int]) -> list[int]:
        marks = ",".join("?" * len(file_ids))
        ids = [
            row[0]
            for row in self.db.execute(
                f"SELECT id FROM chunks WHERE file_id IN ({marks})", file_ids
            )
        ]
        self.db.execute(
            "DELETE FROM vectors WHERE chunk_id IN "
            f"(SELECT id FROM chunks WHERE file_id IN ({marks}))",
            file_ids,
        )
        self.db.execute(f"DELETE FROM chunks WHERE file_id IN ({marks})", file_ids)
        return ids

    # vectors and chunks

    def vectors_for_texts(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors already computed for these embedding-text hashes, in any file."""
        found: dict[str, np.ndarray] = {}
        wanted = list(set(hashes))
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            rows = self.db.execute(
                "SELECT c.text_hash, v.vector FROM chunks c JOIN vectors v ON v.chunk_id = c.id "
                f"WHERE c.text_hash IN ({','.join('?' * len(part))})",
                part,
            )
            for digest, blob in rows:
                found[digest] = np.frombuffer(blob, dtype=np.float32)
        return found

    def iter_vectors(self, batch: int = 50_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (ids, vectors) in batches, for rebuilding the FAISS index."""
        last = -1
        while True:
            rows = self.db.execute(
                "SELECT chunk_id, vector FROM vectors WHERE chunk_id > ? ORDER BY chunk_id LIMIT ?",
                [last, batch],
            ).fetchall()
            if not rows:
                return
            ids = np.array([row[0] for row in rows], dtype=np.int64)
            vectors = np.stack([np.frombuffer(row[1], dtype=np.float32) for row in rows])
            yield ids, vectors
            last = int(ids[-1])

    def vector_ids(self) -> np.ndarray:
        rows = self.db.execute("SELECT chunk_id FROM vectors ORDER BY chunk_id").fetchall()
        return np.array([row[0] for row in rows], dtype=np.int64)

    # reporting

    def counts(self) -> IndexCounts:
        files, chunks, vectors, lexical = self.db.execute(
            "SELECT (SELECT count(*) FROM files WHERE skip_reason IS NULL), "
            "(SELECT count(*) FROM chunks), (SELECT count(*) FROM vectors), "
            f"(SELECT count(*) FROM {schema.FTS_TABLE})"
        ).fetchone()
        return IndexCounts(int(files), int(chunks), int(vectors), int(lexical))

    def skipped_files(self) -> list[SkippedFile]:
        rows = self.db.execute(
            "SELECT r.path, f.path, f.skip_reason FROM files f JOIN roots r ON r.id = f.root_id "
            "WHERE f.skip_reason IS NOT NULL ORDER BY r.path, f.path"
        )
        return [SkippedFile(*row) for row in rows]
