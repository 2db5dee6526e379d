"""The Textual TUI. `make_app` builds it, for the CLI and the tests alike."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from gte_search.tui.app import DEBOUNCE_SECONDS, WATCH_SECONDS, SearchApp
from gte_search.tui.backend import EmbedderLoader, load_embedder

__all__ = ["SearchApp", "make_app"]


def make_app(
    index_dir: Path,
    *,
    model: str | None = None,
    trust_remote_code: bool = False,
    loader: EmbedderLoader | None = None,
    debounce: float = DEBOUNCE_SECONDS,
    show_latency: bool = True,
    watch_seconds: float = WATCH_SECONDS,
) -> SearchApp:
    """The one way to build the TUI, for the CLI and the tests alike. `model` is used only to
    create a new index; searches always use the index's own model."""
    return SearchApp(
        index_dir,
        loader=loader or partial(load_embedder, trust_remote_code=trust_remote_code),
        model=model,
        debounce=debounce,
        show_latency=show_latency,
        watch_seconds=watch_seconds,
    )
