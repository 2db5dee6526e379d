"""Search filters, and the query syntax that sets them: `lang:go path:internal/* kind:code`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.chunk import CHUNK_KINDS

# Short names people type, mapped to the language names chunks carry.
LANGUAGE_ALIASES = {
    "py": "python",
    "js": "javascript",
    "jsx": "javascript",
    "ts": "typescript",
    "golang": "go",
    "rs": "rust",
    "rb": "ruby",
    "c++": "cpp",
    "cc": "cpp",
    "hpp": "cpp",
    "h": "c",
    "md": "markdown",
    "txt": "text",
    "kt": "kotlin",
    "kts": "kotlin",
    "cs": "csharp",
    "c#": "csharp",
    "ex": "elixir",
    "exs": "elixir",
    "sh": "bash",
    "shell": "bash",
    "zsh": "bash",
    "hs": "haskell",
    "ml": "ocaml",
    "jl": "julia",
    "yml": "yaml",
}
# Only these keys are filters; any other `word:value` (say `due:today`) stays in the query.
_FILTER = re.compile(r"(?<!\S)(lang|language|path|kind|root):(\S+)")


@dataclass(frozen=True)
class SearchFilters:
    """Restrictions applied before the top-k cut: a filtered search still returns k hits."""

    languages: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # gitignore-style globs on the path relative to its root
    kind: str | None = None
    roots: tuple[str, ...] = ()  # a root's path (absolute or relative) or folder name
    # The directory relative `path:` and `root:` values are read from; None: the current
    # one. A service sets its client's, so that filters mean what they meant to the client.
    base: str | None = None

    def __bool__(self) -> bool:
        return bool(self.languages or self.paths or self.kind or self.roots)

    def merged(self, other: SearchFilters) -> SearchFilters:
        return SearchFilters(
            languages=self.languages + other.languages,
            paths=self.paths + other.paths,
            kind=other.kind or self.kind,
            roots=self.roots + other.roots,
            base=other.base or self.base,
        )

    def describe(self) -> str:
        parts = [f"lang:{x}" for x in self.languages] + [f"path:{x}" for x in self.paths]
        parts += [f"kind:{self.kind}"] if self.kind else []
        return " ".join(parts + [f"root:{x}" for x in self.roots])


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    filters: SearchFilters = field(default_factory=SearchFilters)


class QueryError(ValueError):
    """A filter the user typed that cannot mean anything (an unknown kind)."""


def normalise_language(name: str) -> str:
    lowered = name.lower()
    return LANGUAGE_ALIASES.get(lowered, lowered)


def make_filters(
    languages: tuple[str, ...] = (),
    paths: tuple[str, ...] = (),
    kind: str | None = None,
    roots: tuple[str, ...] = (),
) -> SearchFilters:
    kind = kind.lower() if kind is not None else None
    if kind is not None and kind not in CHUNK_KINDS:
        raise QueryError(f"kind must be one of {', '.join(CHUNK_KINDS)}, not {kind!r}")
    return SearchFilters(tuple(normalise_language(x) for x in languages), paths, kind, roots)


def parse_query(query: str) -> ParsedQuery:
    """Split `lang:py path:src/** retry policy` into the text and its filters."""
    found: dict[str, list[str]] = {"languages": [], "paths": [], "kind": [], "roots": []}
    key_names = {"lang": "languages", "language": "languages", "path": "paths", "root": "roots"}
    for key, value in _FILTER.findall(query):
        found[key_names.get(key, key)].append(value)
    text = " ".join(_FILTER.sub(" ", query).split())
    filters = make_filters(
        tuple(found["languages"]),
        tuple(found["paths"]),
        found["kind"][-1] if found["kind"] else None,
        tuple(found["roots"]),
    )
    return ParsedQuery(text, filters)
