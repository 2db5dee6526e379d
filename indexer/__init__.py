"""The indexing pipeline's front half: find files and cut them into chunks.

Nothing here imports torch or faiss, so listing and chunking stay fast and testable.
"""

from indexer.chunk import Chunk
from indexer.chunking import chunk_file
from indexer.languages import language_for

__all__ = ["Chunk", "chunk_file", "language_for"]
