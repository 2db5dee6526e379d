"""The dataclasses that flow out of the indexer: one file in, chunks out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ChunkKind = Literal["code", "doc"]


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

    @property
    def embedding_text(self) -> str:
        # GTE reads code as plain text; a short header with the path and symbol gives it the
        # context a reader would have when looking at the chunk inside its file.
        header = self.path if not self.symbol else f"{self.path} | {self.symbol}"
        return f"{header}\n{self.text}"
