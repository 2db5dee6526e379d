"""What the preview pane shows for a hit: the file around it, or the doc paragraph with the
sentences that answer the query emphasised.

File content is untrusted. Everything built here is a Rich renderable made from plain text
(never markup strings), with control characters made visible first, so a file cannot move the
cursor, set the title, write the clipboard or make links.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.text import Text

from gte_search.highlight import highlight_terms, term_spans
from gte_search.hits import PathOutsideRoot, SearchHit, inert, resolve_hit_path
from indexer.read import SourceText, read_source

# Lines of the file shown around a hit; the whole file when it is shorter than this window.
CONTEXT_LINES = 40
SYNTAX_THEME = "ansi_dark"  # colours from the terminal's own palette
HIT_LINE_STYLE = "bold"
TERM_STYLE = "bold underline"
ANSWER_STYLE = "bold reverse"

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9`\"'(\[*_])|\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.)\s)")

# Markdown ATX headings, and the underline/overline rows of setext and reST headings.
_NOT_PROSE = re.compile(r"\s{0,3}#{1,6}(\s|$)|\s*([=\-~^*+#`'\".:_])\2{2,}\s*$")


# Issue 6's check, under the name this module and the app already use.
HitPathError = PathOutsideRoot


@dataclass(frozen=True)
class FileWindow:
    first_line: int  # 1-based number of lines[0]
    lines: list[str]
    from_index: bool  # True when the file could not be read and the indexed text is shown


def file_window(hit: SearchHit, context: int = CONTEXT_LINES) -> FileWindow:
    """The lines around a hit, read from its file now; the indexed text if that fails."""
    try:
        source = read_source(resolve_hit_path(hit))
    except (HitPathError, OSError):
        source = None
    if not isinstance(source, SourceText):
        return FileWindow(
            hit.start_line, inert(hit.text, multiline=True).split("\n"), from_index=True
        )
    lines = inert(source.text, multiline=True).split("\n")
    first = max(1, hit.start_line - context)
    last = min(len(lines), hit.end_line + context)
    return FileWindow(first, lines[first - 1 : last], from_index=False)


@dataclass(frozen=True)
class Preview:
    title: Text  # the hit's location, kind and language
    body: RenderableType
    row: int  # the body's row where the hit starts, to scroll to


def code_preview(hit: SearchHit, query: str) -> Preview:
    """The file around a code hit, highlighted, the hit's lines marked."""
    window = file_window(hit)
    code = "\n".join(window.lines)
    syntax = Syntax(
        code,
        Syntax.guess_lexer(hit.path, code),
        theme=SYNTAX_THEME,
        line_numbers=True,
        start_line=window.first_line,
        highlight_lines=set(range(hit.start_line, hit.end_line + 1)),
        word_wrap=False,
        tab_size=4,
    )
    terms = highlight_terms(query)
    for number in range(hit.start_line, hit.end_line + 1):
        row = number - window.first_line
        if not 0 <= row < len(window.lines):
            continue
        line = row + 1  # Syntax counts lines of `code` from 1
        syntax.stylize_range(HIT_LINE_STYLE, (line, 0), (line, len(window.lines[row])))
        for start, end in term_spans(window.lines[row], terms):
            syntax.stylize_range(TERM_STYLE, (line, start), (line, end))
    row = max(0, hit.start_line - window.first_line)
    return Preview(_header(hit, window.from_index), syntax, row)


def split_sentences(paragraph: str) -> list[str]:
    """Sentences and list items of a paragraph; headings and rule lines are not sentences
    (the heading path is shown anyway)."""
    body = "\n".join(line for line in paragraph.split("\n") if not _NOT_PROSE.match(line))
    return [part.strip() for part in _SENTENCE_END.split(body) if part.strip()]


# Inline markup shown as its text: reST roles (:func:`x`), ``literals``, `links <url>`_ and
# `refs`_, Markdown `code`, **strong** and *emphasis*; a list item's bullet or number.
_ROLE = re.compile(r":[\w.+-]+:`([^`]+)`")
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_{1,2}")
_LITERAL = re.compile(r"``(.+?)``|`([^`]+)`_{0,2}")
_EMPHASIS = re.compile(r"(\*\*|\*)(?=\S)(.+?)(?<=\S)\1")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)])\s+")


def plain_sentence(sentence: str) -> str:
    """A sentence without its inline markup, on one line, for the answer lines."""
    text = " ".join(sentence.split())
    text = _BULLET.sub("", text)
    text = _ROLE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _LITERAL.sub(lambda match: match.group(1) or match.group(2), text)
    return _EMPHASIS.sub(r"\2", text)


def best_sentences(text: str, query: str, count: int = 2) -> list[str]:
    """The sentences of a paragraph that mention the query's terms most (a lexical scorer:
    distinct terms matched, then repeated mentions, lightly favouring short sentences), best
    first, at most `count`; sentences matching no term are never chosen."""
    terms = highlight_terms(query)
    scored = []
    for position, sentence in enumerate(split_sentences(text)):
        spans = term_spans(sentence, terms)
        matched = {sentence[a:b].lower() for a, b in spans}
        if not matched:
            continue
        words = max(1, len(sentence.split()))
        score = len(matched) + 0.25 * min(len(spans), 4) + len(matched) / math.sqrt(words)
        scored.append((score, -position, sentence))
    scored.sort(reverse=True)
    return [sentence for _, _, sentence in scored[:count]]


def _emphasise(markdown: str, sentence: str) -> str:
    """Wrap `sentence` in ** when that cannot break the Markdown around it."""
    if "*" in sentence or sentence.count("`") % 2 or sentence.startswith(("#", "-", "+", ">")):
        return markdown
    return markdown.replace(sentence, f"**{sentence}**", 1)


def doc_preview(hit: SearchHit, query: str) -> Preview:
    """A doc hit as Markdown under its heading path, the best-matching sentences emphasised
    and repeated above it, so the answer is what the eye lands on."""
    text = inert(hit.text, multiline=True)
    answers = best_sentences(text, query)
    parts: list[RenderableType] = []
    if hit.symbol:
        parts.append(Text(inert(hit.symbol), style="bold"))
    terms = highlight_terms(query)
    for sentence in answers:
        line = Text("▌ ", style="bold")
        body = Text(plain_sentence(sentence))
        for start, end in term_spans(body.plain, terms):
            body.stylize(TERM_STYLE, start, end)
        line.append_text(body)
        parts.append(line)
    if answers:
        parts.append(Text(""))
    for sentence in answers:
        text = _emphasise(text, sentence)
    parts.append(Markdown(text, hyperlinks=False, code_theme=SYNTAX_THEME))
    return Preview(_header(hit, from_index=False), Group(*parts), 0)


def _header(hit: SearchHit, from_index: bool) -> Text:
    header = Text(inert(f"{hit.path}:{hit.start_line}-{hit.end_line}"), style="bold")
    header.append(f"  {hit.kind} · {hit.language}", style="dim")
    if from_index:
        header.append("  (file unreadable now; indexed text shown)", style="dim italic")
    return header


def hit_preview(hit: SearchHit, query: str) -> Preview:
    return doc_preview(hit, query) if hit.kind == "doc" else code_preview(hit, query)
