"""Ranking signals applied after fusion: what a developer means by the best result.

Fusion (`gte_search.rank`) says which chunks both retrievers like; these signals say which of
them a developer looking for code wants first. Each is a small function with its weight as a
named constant; the scores they adjust are RRF scores, where ranking first in one list is
worth 1/61 (`UNIT`). `benchmarks/quality.py` prints the effect of switching each one off.
"""

from __future__ import annotations

import functools
import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from gte_search.categories import asked_categories, categories
from gte_search.lexical import STOP_WORDS, identifier_parts, named_symbols, names_symbol
from gte_search.store import StoredChunk

UNIT = 1.0 / 61  # the RRF score of one first place

# definitions: naming a symbol exactly is the strongest evidence of intent, so its defining
# chunk gets what ranking first in both lists gives.
DEFINITION_BOOST = 2 * UNIT
# ...the rest of the file that defines it is where its helpers and docs live.
DEFINING_FILE_BOOST = 0.3 * UNIT
# ...and for a bare symbol query, a module that re-exports it is where users import it from.
REEXPORT_BOOST = 0.6 * UNIT
# A name defined in more files than this shares the boost among them.
DEFINITION_FILES_EXPECTED = 2
# A definition cut into several chunks (a module with a long @moduledoc, a class in parts) is
# one definition: its best piece gets the boost, each other piece this share of it, so that
# its pieces cannot fill the top results.
OTHER_PIECES_SHARE = 0.5

# paths: a query word that names a file's stem or folder (`extractors` → `extract/`) is
# evidence the file is about it; per distinct word, counted for at most PATH_WORDS_COUNTED.
# Kept small: at 0.35 it lifted code files named like a word of a docs question above the
# paragraph that answers it (measured on the tune split).
PATH_WORD_BOOST = 0.12 * UNIT
PATH_WORDS_COUNTED = 2
# ...but a word in the paths of many candidates (the package folder, `src`) tells them apart
# no better than no word: it counts only where it names at most this share of their files.
PATH_WORD_MAX_SHARE = 0.05

# demotion: tests, examples, fixtures, benchmarks, vendored, generated and legacy code repeat
# the words of the code they exercise or copy; unless asked for, they come after it.
DEMOTION_FACTOR = 0.55

# diversity: after the first DIVERSITY_FREE_CHUNKS paragraphs of one document, each further
# one is worth this much less, so one Markdown page cannot fill the top results. Code is left
# alone: several methods of one file are often all part of the answer (measured: spreading
# code too cost 0.013 NDCG@10 on the tune split).
DIVERSITY_FACTOR = 0.8
DIVERSITY_FREE_CHUNKS = 2
DIVERSITY_KINDS = frozenset({"doc"})

# questions: a question in the user's own voice ("how do I ...", "can I ...", "why does ...")
# asks how to use the project, which its documentation answers; anything else (a description
# of behaviour, a symbol) asks for code, and a paragraph that only describes it comes after.
USER_QUESTION_DOC_FACTOR = 1.6
OTHER_QUERY_DOC_FACTOR = 0.9
# Code that is mostly its own documentation (an Elixir @moduledoc, a docstring, a run of `///`
# lines) counts as documentation: many projects answer their users' questions there.
PROSE_SHARE = 0.75
# The user of the project speaks as I or you; "we" and "our" are its developers ("where do we
# retry uploads"), who ask about its code.
_USER_WORDS = frozenset({"i", "im", "ive", "id", "my", "me", "mine", "you", "your"})
_QUESTION_OPENERS = frozenset(
    {"can", "could", "should", "is", "are", "do", "does", "will", "would", "why"}
)
_QUESTION_OPENING_PAIRS = frozenset({("how", "can"), ("how", "should")})
# ...unless it asks for a piece of code by what it is ("is there a helper that parses dates").
_ASKS_FOR_CODE = frozenset(
    {"function", "functions", "method", "methods", "helper", "helpers", "implementation",
     "implemented", "defined"}
)  # fmt: skip

