"""The lexical index: SQLite FTS5 over chunk text, symbol and path, with code-aware tokens.

FTS5's own tokenizer cuts `RetryPolicy` into one token and `retry_policy` into two, so
neither would match the query `retry policy` the same way. Before text reaches FTS5 it is
rewritten by `lexical_text`: each identifier becomes its joined lower-case form
(`retrypolicy`, the same for `RetryPolicy`, `retry_policy` and `retry-policy`) followed by
its parts (`retry policy`). Dotted names and paths split at their separators first. FTS5 then
stems the tokens (porter), so `retries` meets `retry`.

The chunks table stays the source of truth: the store's triggers copy every insert and
delete into its FTS table, calling `lexical_text` to rewrite the text
(`gte_search.store.schema`). This module is text only: no SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

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
    return any_of(terms) if terms else None


def any_of(terms: Sequence[str]) -> str:
    """The FTS5 MATCH expression for rows holding any of `terms` (query terms: quoted)."""
    return " OR ".join(f'"{term}"' for term in terms)


def named_symbols(query: str) -> list[str]:
    """Words of the query shaped like a symbol's exact name: `HTTPAdapter`, `retryPolicy`,
    `send_request`, `Client.send` (`Value::pointer` is read as `Value.pointer`, the way
    symbols are stored), or the whole query when it is one word. Plain words (`list`,
    `status`) and acronyms (`WAL`) in a sentence are English, not names."""
    found = re.findall(r"[A-Za-z_$][A-Za-z0-9_$]*(?:(?:\.|::)[A-Za-z_$][A-Za-z0-9_$]*)*", query)
    words = [word.replace("::", ".") for word in found]
    if len(words) == 1:
        return words
    return [word for word in words if _IDENTIFIER_SHAPE.search(word)]


def names_symbol(symbol: str | None, names: Sequence[str]) -> bool:
    """Whether a chunk's symbol is one the query names exactly: the whole qualified name
    (`Client.send`), its last part (`send`), or the name without the package it was called
    by (`chi.RegisterMethod` names `RegisterMethod`); case-sensitive, since `Open` the
    function is not `open` the verb."""
    if not symbol or not names:
        return False
    return (
        symbol in names
        or symbol.rsplit(".", 1)[-1] in names
        or any(symbol == unqualified(name) for name in names)
    )


def unqualified(name: str) -> str:
    """`name` without the lower-case package or module path in front of it, which symbols
    do not carry: `chi.RegisterMethod` → `RegisterMethod`, `serde_json.from_str` →
    `from_str`. A class or type in front (`Client.send`) stays."""
    parts = name.split(".")
    while len(parts) > 1 and parts[0].islower():
        parts = parts[1:]
    return ".".join(parts)


# An underscore or dot inside, or an upper-case letter after a lower-case one or before one.
_IDENTIFIER_SHAPE = re.compile(r"\w[_.]\w|[a-z][A-Z]|[A-Z][A-Z][a-z]")
