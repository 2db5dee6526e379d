"""Chunk prose (Markdown, reStructuredText, plain text) by paragraph under its headings.

A paragraph is a run of non-blank lines. Heading lines open a section and are folded into
the first paragraph after them; each chunk's symbol is its heading path ("Install > From
source"). Fenced code blocks are one paragraph however many blank lines they hold, and
join a short paragraph before them (the sentence that introduces them); indented blocks
(reST literal blocks and directive bodies, list continuations) join the paragraph above
them the same way. Tiny paragraphs join the next one in the same section.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from indexer.chunk import Chunk
from indexer.tokens import LineCounter, text_budget
from indexer.windows import Lines, pack_chunks

# Below this many tokens a paragraph says too little to be found on its own.
TINY_TOKENS = 20
# A paragraph up to this share of the budget is "the sentence before a code block".
INTRO_SHARE = 4

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
_NOT_A_TITLE = re.compile(r"\s*(?:[-*+>|]|\d+[.)])(?:\s|$)")
# reST adornment: one punctuation character repeated, at least three times.
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1{2,}[ \t]*")


@dataclass
class _Block:
    start: int
    end: int
    path: tuple[str, ...]
    joins_previous: bool = False  # a code block or indented block


def chunk_document(
    path: str, text: str, language: str, max_tokens: int, count_lines: LineCounter | None = None
) -> list[Chunk]:
    """Chunks of a Markdown ("markdown"), reST ("rst") or plain-text ("text") document."""
    lines = Lines(path, text, language, "doc", count_lines)
    chunks: list[Chunk] = []
    for block in _merge(lines, _blocks(lines.rows, language), max_tokens):
        symbol = " > ".join(block.path) or None
        chunks += pack_chunks(lines, block.start, block.end, max_tokens, symbol)
    return chunks


def _blocks(rows: list[str], language: str) -> list[_Block]:
    """Paragraphs and fenced blocks in order, each with the heading path it sits under."""
    blocks: list[_Block] = []
    headings: list[tuple[int, str]] = []  # (level, title) from the top
    rst_styles: dict[tuple[str, bool], int] = {}
    pending: int | None = None  # first row of heading lines waiting for their paragraph
    start: int | None = None  # first row of the paragraph being read

    def close(end: int, joins_previous: bool = False) -> None:
        nonlocal pending, start
        if start is None:
            return
        first = start if pending is None else pending
        indented = rows[start][:1].isspace()
        path = tuple(title for _, title in headings)
        blocks.append(_Block(first, end, path, joins_previous or indented))
        pending = start = None

    row = 0
    while row < len(rows):
        line = rows[row]
        if not line.strip():
            close(row - 1)
            row += 1
            continue
        fence = _FENCE.match(line) if language == "markdown" else None
        if fence:
            close(row - 1)
            start, row = row, _fence_end(rows, row, fence.group(1))
            close(row, joins_previous=True)
            row += 1
            continue
        heading = _heading(rows, row, language, start is None, rst_styles)
        if heading is None:
            start = row if start is None else start
            row += 1
            continue
        level, title, last = heading
        title = plain_title(title)
        close(row - 1)
        while headings and headings[-1][0] >= level:
            headings.pop()
        headings.append((level, title))
        pending = row if pending is None else pending
        row = last + 1
    close(len(rows) - 1)
    if pending is not None:  # headings with nothing after them must not vanish
        path = tuple(title for _, title in headings)
        blocks.append(_Block(pending, len(rows) - 1, path))
    return blocks


def _fence_end(rows: list[str], row: int, opener: str) -> int:
    """Row of the fence closing the one opened at `row`; the last row if it never closes."""
    closing = re.compile(rf" {{0,3}}{re.escape(opener[0])}{{{len(opener)},}}[ \t]*")
    for end in range(row + 1, len(rows)):
        if closing.fullmatch(rows[end]):
            return end
    return len(rows) - 1


def _heading(
    rows: list[str],
    row: int,
    language: str,
    starts_paragraph: bool,
    rst_styles: dict[tuple[str, bool], int],
) -> tuple[int, str, int] | None:
    """(level, title, last row) of a heading starting at `row`, if one does."""
    line = rows[row]
    below = rows[row + 1] if row + 1 < len(rows) else ""
    if language == "markdown":
        atx = _ATX.fullmatch(line)
        if atx:
            return len(atx.group(1)), (atx.group(2) or "").strip(), row
        setext = _SETEXT.fullmatch(below)
        if starts_paragraph and setext and not _NOT_A_TITLE.match(line):
            return (1 if setext.group(1)[0] == "=" else 2), line.strip(), row + 1
    elif language == "rst" and starts_paragraph:
        over = _ADORNMENT.fullmatch(line)
        if over and row + 2 < len(rows) and rows[row + 2].strip() == line.strip() and below:
            style, title, last = (line.strip()[0], True), below.strip(), row + 2
        elif not over and not line[:1].isspace() and _ADORNMENT.fullmatch(below):
            style, title, last = (below.strip()[0], False), line.strip(), row + 1
        else:
            return None
        # reST has no fixed levels: each new adornment style is one level deeper.
        level = rst_styles.setdefault(style, len(rst_styles) + 1)
        return level, title, last
    return None


# Markup a heading can carry that says nothing to a reader of the heading path: HTML tags
# (a logo's alt text stays), Markdown images (badges), links (their text stays), entities.
_IMG_ALT = re.compile(r"<img\b[^>]*?\balt=([\"'])(.*?)\1[^>]*>", re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_IMAGE = re.compile(r"\[?!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])?(?:\]\([^)]*\)|\]\[[^\]]*\])?")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_IMAGE_ALT = re.compile(r"!\[([^\]]*)\]")


def plain_title(title: str) -> str:
    """A heading's text without markup (`<img alt="chi" src=...>` → `chi`, `Serde JSON
    [![Build Status]][actions]` → `Serde JSON`); an image's alt text when nothing else is
    left. The heading path is embedded with every paragraph under it and shown with each
    hit."""
    text = _IMG_ALT.sub(r" \2 ", title)
    text = _TAG.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = " ".join(html.unescape(text).split())
    alts = " ".join(alt for alt in _IMAGE_ALT.findall(title) if alt.strip())
    return text or alts or title


def _merge(lines: Lines, blocks: list[_Block], max_tokens: int) -> list[_Block]:
    """Join tiny paragraphs forward and code blocks backward, within one section."""
    merged: list[_Block] = []
    for block in blocks:
        previous = merged[-1] if merged else None
        if previous is not None and previous.path == block.path:
            budget = text_budget(max_tokens, lines.path, " > ".join(block.path))
            size = lines.weight(previous.start, previous.end)
            wanted = size < TINY_TOKENS or (block.joins_previous and size <= budget // INTRO_SHARE)
            if wanted and lines.weight(previous.start, block.end) <= budget:
                previous.end = block.end
                continue
        merged.append(block)
    # A tiny last paragraph of a section has no next one to join: it joins the one above.
    result: list[_Block] = []
    for block in merged:
        previous = result[-1] if result else None
        if (
            previous is not None
            and previous.path == block.path
            and lines.weight(block.start, block.end) < TINY_TOKENS
            and lines.weight(previous.start, block.end)
            <= text_budget(max_tokens, lines.path, " > ".join(block.path))
        ):
            previous.end = block.end
            continue
        result.append(block)
    return result
