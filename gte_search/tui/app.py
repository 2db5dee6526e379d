"""The Textual app: search as you type, a results table, a preview of the selected hit.

It uses the library API only (`SearchIndex` through `backend`); it never touches SQLite or
FAISS. Build it with `make_app`, which the CLI and the tests share.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Input, ProgressBar, Static

from gte_search.hits import SearchHit, display_path, inert, resolve_hit_path
from gte_search.index import IndexStatus
from gte_search.models import ModelError
from gte_search.query import QueryError, SearchFilters, make_filters, parse_query
from gte_search.tui.backend import (
    EmbedderLoader,
    Searcher,
    ServiceGone,
    indexer_running,
)
from gte_search.tui.editor import EditorError, open_command, run_editor
from gte_search.tui.preview import HitPathError, hit_preview
from gte_search.tui.reindexing import Reindexing
from gte_search.tui.results import ResultsTable, root_labels
from gte_search.tui.screens import EmptyIndexScreen, HelpScreen
from gte_search.tui.status import model_name, search_hint, status_line

DEBOUNCE_SECONDS = 0.25
WATCH_SECONDS = 2.0  # how often to look whether another process has changed the index
RESULTS = 25
KIND_CYCLE: tuple[str | None, ...] = (None, "code", "doc")
KIND_LABEL = {None: "all", "code": "code", "doc": "docs"}


class SearchApp(Reindexing):
    CSS_PATH = "app.tcss"
    TITLE = "gte-search"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "toggle_kind", "all/code/docs", priority=True),
        Binding("ctrl+y", "copy", "copy path:line", priority=True),
        Binding("ctrl+r", "reindex", "re-index", priority=True),
        Binding("f1,question_mark", "help", "keys", key_display="?"),
        Binding("down,ctrl+n", "cursor(1)", show=False),
        Binding("up,ctrl+p", "cursor(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("escape", "focus_query", show=False),
        Binding("ctrl+q", "quit", "quit", priority=True),
    ]

    def __init__(
        self,
        index_dir: Path,
        *,
        loader: EmbedderLoader,
        model: str | None = None,
        debounce: float = DEBOUNCE_SECONDS,
        show_latency: bool = True,
        watch_seconds: float = WATCH_SECONDS,
    ) -> None:
        # The terminal's own palette. Textual picks its NO_COLOR filter from this flag while it
        # initialises, before the theme is set: without it NO_COLOR drew black on black.
        super().__init__(ansi_color=True)
        self.theme = "ansi-dark"
        # Screen classes for app.tcss: short terminals get a one-row search box and yield
        # preview rows to the results; tiny ones show no preview body.
        self.VERTICAL_BREAKPOINTS = [(0, "-tiny"), (16, "-short"), (30, "-tall")]
        self.index_dir = index_dir
        self.loader = loader
        self.model = model
        self.debounce = debounce
        self.show_latency = show_latency
        self.watch_seconds = watch_seconds
        self.searcher = Searcher(index_dir, loader)
        self.hits: list[SearchHit] = []
        self.query_text = ""
        self.kind: str | None = None
        self.status_info: IndexStatus | None = None
        self.latency: float | None = None
        self.model_note = "no model yet"
        self.model_ready = asyncio.Event()
        self.indexing = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder="Search code and docs…  (? for keys)", id="query")
        yield Static(id="filters")
        yield ResultsTable()
        yield Static(id="preview-title")
        with VerticalScroll(id="preview-pane"):
            yield Static(id="preview")
        with Horizontal(id="indexing"):
            yield Static(id="indexing-label")
            yield ProgressBar(id="progress", show_eta=False)
        yield Static(id="status")
        yield Footer()

    async def on_mount(self) -> None:
        self.show_filters()
        self.show_preview()
        self.query_one("#query", Input).focus()
        await self.open_index()
        self.set_interval(self.watch_seconds, self.watch_index)

    async def on_unmount(self) -> None:
        self.searcher.shutdown()

    # the index and the model

    async def open_index(self) -> None:
        self.status_info = await self.searcher.run(self.searcher.open)
        if self.quitting():
            return
        self.query_one(ResultsTable).labels = root_labels(
            self.status_info.roots if self.status_info else []
        )
        self.show_status()
        if self.status_info is None or self.status_info.chunks == 0:
            if not isinstance(self.screen, EmptyIndexScreen):
                self.push_screen(EmptyIndexScreen(self.index_dir), self.index_now)
            return
        if isinstance(self.screen, EmptyIndexScreen):  # indexed meanwhile, from a shell
            self.screen.dismiss(None)
        if not self.model_ready.is_set():
            self.load_model()

    async def watch_index(self) -> None:
        """Pick up what another process (a `gte-search index` in a shell) wrote, once it has
        finished: the status line and the results then match the index."""
        if self.indexing or indexer_running(self.index_dir):
            return
        if not await self.searcher.run(self.searcher.written_elsewhere):
            return
        await self.open_index()
        self.search()

    @work(group="model", exclusive=True)
    async def load_model(self) -> None:
        assert self.status_info is not None and self.status_info.model is not None
        if self.quitting():
            return
        table = self.query_one("#results", DataTable)
        self.model_note = f"loading {model_name(self.status_info.model.model_id)}…"
        self.show_status()
        table.loading = True
        try:
            embedder = await self.searcher.run(self.searcher.load_model)
        except (ModelError, OSError) as error:
            self.model_note = f"model failed to load: {inert(str(error))}"
            self.show_status()
            return
        finally:
            table.loading = False
        if embedder is None:  # the index's service searches, with its own model
            self.model_note = f"{model_name(self.status_info.model.model_id)} in gte-search serve"
        else:
            self.model_note = f"{model_name(embedder.model_id)} on {embedder.device.type}"
        self.model_ready.set()
        self.show_status()

    def index_now(self, root: Path | None) -> None:
        if root is not None:
            self.run_reindex([root])

    # searching

    @on(Input.Changed, "#query")
    def query_changed(self) -> None:
        self.show_filters()
        self.search()

    def current_filters(self) -> tuple[str, SearchFilters]:
        parsed = parse_query(self.query_one("#query", Input).value)
        return parsed.text, make_filters(kind=self.kind).merged(parsed.filters)

    @work(group="search", exclusive=True)
    async def search(self) -> None:
        await asyncio.sleep(self.debounce)
        if self.quitting():
            return
        try:
            text, filters = self.current_filters()
        except QueryError:
            return
        if not text:
            self.show_hits([], "")
            return
        try:
            hits, seconds = await self.searched(text, filters)
        except QueryError as error:  # a filter value the index cannot match: say which
            self.query_one("#filters", Static).update(Text(inert(str(error)), style="red"))
            self.show_hits([], text)
            return
        self.latency = seconds
        self.show_hits(hits, text)
        self.show_status()

    async def searched(self, text: str, filters: SearchFilters) -> tuple[list[SearchHit], float]:
        while True:
            await self.model_ready.wait()
            try:
                return await self.searcher.run(self.searcher.search, text, filters, RESULTS)
            except ServiceGone:  # without a word: load the model here and search again
                self.model_ready.clear()
                self.load_model()

    def quitting(self) -> bool:
        """Whether the app's widgets are gone: it quits while a worker (a search, the
        index watcher) still finishes, and that work has nowhere to go."""
        return not self.query(ResultsTable)

    def show_hits(self, hits: list[SearchHit], query: str) -> None:
        if self.quitting():
            return
        self.hits = hits
        self.query_text = query
        self.query_one(ResultsTable).show(hits, self.size.width)
        self.show_preview()

    def on_resize(self) -> None:
        table = self.query_one(ResultsTable)
        table.show(self.hits, self.size.width, max(0, table.cursor_row))
        self.show_status()

    @on(DataTable.RowHighlighted, "#results")
    def row_highlighted(self) -> None:
        # The cursor's row now, not the event's: the rows may have been replaced since.
        table = self.query_one(ResultsTable)
        table.mark(table.cursor_row)
        self.show_preview()

    def selected_hit(self) -> SearchHit | None:
        row = self.query_one("#results", DataTable).cursor_row
        return self.hits[row] if 0 <= row < len(self.hits) else None

    def show_preview(self) -> None:
        body = self.query_one("#preview", Static)
        title = self.query_one("#preview-title", Static)
        hit = self.selected_hit()
        if hit is None:
            title.update(Text(""))
            try:
                typed = parse_query(self.query_one("#query", Input).value).filters.describe()
            except QueryError:
                typed = ""
            body.update(search_hint(bool(self.query_text), typed))
            return
        preview = hit_preview(hit, self.query_text)
        title.update(self.query_one(ResultsTable).labelled(hit, preview.title))
        body.update(preview.body)
        # Keep a few lines of context above the hit.
        pane = self.query_one("#preview-pane", VerticalScroll)
        self.call_after_refresh(pane.scroll_to, y=max(0, preview.row - 3), animate=False)

    # what the user sees besides results

    def show_filters(self) -> None:
        try:
            _, filters = self.current_filters()
            typed = parse_query(self.query_one("#query", Input).value).filters.describe()
        except QueryError as error:
            self.query_one("#filters", Static).update(Text(str(error), style="red"))
            return
        line = Text("showing ", style="dim")
        line.append(KIND_LABEL[filters.kind], style="bold")
        line.append(" (ctrl+t)", style="dim")
        if typed:
            line.append("   filters ", style="dim")
            line.append(inert(typed), style="bold")
        self.query_one("#filters", Static).update(line)

    def show_status(self) -> None:
        if self.quitting():
            return
        latency = self.latency if self.show_latency else None
        line = status_line(
            self.status_info, self.index_dir, self.model_note, latency, self.size.width - 2
        )
        self.query_one("#status", Static).update(line)

    # actions

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#results", DataTable)
        if self.hits:
            table.move_cursor(row=max(0, min(len(self.hits) - 1, table.cursor_row + step)))

    def action_page(self, pages: int) -> None:
        # A page is the table's visible rows (all but the header), less one kept in view.
        rows = max(1, self.query_one(ResultsTable).size.height - 2)
        self.action_cursor(pages * rows)

    def action_focus_query(self) -> None:
        self.query_one("#query", Input).focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_kind(self) -> None:
        self.kind = KIND_CYCLE[(KIND_CYCLE.index(self.kind) + 1) % len(KIND_CYCLE)]
        self.show_filters()
        self.search()

    def action_copy(self) -> None:
        hit = self.selected_hit()
        if hit is None:
            return
        location = f"{display_path(hit)}:{hit.start_line}"
        self.copy_to_clipboard(location)
        self.notify(f"copied {inert(location)}", markup=False)

    @on(Input.Submitted, "#query")
    @on(DataTable.RowSelected, "#results")
    def action_open(self) -> None:
        hit = self.selected_hit()
        if hit is None:
            return
        try:
            path = resolve_hit_path(hit)
            command = open_command(path, hit.start_line)
        except (HitPathError, EditorError) as error:
            self.notify(inert(str(error)), severity="error", markup=False)
            return
        with self.suspend():
            problem = run_editor(command)
        if problem:
            self.notify(inert(problem), severity="error", markup=False)
        self.refresh()

    def action_reindex(self) -> None:
        if self.status_info is None or not self.status_info.roots:
            self.push_screen(EmptyIndexScreen(self.index_dir), self.index_now)
            return
        self.run_reindex([Path(root) for root in self.status_info.roots])

    async def index_changed(self) -> None:
        await self.open_index()
        self.search()
