"""The index's schema, built and upgraded by named migrations.

Each migration is one decorated function, applied in the order they are declared here, each in
its own transaction. The index records how many it has had (`schema_version` in `meta`), so
an index written by an earlier version is upgraded when it is opened. Append, never edit or
reorder, once released.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from gte_search.lexical import lexical_text

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = []

FTS_TABLE = "chunks_fts"
VECTOR_IDS_INDEX = "vectors_chunk_ids"
# The narrowest index of chunk ids (the table's rows hold their text).
CHUNK_IDS_INDEX = "idx_chunks_file_id"
# The SQL function the FTS triggers call to rewrite text into code-aware terms.
LEXICAL_FUNCTION = "gte_lexical"


def migration(step: Migration) -> Migration:
    MIGRATIONS.append(step)
    return step


def register_functions(connection: sqlite3.Connection) -> None:
    """Make `gte_lexical` callable from SQL on this connection (the triggers need it)."""
    connection.create_function(LEXICAL_FUNCTION, 1, lexical_text, deterministic=True)


@migration
def create_tables(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("roots").create({"id": int, "path": str, "added_at": str}, pk="id")
    db.table("roots").create_index(["path"], unique=True)
    db.table("files").create(
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
    db.table("files").create_index(["root_id", "path"], unique=True)
    db.table("chunks").create(
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
    db.table("chunks").create_index(["file_id"])
    db.table("chunks").create_index(["text_hash"])
    db.table("vectors").create(
        {"chunk_id": int, "vector": bytes},
        pk="chunk_id",
        foreign_keys=[("chunk_id", "chunks", "id")],
    )


@migration
def add_lexical_index(db: sqlite_utils.Database) -> None:
    """FTS5 over each chunk's symbol, path and text, kept in step with `chunks` by triggers
    (so no writer has to remember it), and backfilled from the chunks already stored."""
    register_functions(db.conn)
    db.execute(
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(symbol, path, body, "
        "tokenize = 'porter unicode61')"
    )
    path_of = "(SELECT path FROM files WHERE id = new.file_id)"
    fn = LEXICAL_FUNCTION
    insert = (
        f"INSERT INTO {FTS_TABLE} (rowid, symbol, path, body) VALUES (new.id, "
        f"{fn}(new.symbol), {fn}({path_of}), {fn}(new.text));"
    )
    delete = f"DELETE FROM {FTS_TABLE} WHERE rowid = old.id;"
    db.execute(f"CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN {insert} END")
    db.execute(f"CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN {delete} END")
    db.execute(
        "CREATE TRIGGER chunks_fts_update AFTER UPDATE OF symbol, text, file_id ON chunks "
        f"BEGIN {delete} {insert} END"
    )
    db.execute(
        f"INSERT INTO {FTS_TABLE} (rowid, symbol, path, body) "
        f"SELECT c.id, {fn}(c.symbol), {fn}(f.path), {fn}(c.text) "
        "FROM chunks c JOIN files f ON f.id = c.file_id"
    )


# How earlier versions worded each kind of skip; only this migration reads the wording.
_LEGACY_REASON_PREFIXES = {
    "empty": "empty",
    "binary": "binary",
    "too large": "too_large",
    "minified": "minified",
    "unreadable": "unreadable",
    "not a regular file": "not_regular",
    "symlink": "symlink",
    "file name is not valid UTF-8": "bad_name",
}


@migration
def add_skip_kind(db: sqlite_utils.Database) -> None:
    """The kind of each skip as data, so a later run never parses the reason's wording."""
    db.execute("ALTER TABLE files ADD COLUMN skip_kind TEXT")
    for prefix, kind in _LEGACY_REASON_PREFIXES.items():
        db.execute(
            "UPDATE files SET skip_kind = ? WHERE skip_kind IS NULL AND skip_reason LIKE ?",
            [kind, f"{prefix}%"],
        )


@migration
def index_chunk_languages(db: sqlite_utils.Database) -> None:
    """Lets `lang:` filters list the index's languages without reading every chunk."""
    db.table("chunks").create_index(["language"])


@migration
def index_vector_chunk_ids(db: sqlite_utils.Database) -> None:
    """A narrow index of the chunks that have a vector. Each row of `vectors` holds a vector
    (1.5 KB for 384 dimensions), so counting them, or finding the chunks still without one,
    read every page of the table; this index holds only the ids (at 100k chunks: 68 ms to
    count before, under 1 ms after)."""
    db.execute(f"CREATE INDEX IF NOT EXISTS {VECTOR_IDS_INDEX} ON vectors(chunk_id)")


SCHEMA_VERSION = len(MIGRATIONS)