# shape: identifier-like queries trust exact terms, sentences trust meaning.
IDENTIFIER_LEXICAL_WEIGHT = 1.5
SENTENCE_SEMANTIC_WEIGHT = 1.25
SENTENCE_MIN_WORDS = 5


@dataclass(frozen=True)
class QueryIntent:
    """What a query says about the results it wants, read once per search."""

    names: tuple[str, ...]  # identifiers it names exactly (`named_symbols`)
    words: tuple[str, ...]  # its content words, lower case
    identifier_like: bool  # the query is a symbol (or a few), not a sentence
    asks_for: frozenset[str]  # demoted categories it asks for by name or path filter
    user_question: bool  # a question in the user's voice: how do I, can I, why does

    @classmethod
    def of(cls, query: str, path_filters: Sequence[str] = ()) -> QueryIntent:
        names = tuple(named_symbols(query))
        raw = re.findall(r"[A-Za-z0-9_]+", query)
        words = tuple(
            dict.fromkeys(
                part
                for word in raw
                if word.lower() not in STOP_WORDS
                for part in [word.lower(), *identifier_parts(word)]
            )
        )
        filter_words = {p for glob in path_filters for p in re.split(r"[^A-Za-z0-9_]+", glob)}
        asked = set(words) | {w.lower() for w in filter_words}
        asks_for = asked_categories(asked)
        identifier_like = bool(names) and len(raw) <= len(names) + 1
        return cls(names, words, identifier_like, asks_for, _is_user_question(query))


def _is_user_question(query: str) -> bool:
    said = re.findall(r"[a-z0-9]+", query.lower().replace("'", "").replace("\u2019", ""))
    if not said or not _ASKS_FOR_CODE.isdisjoint(said):
        return False
    return (
        not _USER_WORDS.isdisjoint(said)
        or said[0] in _QUESTION_OPENERS
        or tuple(said[:2]) in _QUESTION_OPENING_PAIRS
    )


# Comments and doc strings in the common languages: block comments, triple-quoted strings
# (Python docstrings, Elixir heredocs), and whole lines of //, # (not #include, #[attr]),
# -- or ;; comments.
_PROSE = re.compile(
    r'/\*.*?\*/|""".*?"""|\'\'\'.*?\'\'\'|\(\*.*?\*\)|^[ \t]*(?://|#(?=[\s#]|$)|--|;;).*?$',
    re.S | re.M,
)


# Keyed by whole chunk texts: enough for the candidates of the last few dozen searches (the
# same chunks come back as a query is typed) without holding a large index's texts.
@functools.lru_cache(maxsize=4096)
def is_mostly_prose(code: str) -> bool:
    """Whether at least PROSE_SHARE of a code chunk's characters (outside white space) are
    comments and doc strings."""
    total = len(code) - sum(code.count(c) for c in " \t\n")
    if total <= 0:
        return False
    found: list[str] = _PROSE.findall(code)
    prose = sum(len(part) - sum(part.count(c) for c in " \t\n") for part in found)
    return prose >= PROSE_SHARE * total


def documentation_factor(intent: QueryIntent, found: StoredChunk) -> float:
    """What a chunk's score is multiplied by for being documentation (1 when it is not): a
    paragraph of a document, or code that is mostly comments and doc strings."""
    if found.chunk.kind != "doc" and not is_mostly_prose(found.chunk.text):
        return 1.0
    return USER_QUESTION_DOC_FACTOR if intent.user_question else OTHER_QUERY_DOC_FACTOR


def fusion_weights(intent: QueryIntent) -> tuple[float, float]:
    """(semantic, lexical) weights for fusing the two rankings."""
    if intent.identifier_like:
        return 1.0, IDENTIFIER_LEXICAL_WEIGHT
    if len(intent.words) >= SENTENCE_MIN_WORDS and not intent.names:
        return SENTENCE_SEMANTIC_WEIGHT, 1.0
    return 1.0, 1.0


