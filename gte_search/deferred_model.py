"""An embedder whose weights load in a background thread while the update stores chunks.

Importing torch and loading a model takes seconds (most of a small update), and the first
phase of an update (`gte_search.indexing`) needs none of it: only the model's id, dimension,
pooling, token limit and tokenizer, which its folder's JSON files and the `tokenizers` library
give in a fraction of a second. So a new root is searchable by its words before torch has
even been imported; `embed` waits for the load the first time it is called.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gte_search.pipeline import in_background

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

    from gte_search.models import EmbeddingModel, ModelSource, Pooling


class DeferredEmbedder:
    """An `EmbeddingModel` that answers from the model's folder at once and loads the real
    one (`load`) in a background thread; a load error surfaces at the first `embed`."""

    def __init__(
        self,
        source: ModelSource,
        tokenizer: Tokenizer,
        dimension: int,
        max_tokens: int,
        load: Callable[[], EmbeddingModel],
    ) -> None:
        self.model_id = source.model_id
        self.pooling: Pooling = source.pooling
        self.dimension = dimension
        self.max_tokens = max_tokens
        self._tokenizer = tokenizer
        # A load error is raised where the model is first needed.
        self._loading = in_background(load, "gte-search-model")

    @property
    def model(self) -> EmbeddingModel:
        return self._loading.result()

    @property
    def precision(self) -> str:
        return self.model.precision

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        return self.model.embed(texts, on_batch)

    def embed_query(self, query: str) -> np.ndarray:
        return self.model.embed_query(query)

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        """As `Embedder.count_line_tokens`: the same fast tokenizer, from its tokenizer.json."""
        if not rows:
            return []
        encoded = self._tokenizer.encode_batch(rows, add_special_tokens=False)
        return [float(len(item.ids)) for item in encoded]


def defer_loading(
    source: ModelSource, load: Callable[[], EmbeddingModel]
) -> DeferredEmbedder | None:
    """A `DeferredEmbedder` for a model whose folder says all phase 1 needs (a tokenizer.json
    and a config.json with its width), else None: the caller loads it the usual way."""
    folder = source.directory
    try:
        config = json.loads((folder / "config.json").read_text())
        tokenizer_config = (folder / "tokenizer_config.json").read_text()
        model_max_length = json.loads(tokenizer_config).get("model_max_length")
        dimension = int(config["hidden_size"])
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    # Shipped tokenizer.json files may pad and truncate (MiniLM's to 128): counting must not.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    max_tokens = source.sequence_limit(config.get("max_position_embeddings"), model_max_length)
    return DeferredEmbedder(source, tokenizer, dimension, max_tokens, load)
