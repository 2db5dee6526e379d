"""Which model an update embeds with, decided in one place for the CLI and the TUI."""

from __future__ import annotations

from dataclasses import dataclass

from gte_search.config import DEFAULT_MODEL
from gte_search.reports import IndexProblem
from gte_search.store import IndexModel, Store
from gte_search.vector_cache import VectorCache


@dataclass(frozen=True)
class ModelChoice:
    model_id: str
    # Only a model the user did not name (the default) may fall back to the bundled one.
    named_by_user: bool


def choose_model(current: IndexModel | None, requested: str | None) -> ModelChoice:
    """The model an update embeds with: the one asked for, else the index's own (re-indexing
    and rebuilding keep it), else the default. The CLI and the TUI both choose here."""
    if requested is None and current is not None:
        return ModelChoice(current.model_id, named_by_user=True)
    return ModelChoice(requested or DEFAULT_MODEL, named_by_user=requested is not None)


def prepare_model(store: Store, cache: VectorCache, model_id: str, *, rebuild: bool) -> None:
    """Refuse to mix vectors of two models in one index. With `rebuild`, start over: every
    chunk and vector is dropped (the roots and settings stay), so the next update re-embeds
    everything, with `model_id`."""
    current = store.model()
    if rebuild:
        cache.invalidate()
        store.clear_content()
        cache.forget()
        return
    if current is not None and current.model_id != model_id:
        raise IndexProblem(
            f"this index was built with {current.model_id}, not {model_id}; "
            "rerun with --rebuild to re-embed everything with the new model"
        )
