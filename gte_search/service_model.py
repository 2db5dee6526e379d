"""One loaded model shared by a service's searches and its watcher.

A fast tokenizer used from two threads at once fails ("Already borrowed"), and two forward
passes at once would only fight for the same cores, so calls into the model take turns. (A
query runs on one thread, a batch on every core: `Embedder.embed_query`.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gte_search.models import EmbeddingModel, ModelError, resolve_model

if TYPE_CHECKING:
    import numpy as np

    from gte_search.embed import Embedder


class _TakingTurns:
    """An `EmbeddingModel` whose calls hold one lock."""

    def __init__(self, model: Embedder) -> None:
        self._model = model
        self._turn = threading.Lock()
        self.model_id = model.model_id
        self.dimension = model.dimension
        self.pooling = model.pooling
        self.precision = model.precision
        self.max_tokens = model.max_tokens

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        with self._turn:
            return self._model.embed(texts, on_batch)

    def embed_query(self, query: str) -> np.ndarray:
        with self._turn:
            return self._model.embed_query(query)

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        with self._turn:
            return self._model.count_line_tokens(rows)


class SharedModel:
    """Loads the index's model once, on first need (or `preload`), for every thread."""

    def __init__(self, trust_remote_code: bool = False) -> None:
        self.trust_remote_code = trust_remote_code
        self._loading = threading.Lock()
        self._model: _TakingTurns | None = None

    def get(self, model_id: str) -> EmbeddingModel:
        with self._loading:
            if self._model is None or self._model.model_id != model_id:
                from gte_search.embed import Embedder

                source = resolve_model(model_id, named_by_user=True)
                embedder = Embedder(source, trust_remote_code=self.trust_remote_code)
                self._model = _TakingTurns(embedder)
            return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def preload(self, model_id: str, log: Callable[[str], object]) -> None:
        try:
            self.get(model_id)
        except ModelError as error:
            log(f"cannot load the model: {error}")  # each search will say so too
