"""What the CLI prints: hits, the index report, the status, and the progress bar."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gte_search.highlight import best_lines, highlight_terms, term_spans
from gte_search.hits import SearchHit, display_path, inert
from gte_search.hits import inside_roots as hits_inside_roots
from gte_search.pipeline import Progress

if TYPE_CHECKING:
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    from gte_search.index import IndexReport, IndexStatus


def note(message: str) -> None:
    click.echo(f"gte-search: {message}", err=True)


class ProgressBar(Progress):
    """A rich progress bar on stderr, one task per root."""

    def __init__(self, bar: Bar) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    @classmethod
    @contextmanager
    def on_stderr(cls) -> Iterator[Progress]:
        """A bar when stderr is a terminal, else a silent progress."""
        if not sys.stderr.isatty():
            yield Progress()
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Bar(*columns, console=Console(stderr=True), transient=True) as bar:
            yield cls(bar)

    def start_root(self, root: Path, files: int) -> None:
        self.task = self.bar.add_task(f"indexing {root.name}", total=files)

    def advance(self, files: float) -> None:
        if self.task is not None:
            self.bar.advance(self.task, files)

    def start_embedding(self, embedded: int, chunks: int) -> None:
        # "chunks embedded ━━━━━  N/M": N of the index's M chunks have their vectors; all M
        # are already searchable by their words.
        self.task = self.bar.add_task("chunks embedded", total=chunks, completed=embedded)

    def embedded(self, chunks: float) -> None:
        self.advance(chunks)


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def print_report(report: IndexReport) -> None:
    for line in report.notices:
        note(line)
    for problem in report.problems:
        note(f"could not read {inert(problem.path)}: {problem.reason}")
    if report.up_to_date:
        click.echo(
            f"Up to date: {plural(report.files_unchanged, 'file')} unchanged, "
            f"{report.files_skipped} skipped, checked in {report.seconds:.1f}s "
            f"with {report.model_id}"
        )
        return
    click.echo(
        f"Indexed {plural(report.files_indexed, 'file')} ({report.files_added} added, "
        f"{report.files_changed} changed, {report.files_unchanged} unchanged, "
        f"{report.files_removed} removed, {report.files_skipped} skipped): "
        f"{plural(report.chunks, 'chunk')} ({report.chunks_embedded} embedded, "
        f"{report.chunks_reused} reused) in {report.seconds:.1f}s with {report.model_id}"
    )


def inside_roots(hits: list[SearchHit]) -> list[SearchHit]:
    """Only hits whose file lies inside its root, saying which were dropped."""
    kept, notes = hits_inside_roots(hits)
    for line in notes:
        note(line)
    return kept


def print_hits(hits: list[SearchHit], query: str, *, color: str = "auto") -> None:
    from rich.console import Console
    from rich.text import Text

    class ShellConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich exits 1 here; a reader that stopped early is not an error (see cli.Commands).
            self.quiet = True
            raise BrokenPipeError

    console = ShellConsole(
        highlight=False,
        soft_wrap=True,
        force_terminal=True if color == "always" else None,
        no_color=color == "never" or None,
    )
    if not hits:
        note("no results")
        return
    terms = highlight_terms(query)
    for rank, hit in enumerate(hits, start=1):
        heading = Text(f"{rank:>2}. ")
        location = f"{inert(display_path(hit))}:{hit.start_line}-{hit.end_line}"
        heading.append(location, style="bold cyan")
        heading.append(f"  {hit.score:.3f}", style="green")
        if hit.symbol:
            heading.append(f"  {inert(hit.symbol)}", style="bold")
        heading.append(f"  [{hit.kind} {hit.language}]", style="dim")
        console.print(heading)
        first, lines = best_lines(hit, query)
        for number, line in enumerate(lines, start=first):
            row = Text(f"    {number:>5} │ ", style="dim")
            body = Text(inert(line))
            for start, end in term_spans(body.plain, terms):
                body.stylize("bold yellow", start, end)
            console.print(row + body)
        console.print()


def print_status(info: IndexStatus, *, skipped: bool) -> None:
    model = info.model
    click.echo(f"index:     {info.directory}")
    roots = [
        f"{root} (last update interrupted; run gte-search index)"
        if root in info.interrupted
        else root
        for root in info.roots
    ]
    click.echo(f"roots:     {', '.join(roots) or '(none)'}")
    click.echo(f"files:     {info.files}")
    click.echo(f"chunks:    {info.chunks}")
    waiting = f" ({info.pending} pending; run gte-search index)" if info.pending else ""
    click.echo(f"vectors:   {info.embedded} of {info.chunks} chunks embedded{waiting}")
    click.echo(f"skipped:   {len(info.skipped)} files")
    click.echo(f"model:     {model.model_id if model else '(none yet)'}")
    click.echo(f"dimension: {model.dimension if model else '-'}")
    click.echo(f"size:      {info.size_bytes / 1_048_576:.1f} MiB")
    if skipped:
        for item in info.skipped:
            click.echo(f"  {item.root}/{inert(item.path)}: {item.reason}")


def status_dict(info: IndexStatus) -> dict[str, object]:
    model = info.model
    return {
        "index": str(info.directory),
        "roots": info.roots,
        "files": info.files,
        "chunks": info.chunks,
        "embedded": info.embedded,
        "pending": info.pending,
        "skipped": [dataclasses.asdict(item) for item in info.skipped],
        "model": model.model_id if model else None,
        "dimension": model.dimension if model else None,
        "pooling": model.pooling if model else None,
        "size_bytes": info.size_bytes,
        "interrupted": info.interrupted,
    }
