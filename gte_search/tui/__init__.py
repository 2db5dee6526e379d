"""The Textual TUI. `make_app` builds it, for the CLI and the tests alike."""

from gte_search.tui.app import SearchApp, make_app

__all__ = ["SearchApp", "make_app"]
