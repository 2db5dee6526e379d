"""Re-indexing from the TUI, on a thread of its own while searching goes on."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App
from textual.widgets import ProgressBar, Static

from gte_search.hits import inert
from gte_search.index import IndexLocked, IndexProblem, IndexReport, Progress
from gte_search.models import ModelError
from gte_search.tui.backend import EmbedderLoader, reindex


class _AppProgress(Progress):
    """Indexing progress, reported from the indexing thread to the app's progress bar."""

    def __init__(self, app: Reindexing) -> None:
        self.app = app

    def start_root(self, root: Path, files: int) -> None:
        self.app.call_from_thread(self.app.progress_start, root.name, files)

    def advance(self, files: float) -> None:
        self.app.call_from_thread(self.app.progress_advance, files)


class Reindexing(App[None]):
    """The app's re-indexing half: a progress bar, and notices when done or refused."""

    index_dir: Path
    loader: EmbedderLoader
    model: str | None
    indexing: bool

    async def index_changed(self) -> None:
        """Reopen the index and search again, after it was written."""
        raise NotImplementedError

    def run_reindex(self, roots: list[Path]) -> None:
        if self.indexing:
            self.notify("already indexing")
            return
        self.indexing = True
        self.query_one("#indexing").display = True
        self.query_one("#indexing-label", Static).update(Text("indexing…"))
        self.reindex_worker(roots)

    @work(thread=True, group="index", exclusive=True)
    def reindex_worker(self, roots: list[Path]) -> None:
        try:
            report = reindex(self.index_dir, roots, self.loader, self.model, _AppProgress(self))
        except IndexLocked:
            message = (
                "another gte-search is indexing this index now; the status line updates "
                "when it has finished"
            )
            self.call_from_thread(self.reindex_failed, message)
            return
        except (IndexProblem, ModelError, OSError) as error:
            self.call_from_thread(self.reindex_failed, str(error))
            return
        # Textual awaits a coroutine function's result; its stub cannot say so for None.
        self.call_from_thread(self.reindex_done, report)  # type: ignore[arg-type]

    def progress_start(self, name: str, files: int) -> None:
        self.query_one("#indexing-label", Static).update(Text(inert(f"indexing {name}")))
        self.query_one("#progress", ProgressBar).update(total=files, progress=0)

    def progress_advance(self, files: float) -> None:
        self.query_one("#progress", ProgressBar).advance(files)

    async def reindex_done(self, report: IndexReport) -> None:
        self.indexing = False
        self.query_one("#indexing").display = False
        self.notify(
            f"indexed {report.files_indexed} files ({report.files_unchanged} unchanged, "
            f"{report.files_removed} removed) in {report.seconds:.1f}s",
            markup=False,
        )
        await self.index_changed()

    def reindex_failed(self, message: str) -> None:
        self.indexing = False
        self.query_one("#indexing").display = False
        self.notify(inert(message), severity="error", markup=False, timeout=10)
