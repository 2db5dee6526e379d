"""The command line: a click group whose commands live in one module each (cli_index,
cli_search) and call the library. Heavy imports stay inside commands so that `--help` never
loads torch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from gte_search.cli_common import EXIT_INTERRUPTED, index_option, trust_option
from gte_search.cli_index import index, remove
from gte_search.cli_mcp import mcp
from gte_search.cli_output import note
from gte_search.cli_search import search, status
from gte_search.cli_serve import serve, watch
from gte_search.config import DEFAULT_MODEL, INDEX_ENV, MODEL_ENV, default_index_dir


class Commands(click.Group):
    """Ctrl-C and a closed pipe end a command the way shell tools do, not with a traceback
    or click's "Aborted!"."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that left shows here, not at interpreter exit
            return result
        except KeyboardInterrupt as stopped:
            # An indexing run says how far it got (gte_search.indexing.IndexInterrupted);
            # imported lazily, since `--help` must not load FAISS.
            report = getattr(stopped, "report", None)
            if report is None:
                note("interrupted")
            elif report.chunks_pending:
                note(
                    f"interrupted: {report.files_done} of {report.files_total} files stored, "
                    f"{report.chunks_pending} chunks still to embed (searchable by their "
                    "words meanwhile); run the same command again to finish"
                )
            else:
                note(
                    f"interrupted: {report.files_done} of {report.files_total} files indexed, "
                    "the rest kept as it was; run the same command again to finish"
                )
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader (`head`, a pager) has what it wanted: not an error. Point stdout at
            # /dev/null so that flushing it at exit cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)


@click.group(
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
)
@click.version_option(package_name="gte-search")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Semantic search over code and documentation with GTE embeddings.

    With no command, in a terminal, opens the interactive search (the `tui` command).
    """
    if ctx.invoked_subcommand is not None:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        click.echo(ctx.get_help())
        return
    index_dir = os.environ.get(INDEX_ENV)
    _run_tui(Path(index_dir) if index_dir else None, os.environ.get(MODEL_ENV), False)


def _run_tui(index_dir: Path | None, model: str | None, trust_remote_code: bool) -> None:
    from gte_search.tui import make_app

    make_app(
        index_dir or default_index_dir(), model=model, trust_remote_code=trust_remote_code
    ).run()


@click.command()
@click.option(
    "--model",
    envvar=MODEL_ENV,
    show_envvar=True,
    help=f"Model for a new index made from the TUI.  [default: {DEFAULT_MODEL}]",
)
@trust_option
@index_option
def tui(model: str | None, trust_remote_code: bool, index_dir: Path | None) -> None:
    """Search interactively: results as you type, a preview, open hits in your editor."""
    _run_tui(index_dir, model, trust_remote_code)


for command in (index, search, remove, status, tui, mcp, serve, watch):
    main.add_command(command)
