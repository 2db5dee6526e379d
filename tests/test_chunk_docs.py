"""Documents become paragraph chunks named by their heading path."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tokenizers import Tokenizer

from indexer import Chunk, chunk_file

README = """\
# gte-search

Semantic search for code.

## Installation

Install it with pip from PyPI; on Linux this pulls the CPU build of torch by default.

Note:

The index lives under your user data directory unless `GTE_SEARCH_INDEX` points elsewhere.

### From source

Index a folder:

```bash
# not a heading: a shell comment
gte-search index ~/src/project

gte-search search "retry with backoff"
```

Clone the repository, then install it in editable mode together with the development extras.

Usage
-----

Run `gte-search index .` in a repository, then ask a question in plain English to find code.

## FAQ
### Why GTE?
It handles code and prose in one model, and the small variant runs fine on a laptop CPU.
"""

GUIDE = """\
==========
User guide
==========

This guide explains how the index is built and how to query it from the terminal.

Installing
----------

Run this::

    pip install gte-search

    gte-search --help

From a wheel
~~~~~~~~~~~~

Download the wheel for your platform from the releases page and install it with pip.

Configuring
-----------

Settings come from flags first, then environment variables, then built-in defaults.
"""

SENTENCE = "The quick brown fox jumps over the lazy dog near the riverbank at dawn again."


@pytest.fixture(scope="module")
def real_tokens(wordpiece: Tokenizer) -> Callable[[str], int]:
    """Token count of the real tokenizer, [CLS] and [SEP] included."""
    return lambda text: len(wordpiece.encode(text).ids)


def spans(chunks: list[Chunk]) -> list[tuple[str | None, int, int]]:
    return [(c.symbol, c.start_line, c.end_line) for c in chunks]


def assert_faithful(chunks: list[Chunk], text: str) -> None:
    rows = text.split("\n")
    for chunk in chunks:
        assert chunk.text == "\n".join(rows[chunk.start_line - 1 : chunk.end_line])
    covered = {n for c in chunks for n in range(c.start_line, c.end_line + 1)}
    assert [n for n, row in enumerate(rows, 1) if row.strip() and n not in covered] == []


def test_markdown_paragraphs_carry_their_heading_path() -> None:
    chunks = chunk_file("README.md", README)

    assert spans(chunks) == [
        ("gte-search", 1, 3),
        ("gte-search > Installation", 5, 7),
        ("gte-search > Installation", 9, 11),  # "Note:" is too small alone: joins the next
        ("gte-search > Installation > From source", 13, 22),  # intro + whole code block
        ("gte-search > Installation > From source", 24, 24),
        ("gte-search > Usage", 26, 29),  # setext heading, level 2
        ("gte-search > FAQ > Why GTE?", 31, 33),  # an empty section's heading is kept
    ]
    assert {(c.kind, c.language) for c in chunks} == {("doc", "markdown")}
    assert_faithful(chunks, README)


def test_headings_lose_their_logos_badges_and_links() -> None:
    # What a project's README often opens with: the heading path shows and embeds words.
    text = (
        '# <img alt="chi" src="https://cdn.example.org/chi.svg" width="220" />\n\n'
        "Intro paragraph of the router, long enough to stand alone as a chunk.\n\n"
        "## Serde JSON &emsp; [![Build Status]][actions] [![Latest Version]][crates.io]\n\n"
        "Parsing paragraph, long enough to stand alone as a chunk of its own here.\n\n"
        "### Install with [pip](https://pip.pypa.io)\n\n"
        "Install paragraph, long enough to stand alone as a chunk of its own too.\n"
    )
    assert [c.symbol for c in chunk_file("README.md", text)] == [
        "chi",
        "chi > Serde JSON",
        "chi > Serde JSON > Install with pip",
    ]


def test_a_fenced_block_is_never_split_at_its_blank_lines() -> None:
    intro = "Long introduction. " * 40  # too long to absorb the block
    text = f"# Demo\n\n{intro}\n\n~~~python\ndef a():\n    pass\n\n\ndef b():\n    pass\n~~~\n"
    chunks = chunk_file("demo.md", text)

    assert spans(chunks) == [("Demo", 1, 3), ("Demo", 5, 12)]
    assert chunks[1].text.startswith("~~~python") and chunks[1].text.endswith("~~~")


def test_a_heading_inside_a_fence_is_not_a_heading() -> None:
    chunk = chunk_file("README.md", README)[3]
    assert "# not a heading" in chunk.text
    assert chunk.symbol == "gte-search > Installation > From source"


def test_rst_titles_nest_in_the_order_their_adornments_appear() -> None:
    chunks = chunk_file("docs/guide.rst", GUIDE)

    assert spans(chunks) == [
        ("User guide", 1, 5),
        ("User guide > Installing", 7, 14),  # the literal block stays with "Run this::"
        ("User guide > Installing > From a wheel", 16, 19),
        ("User guide > Configuring", 21, 24),
    ]
    assert {(c.kind, c.language) for c in chunks} == {("doc", "rst")}


def test_tiny_paragraphs_join_the_next_but_not_across_headings() -> None:
    text = f"# A\n\nShort.\n\nAlso short.\n\n{SENTENCE} {SENTENCE}\n\n# B\n\nTiny.\n"
    assert spans(chunk_file("notes.md", text)) == [("A", 1, 7), ("B", 9, 11)]


def test_paragraphs_of_useful_size_stay_apart() -> None:
    text = "\n\n".join([SENTENCE] * 3)
    chunks = chunk_file("notes.txt", text)

    assert spans(chunks) == [(None, 1, 1), (None, 3, 3), (None, 5, 5)]
    assert {c.language for c in chunks} == {"text"}


def test_plain_text_has_no_headings() -> None:
    text = f"# not a heading in a .txt file\n\n{SENTENCE}\n"
    assert {c.symbol for c in chunk_file("notes.txt", text)} == {None}


@pytest.mark.parametrize("fence", [False, True])
def test_oversized_paragraphs_are_split_by_lines_under_budget(
    fence: bool, real_tokens: Callable[[str], int]
) -> None:
    body = [f"Line {i}: {SENTENCE}" for i in range(200)]
    if fence:
        body = ["```text", *body, "```"]
    text = "\n".join(["Big section", "===========", "", *body])
    chunks = chunk_file("big.rst" if not fence else "big.md", text)

    assert len(chunks) > 3
    assert {c.symbol for c in chunks} == {"Big section"}
    assert all(real_tokens(c.embedding_text) <= 512 for c in chunks)
    assert_faithful(chunks, text)


def test_real_documents_fit_the_real_tokenizer(real_tokens: Callable[[str], int]) -> None:
    for path, text in [("README.md", README), ("guide.rst", GUIDE)]:
        for max_tokens in (512, 64):
            chunks = chunk_file(path, text, max_tokens=max_tokens)
            assert all(real_tokens(c.embedding_text) <= max_tokens for c in chunks)
            assert_faithful(chunks, text)
