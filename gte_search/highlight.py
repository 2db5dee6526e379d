"""Which words of a result to highlight, and the few lines that best show why it matched."""

from __future__ import annotations

import re

from gte_search.hits import SearchHit
from gte_search.lexical import STOP_WORDS

_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")


def highlight_terms(query: str) -> set[str]:
    """Lower-cased words of a query, identifiers split (retryPolicy → retry, policy), without
    the stop words the lexical search ignores too."""
    words = {word.lower() for word in _WORD.findall(query)}
    return {word for word in words if word not in STOP_WORDS and len(word) > 1}


def term_spans(line: str, terms: set[str]) -> list[tuple[int, int]]:
    """Character spans in `line` of words that start with a query term (retry → retries)."""
    spans = []
    for match in _WORD.finditer(line):
        word = match.group().lower()
        # Prefixes both ways: "retry" marks "retries", "retrying" marks "retry".
        if any(word.startswith(t) or (t.startswith(word) and len(word) > 3) for t in terms):
            spans.append(match.span())
    return spans


def best_lines(hit: SearchHit, query: str, count: int = 4) -> tuple[int, list[str]]:
    """The `count` consecutive lines of a hit that mention the query most, with the line number
    of the first. Falls back to the hit's first lines, where a signature usually is."""
    lines = hit.text.split("\n")
    terms = highlight_terms(query)
    hits_per_line = [len(term_spans(line, terms)) for line in lines]
    best_start, best_total = 0, 0
    for start in range(max(1, len(lines) - count + 1)):
        total = sum(hits_per_line[start : start + count])
        if total > best_total:
            best_start, best_total = start, total
    return hit.start_line + best_start, lines[best_start : best_start + count]


def best_line(hit: SearchHit, query: str) -> tuple[int, int, str]:
    """The one line of a hit that mentions the query most (the first line, where a signature
    usually is, when none does): its line number, the 0-based character offset of its first
    query term (0 when none), and its text."""
    lines = hit.text.split("\n")
    terms = highlight_terms(query)
    spans = [term_spans(line, terms) for line in lines]
    best = max(range(len(lines)), key=lambda i: (len(spans[i]), -i))
    offset = spans[best][0][0] if spans[best] else 0
    return hit.start_line + best, offset, lines[best]
