"""SQLite, through sqlite-utils, is the source of truth: roots, files, chunks, vectors, meta."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sqlite_utils

from gte_search.lexical import create_lexical_index, register
from gte_search.query import SearchFilters
from indexer.chunk import Chunk

SCHEMA_VERSION = 2


class StoreError(Exception):
    """The index database cannot be opened or is not a gte-search index."""


@dataclass(frozen=True)
class IndexModel:
    """What the vectors in an index were made with; searches must use the same."""

    model_id: str
    dimension: int
    pooling: str


@dataclass(frozen=True)
class FileState:
    """What the index knows of a file, enough to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str | None
    skip_reason: str | None = None


@dataclass(frozen=True)
class StoredChunk:
    id: int
    root: str
    chunk: Chunk


@dataclass(frozen=True)
class SkippedFile:
    root: str
    path: str
    reason: str


def _create_tables(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["roots"].create({"id": int, "path": str, "added_at": str}, pk="id")
    db["roots"].create_index(["path"], unique=True)
    db["files"].create(
        {
            "id": int,
            "root_id": int,
            "path": str,
            "size": int,
            "mtime_ns": int,
            "content_hash": str,
            "language": str,
            "skip_reason": str,
            "indexed_at": str,
        },
        pk="id",
        foreign_keys=[("root_id", "roots", "id")],
    )
    db["files"].create_index(["root_id", "path"], unique=True)
    db["chunks"].create(
        {
            "id": int,
            "file_id": int,
            "start_line": int,
            "end_line": int,
            "kind": str,
            "language": str,
            "symbol": str,
            "text": str,
            "text_hash": str,
        },
        pk="id",
        foreign_keys=[("file_id", "files", "id")],
    )
    db["chunks"].create_index(["file_id"])
    db["chunks"].create_index(["text_hash"])
    db["vectors"].create(
        {"chunk_id": int, "vector": bytes},
        pk="chunk_id",
        foreign_keys=[("chunk_id", "chunks", "id")],
    )


# Each entry upgrades the schema by one version; append, never edit, once released.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _create_tables,
    create_lexical_index,  # 2: FTS5 over chunks, kept in step by triggers
]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.db = sqlite_utils.Database(path)
            register(self.db.conn)  # the lexical index's triggers call it
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
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer gte-search (schema {version}); upgrade it"
            )
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.db.atomic():
                migration(self.db)
                self.set_meta("schema_version", str(number))

    def close(self) -> None:
        self.db.close()

    # meta

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db["meta"].upsert({"key": key, "value": value}, pk="key")

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
        """Drop every root, file, chunk and vector, keeping the schema (for --rebuild)."""
        with self.db.atomic():
            for table in ("vectors", "chunks", "files", "roots"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM meta WHERE key != 'schema_version'")

    # roots and files

    def add_root(self, root: Path) -> int:
        existing = self.db.execute("SELECT id FROM roots WHERE path = ?", [str(root)]).fetchone()
        if existing:
            return int(existing[0])
        with self.db.atomic():
            return int(self.db["roots"].insert({"path": str(root), "added_at": _now()}).last_pk)

    def roots(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT path FROM roots ORDER BY path")]

    def file_states(self, root_id: int) -> dict[str, FileState]:
        rows = self.db.execute(
            "SELECT id, path, size, mtime_ns, content_hash, skip_reason FROM files "
            "WHERE root_id = ?",
            [root_id],
        )
        return {row[1]: FileState(*row) for row in rows}

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Content is unchanged but the stat changed: remember the new stat."""
        with self.db.atomic():
            self.db["files"].update(file_id, {"size": size, "mtime_ns": mtime_ns})

    def replace_file(
        self,
        root_id: int,
        path: str,
        *,
        size: int,
        mtime_ns: int,
        content_hash: str | None,
        language: str | None,
        skip_reason: str | None,
        chunks: Sequence[Chunk] = (),
        vectors: np.ndarray | None = None,
    ) -> tuple[list[int], list[int]]:
        """Swap a file's chunks and vectors in one transaction; returns (removed, added) ids."""
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
                "skip_reason": skip_reason,
                "indexed_at": _now(),
            }
            if existing:
                file_id = int(existing[0])
                self.db["files"].update(file_id, record)
            else:
                file_id = int(self.db["files"].insert(record).last_pk)
            added = []
            for chunk, vector in zip(chunks, vectors if vectors is not None else [], strict=True):
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

    def chunks_by_id(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        rows = self.db.execute(
            "SELECT c.id, r.path, f.path, c.start_line, c.end_line, c.kind, c.language, "
            "c.symbol, c.text FROM chunks c JOIN files f ON f.id = c.file_id "
            "JOIN roots r ON r.id = f.root_id "
            f"WHERE c.id IN ({','.join('?' * len(ids))})",
            list(ids),
        )
        return {row[0]: StoredChunk(row[0], row[1], Chunk(row[2], *row[3:])) for row in rows}

    def filtered_chunk_ids(self, filters: SearchFilters) -> np.ndarray:
        """Ids of the chunks that pass `filters` (language and kind in SQL, globs in Python)."""
        conditions, params = [], []
        if filters.languages:
            conditions.append(f"c.language IN ({','.join('?' * len(filters.languages))})")
            params += list(filters.languages)
        if filters.kind:
            conditions.append("c.kind = ?")
            params.append(filters.kind)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        rows = self.db.execute(
            "SELECT c.id, f.path, r.path FROM chunks c JOIN files f ON f.id = c.file_id "
            f"JOIN roots r ON r.id = f.root_id {where}",
            params,
        )
        spec = filters.path_spec()
        roots = set(filters.roots)
        ids = [
            chunk_id
            for chunk_id, path, root in rows
            if (spec is None or spec.match_file(path))
            and (not roots or root in roots or Path(root).name in roots)
        ]
        return np.array(ids, dtype=np.int64)

    # reporting

    def count(self, table: str, where: str = "") -> int:
        return int(self.db.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0])

    def skipped_files(self) -> list[SkippedFile]:
        rows = self.db.execute(
            "SELECT r.path, f.path, f.skip_reason FROM files f JOIN roots r ON r.id = f.root_id "
            "WHERE f.skip_reason IS NOT NULL ORDER BY r.path, f.path"
        )
        return [SkippedFile(*row) for row in rows]

