"""The chunking stage's one entry point: pick a chunker by the file's language."""

from __future__ import annotations

from indexer.chunk import Chunk
from indexer.code import chunk_code
from indexer.docs import chunk_document
from indexer.languages import fallback_language, is_code, language_for
from indexer.tokens import LineCounter
from indexer.windows import chunk_lines

# Bumped whenever chunk boundaries, symbols or languages change, so that an index made by an
# earlier version re-chunks its files (vectors of unchanged texts are reused) on its next run.
CHUNKER_VERSION = "5"


def chunk_file(
    path: str, text: str, max_tokens: int = 512, count_lines: LineCounter | None = None
) -> list[Chunk]:
    """Cut one text file into chunks whose `embedding_text` fits `max_tokens` tokens, each
    line priced by `count_lines` (the model's tokenizer) or else a conservative estimate.

    - a language with a grammar (see `languages.CODE_LANGUAGES`): definitions via tree-sitter;
    - Markdown, reStructuredText, plain text: paragraphs under their heading path;
    - anything else: line windows, labelled with the file's suffix (``yaml``, ``php``) and
      kind "code" for source-like suffixes, else labelled "text" / the suffix, kind "doc".
    """
    language = language_for(path)
    if language is None:
        label, kind = fallback_language(path)
        return chunk_lines(path, text, label, max_tokens, kind, count_lines)
    if is_code(language):
        return chunk_code(path, text, language, max_tokens, count_lines)
    return chunk_document(path, text, language, max_tokens, count_lines)