def definition_boosts(
    intent: QueryIntent, stored: dict[int, StoredChunk], scores: Mapping[int, float]
) -> dict[int, float]:
    """Chunk id → boost for defining a named symbol, sharing its file, or re-exporting it.
    `scores` (the fused scores so far) choose a definition's best piece."""
    if not intent.names:
        return {}
    # A name defined in many files (`toString`, `new`, `String`) says less about which one is
    # meant: its share of the boost shrinks with the number of files that define it.
    share: dict[int, float] = {}
    file_share: dict[tuple[str, str], float] = {}
    for name in intent.names:
        ids = [i for i, found in stored.items() if _defines(found, (name,))]
        files = {_file(stored[i]) for i in ids}
        name_share = min(1.0, DEFINITION_FILES_EXPECTED / len(files)) if files else 0.0
        for chunk_id in ids:
            share[chunk_id] = max(share.get(chunk_id, 0.0), name_share)
        for key in files:
            file_share[key] = max(file_share.get(key, 0.0), name_share)
    best_piece: dict[tuple[str, str, str | None], int] = {}
    for chunk_id in sorted(share):
        found = stored[chunk_id]
        definition = (found.root, found.chunk.path, found.chunk.symbol)
        leader = best_piece.get(definition)
        if leader is None or scores.get(chunk_id, 0.0) > scores.get(leader, 0.0):
            best_piece[definition] = chunk_id
    best = set(best_piece.values())
    boosts: dict[int, float] = {}
    for chunk_id, found in stored.items():
        if chunk_id in share:
            piece = 1.0 if chunk_id in best else OTHER_PIECES_SHARE
            boosts[chunk_id] = DEFINITION_BOOST * share[chunk_id] * piece
        elif _file(found) in file_share:
            boosts[chunk_id] = DEFINING_FILE_BOOST * file_share[_file(found)]
        elif intent.identifier_like and _reexports(found, intent.names):
            boosts[chunk_id] = REEXPORT_BOOST
    return boosts


def path_boosts(intent: QueryIntent, stored: dict[int, StoredChunk]) -> dict[int, float]:
    """Chunk id → boost for query words that name its file's stem or folders."""
    stems = [(w, _stem(w)) for w in intent.words if len(w) >= 3]
    if not stems:
        return {}
    # Candidates share folders: each distinct path word is compared with the query once.
    matched_by_part: dict[str, frozenset[str]] = {}
    matched_by_file: dict[tuple[str, str], frozenset[str]] = {}
    for found in stored.values():
        key = _file(found)
        if key in matched_by_file:
            continue
        matched: set[str] = set()
        for part in _path_stems(found.chunk.path):
            if part not in matched_by_part:
                matched_by_part[part] = frozenset(w for w, stem in stems if _same_stem(stem, part))
            matched |= matched_by_part[part]
        matched_by_file[key] = frozenset(matched)
    words = [w for w, _ in stems]
    most = max(1.0, PATH_WORD_MAX_SHARE * len(matched_by_file))
    telling = {
        w for w in words if sum(w in matched for matched in matched_by_file.values()) <= most
    }
    boosts: dict[int, float] = {}
    for chunk_id, found in stored.items():
        named = len(matched_by_file[_file(found)] & telling)
        if named:
            boosts[chunk_id] = PATH_WORD_BOOST * min(named, PATH_WORDS_COUNTED)
    return boosts


def demoted(intent: QueryIntent, found: StoredChunk) -> bool:
    """Whether a chunk is in a category (tests, examples, ...) the query did not ask for."""
    return bool(categories(found) - intent.asks_for)


