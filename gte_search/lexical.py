"""The lexical index: SQLite FTS5 over chunk text, symbol and path, with code-aware tokens.

FTS5's own tokenizer cuts `RetryPolicy` into one token and `retry_policy` into two, so
neither would match the query `retry policy` the same way. Before text reaches FTS5 it is
rewritten by `lexical_text`: each identifier becomes its joined lower-case form
(`retrypolicy`, the same for `RetryPolicy`, `retry_policy` and `retry-policy`) followed by
its parts (`retry policy`). Dotted names and paths split at their separators first. FTS5 then
stems the tokens (porter), so `retries` meets `retry`.

The chunks table stays the source of truth: triggers copy every insert and delete into
`chunks_fts`, calling `gte_lexical` (registered on each connection by the store) to rewrite
the text, so nothing that writes chunks has to remember the lexical index.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from itertools import pairwise

import sqlite_utils

FTS_TABLE = "chunks_fts"
SQL_FUNCTION = "gte_lexical"
# bm25 column weights: a name in the symbol or path says more than a word in the body.
COLUMN_WEIGHTS = (4.0, 2.0, 1.0)  # symbol, path, body

_NAME = re.compile(r"[A-Za-z0-9_$]+")
# Parts of one name: `HTTPAdapter` → HTTP, Adapter; `parseURL2` → parse, URL, 2.
_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Words too common in questions to say anything about where the answer is.
STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how i if in into is it its me my of on or "
    "should so that the their then there this to was what when where which who why will with "
    "you your".split()
)


def identifier_parts(name: str) -> list[str]:
    """Lower-cased parts of one identifier: camelCase, PascalCase, snake_case, digits."""
    return [part.lower() for piece in name.split("_") for part in _PART.findall(piece)]


def name_terms(name: str) -> list[str]:
    """The joined form of a name, then its parts when it has more than one."""
    parts = identifier_parts(name)
    if not parts:
        return []
    joined = "".join(parts)
    return [joined, *parts] if len(parts) > 1 else [joined]


def lexical_text(text: str | None) -> str:
    """`text` as the space-separated terms FTS5 indexes (see the module docstring)."""
    if not text:
        return ""
    return " ".join(term for name in _NAME.findall(text) for term in name_terms(name))


def query_terms(query: str) -> list[str]:
    """Distinct terms of a query without stop words. Adjacent words are also joined, so the
    query `retry policy` prefers the identifier `RetryPolicy` over two scattered words."""
    words = [w for w in _NAME.findall(query) if w.lower() not in STOP_WORDS]
    terms = [term for word in words for term in name_terms(word)]
    for first, second in pairwise(words):
        joined = "".join(identifier_parts(first) + identifier_parts(second))
        if joined:
            terms.append(joined)
    return list(dict.fromkeys(terms))


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH expression: any of the query's terms, each quoted (terms are
    alphanumeric, so quoting makes FTS5 syntax in user input inert)."""
    terms = query_terms(query)
    return " OR ".join(f'"{term}"' for term in terms) if terms else None


def register(connection: sqlite3.Connection) -> None:
    """Make `gte_lexical` callable from SQL on this connection (the triggers need it)."""
    connection.create_function(SQL_FUNCTION, 1, lexical_text, deterministic=True)


def create_lexical_index(db: sqlite_utils.Database) -> None:
    """Schema 2: the FTS5 table, the triggers that keep it in step, and a backfill."""
    register(db.conn)
    db.execute(
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(symbol, path, body, "
        "tokenize = 'porter unicode61')"
    )
    path_of = "(SELECT path FROM files WHERE id = new.file_id)"
    insert = (
        f"INSERT INTO {FTS_TABLE} (rowid, symbol, path, body) VALUES (new.id, "
        f"{SQL_FUNCTION}(new.symbol), {SQL_FUNCTION}({path_of}), {SQL_FUNCTION}(new.text));"
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
        f"SELECT c.id, {SQL_FUNCTION}(c.symbol), {SQL_FUNCTION}(f.path), {SQL_FUNCTION}(c.text) "
        "FROM chunks c JOIN files f ON f.id = c.file_id"
    )


def search_lexical(
    db: sqlite_utils.Database,
    query: str,
    limit: int,
    allowed: Iterable[int] | None = None,
) -> list[tuple[int, float]]:
    """Up to `limit` (chunk id, score) pairs, best first; score is the negated bm25, so higher
    is better. Only ids in `allowed` when given: the filter applies before the cut."""
    expression = match_expression(query)
    if expression is None or limit <= 0:
        return []
    keep = None if allowed is None else {int(i) for i in allowed}
    if keep is not None and not keep:
        return []
    weights = ", ".join(str(w) for w in COLUMN_WEIGHTS)
    rows = db.execute(
        f"SELECT rowid, bm25({FTS_TABLE}, {weights}) AS rank FROM {FTS_TABLE} "
        f"WHERE {FTS_TABLE} MATCH ? ORDER BY rank",
        [expression],
    )
    found: list[tuple[int, float]] = []
    for chunk_id, rank in rows:
        if keep is None or chunk_id in keep:
            found.append((int(chunk_id), -float(rank)))
            if len(found) >= limit:
                break
    return found


def named_symbols(query: str) -> list[str]:
    """Words of the query shaped like a symbol's exact name: `HTTPAdapter`, `retryPolicy`,
    `send_request`, `Client.send`, or the whole query when it is one word. Plain words
    (`list`, `status`) and acronyms (`WAL`) in a sentence are English, not names."""
    words = re.findall(r"[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*", query)
    if len(words) == 1:
        return words
    return [word for word in words if _IDENTIFIER_SHAPE.search(word)]


# An underscore or dot inside, or an upper-case letter after a lower-case one or before one.
_IDENTIFIER_SHAPE = re.compile(r"\w[_.]\w|[a-z][A-Z]|[A-Z][A-Z][a-z]")
