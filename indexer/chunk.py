"""The dataclass that flows out of the indexer: one file in, chunks out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from indexer.read import content_hash

ChunkKind = Literal["code", "doc"]
CHUNK_KINDS: tuple[ChunkKind, ...] = ("code", "doc")


def embedding_header(path: str, symbol: str | None) -> str:
    """The line put above a chunk's text when it is embedded: its path and symbol.

    GTE reads code as plain text; the header gives it the context a reader has when looking
    at the chunk inside its file. The chunker prices this line too (`tokens.text_budget`)."""
    return path if not symbol else f"{path} | {symbol}"


@dataclass(frozen=True)
class Chunk:
    """A searchable piece of a file: a definition, a group of top-level lines, or a paragraph.

    `path` is relative to the root the file was found under, with forward slashes.
    Lines are 1-based and inclusive. `symbol` is a qualified name for code
    (``Client.send``) or a heading path for documents (``Install > From source``).
    """

    path: str
    start_line: int
    end_line: int
    kind: ChunkKind
    language: str
    symbol: str | None
    text: str

    @cached_property
    def embedding_text(self) -> str:
        return f"{embedding_header(self.path, self.symbol)}\n{self.text}"

    @cached_property
    def embedding_hash(self) -> str:
        """Identifies the embedded text: equal hashes share one vector, in any file."""
        return content_hash(self.embedding_text.encode("utf-8"))