def diversify(
    ranked: Iterable[tuple[int, float]], stored: dict[int, StoredChunk]
) -> list[tuple[int, float]]:
    """Re-rank best first so that each chunk of a DIVERSITY_KINDS file beyond the first
    DIVERSITY_FREE_CHUNKS already placed is worth DIVERSITY_FACTOR less than the one before
    it (greedy, with a lazily updated heap)."""
    heap = [(-score, chunk_id, 0) for chunk_id, score in ranked]
    heapq.heapify(heap)
    placed: dict[tuple[str, str], int] = {}
    result: list[tuple[int, float]] = []
    while heap:
        negative, chunk_id, seen = heapq.heappop(heap)
        found = stored.get(chunk_id)
        if found is not None and found.chunk.kind not in DIVERSITY_KINDS:
            found = None
        now = placed.get(_file(found), 0) if found else 0
        if now != seen:
            base = -negative / _diversity_discount(seen)
            heapq.heappush(heap, (-base * _diversity_discount(now), chunk_id, now))
            continue
        result.append((chunk_id, -negative))
        if found:
            placed[_file(found)] = now + 1
    return result


def _diversity_discount(placed_before: int) -> float:
    return float(DIVERSITY_FACTOR ** max(0, placed_before - DIVERSITY_FREE_CHUNKS + 1))


def _file(found: StoredChunk) -> tuple[str, str]:
    return found.root, found.chunk.path


def _defines(found: StoredChunk, names: Sequence[str]) -> bool:
    return found.chunk.kind == "code" and names_symbol(found.chunk.symbol, names)


_REEXPORT = re.compile(r"^\s*(pub\s+use|pub\s*\(crate\)\s*use|export\b|from\s+\S+\s+import)", re.M)


def _reexports(found: StoredChunk, names: Sequence[str]) -> bool:
    """Whether the chunk re-exports one of `names`: names it as what an export statement
    exports, not as the module it comes from (`from .retry import X` does not re-export
    `retry`)."""
    if found.chunk.kind != "code":
        return False
    text = found.chunk.text
    for match in _REEXPORT.finditer(text):
        exported = _exported_part(_statement(text, match.start()))
        if any(
            re.search(rf"\b{re.escape(n.rsplit('.', 1)[-1])}\b(?!\s*(::|\.))", exported)
            for n in names
        ):
            return True
    return False


def _statement(text: str, start: int) -> str:
    """The statement starting at `start`: up to a `;`, or a line end outside brackets."""
    depth = 0
    for position in range(start, len(text)):
        char = text[position]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char == ";" or (char == "\n" and depth == 0):
            return text[start:position]
    return text[start:]


def _exported_part(statement: str) -> str:
    """What a re-export statement exports: after Python's `import`, without JavaScript's
    quoted module name."""
    if statement.lstrip().startswith("from "):
        statement = statement.split(" import ", 1)[-1]
    return re.sub(r"(['\"]).*?\1", "", statement)


def _path_words(path: str) -> frozenset[str]:
    pure = PurePosixPath(path)
    pieces = [*pure.parts[:-1], pure.name.split(".", 1)[0]]
    words = {"".join(identifier_parts(p)) for p in pieces}
    words |= {part for p in pieces for part in identifier_parts(p)}
    return frozenset(w for w in words if len(w) >= 3)


@functools.lru_cache(maxsize=65536)
def _path_stems(path: str) -> frozenset[str]:
    return frozenset(_stem(word) for word in _path_words(path))


def _same_stem(a: str, b: str) -> bool:
    """Two words, their plural and verb endings dropped (`retries` ~ `retry`): equal, or one
    a prefix of the other when both are long enough to be one stem (`extractors` ~
    `extract`, `parser` ~ `parse`)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return short == long or (len(short) >= 5 and long.startswith(short))


_ENDINGS = (("ies", "y"), ("ing", ""), ("ers", ""), ("er", ""), ("ed", ""), ("es", ""), ("s", ""))


def _stem(word: str) -> str:
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: -len(ending)] + replacement
    return word
