"""The screens over the main one: key help, and the empty-index screen that can index now."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from gte_search.hits import inert

KEYS = (
    ("type", "search as you type; filters: lang:go path:internal/* kind:doc root:NAME"),
    ("↑ ↓", "move through the results (from the search box too)"),
    ("enter", "open the selected hit in $VISUAL / $EDITOR at its line"),
    ("ctrl+y", "copy path:line of the selected hit"),
    ("ctrl+t", "show all / code / docs"),
    ("ctrl+r", "re-index the roots (search keeps working)"),
    ("tab", "move between the search box, results and preview"),
    ("escape", "back to the search box"),
    ("? / f1", "this help"),
    ("ctrl+q", "quit"),
)


def short_path(path: str) -> str:
    """A path for display: `~` for the home folder."""
    home = str(Path.home())
    return "~" + path[len(home) :] if path == home or path.startswith(home + os.sep) else path


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("escape,q,question_mark,f1", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        # A grid, so that a meaning too long for a narrow terminal wraps in its own column.
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", style="bold", no_wrap=True)
        table.add_column()
        for key, meaning in KEYS:
            table.add_row(key, meaning)
        with VerticalScroll(id="help"):
            yield Static(Text("gte-search keys", style="bold"))
            yield Static(table)
            yield Static(Text("escape closes", style="dim"))


class EmptyIndexScreen(ModalScreen[Path | None]):
    """Shown when there is no index yet (or an empty one): how to make one, or make it now."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "dismiss", "skip")]

    def __init__(self, index_dir: Path) -> None:
        super().__init__()
        self.index_dir = index_dir

    def compose(self) -> ComposeResult:
        message = Text("Nothing indexed yet\n\n", style="bold")
        message.append(f"The index at {short_path(str(self.index_dir))} is empty or missing.\n")
        message.append("Index a project from a shell with\n\n")
        message.append("    gte-search index PATH\n\n", style="bold")
        message.append("or type a folder to index now and press enter:")
        with Vertical(id="empty"):
            yield Static(message)
            yield Input(placeholder="path to a project, e.g. ~/src/myproject", id="index-path")
            yield Static(Text("", style="red"), id="empty-error")

    @on(Input.Submitted, "#index-path")
    def submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not event.value.strip() or not path.is_dir():
            error = Text(f"{inert(event.value)!s} is not a folder", style="red")
            self.query_one("#empty-error", Static).update(error)
            return
        self.dismiss(path.resolve())
