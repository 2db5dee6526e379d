"""The command line: parse arguments, call the library, print. Heavy imports stay inside
commands so that `--help` never loads torch."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from gte_search.cli_output import note
from gte_search.config import (
    DEFAULT_MODEL,
    INDEX_ENV,
    MODE_ENV,
    MODEL_ENV,
    PRECISION_ENV,
    PRECISIONS,
    VECTOR_INDEX_KINDS,
    default_index_dir,
)
from gte_search.hits import SEARCH_MODES
from indexer.chunk import CHUNK_KINDS

if TYPE_CHECKING:
    from gte_search.embed import Embedder
    from gte_search.hits import SearchHit, SearchMode
    from gte_search.index import IndexOptions, IndexReport, SearchIndex
    from gte_search.models import ModelSource

# 1: the run finished, but some files could not be read (they are listed on stderr); or,
# as grep and rg do, a search found nothing.
EXIT_UNREADABLE = 1
EXIT_NO_RESULTS = 1
EXIT_USER_ERROR = 2
# 128 + SIGINT, the shell's convention for a command stopped with Ctrl-C.
EXIT_INTERRUPTED = 130


class UserError(click.ClickException):
    """A problem the user can fix: one line on stderr, exit status 2, no traceback."""

    exit_code = EXIT_USER_ERROR

    def show(self, file: object = None) -> None:
        click.echo(f"gte-search: error: {self.format_message()}", err=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into a `UserError`, never a traceback."""
    from gte_search.config import SettingError
    from gte_search.index import IndexProblem
    from gte_search.models import ModelError
    from gte_search.query import QueryError

    try:
        yield
    except (IndexProblem, ModelError, QueryError, SettingError) as error:
        raise UserError(str(error)) from error
    except OSError as error:
        raise UserError(f"{error.filename or 'file'}: {error.strerror or error}") from error


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=INDEX_ENV,
    show_envvar=True,
    help="Index directory.  [default: the user data directory]",
)
trust_option = click.option(
    "--trust-remote-code",
    is_flag=True,
    help="Allow models that ship their own Python code (Alibaba-NLP gte v1.5).",
)


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


def _open(index_dir: Path | None, *, create: bool = False) -> SearchIndex:
    """Open the index, closed again when the command ends."""
    from gte_search.index import SearchIndex

    opened = SearchIndex.open(index_dir or default_index_dir(), create=create)
    click.get_current_context().call_on_close(opened.close)
    return opened


def _load_embedder(
    model: str,
    *,
    named_by_user: bool,
    trust_remote_code: bool,
    precision: str | None = None,
) -> Embedder:
    from gte_search.embed import Embedder
    from gte_search.models import resolve_model

    source: ModelSource = resolve_model(model, named_by_user=named_by_user)
    if source.notice:
        note(source.notice)
    return Embedder(source, trust_remote_code=trust_remote_code, precision=precision)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--model",
    envvar=MODEL_ENV,
    show_envvar=True,
    help=f"Hub id or local folder of the embedding model.  [default: the index's model, "
    f"else {DEFAULT_MODEL}]",
)
@click.option("--rebuild", is_flag=True, help="Start over, re-embedding everything.")
@click.option("--wait", is_flag=True, help="If another indexer is updating the index, wait for it.")
@click.option(
    "--max-file-size",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Skip files larger than this many bytes.",
)
@click.option("--no-ignore", is_flag=True, help="Do not honour .gitignore and .ignore files.")
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="auto",
    show_default=True,
    envvar=PRECISION_ENV,
    show_envvar=True,
    help="Model arithmetic: auto is fp16 on a GPU, bf16 on CPUs that have it, else int8.",
)
@click.option(
    "--faiss",
    "vector_kind",
    type=click.Choice(VECTOR_INDEX_KINDS),
    help="Vector index: exact (flat), IVF, or auto (IVF above 200k chunks); remembered.  "
    "[default: the index's choice, else auto]",
)
@trust_option
@index_option
def index(
    paths: tuple[Path, ...],
    model: str | None,
    rebuild: bool,
    wait: bool,
    max_file_size: int,
    no_ignore: bool,
    precision: str,
    vector_kind: str | None,
    trust_remote_code: bool,
    index_dir: Path | None,
) -> None:
    """Index (or update) the files under PATHS; with no PATHS, update every known root."""
    from gte_search.index import IndexOptions

    with user_errors():
        search_index = _open(index_dir, create=bool(paths))
        if not paths or rebuild:
            # A rebuild re-embeds every root, not only the ones named.
            known = [root for root in search_index.roots() if root not in paths]
            paths = (*paths, *known)
            if not paths:
                raise UserError("this index has no roots yet; give a PATH to index")
        if wait and (holder := search_index.lock.holder()):
            note(f"waiting for process {holder} to finish updating the index")
        options = IndexOptions(max_file_bytes=max_file_size, use_ignore_files=not no_ignore)
        with search_index.writing(wait=wait):
            report = _index_locked(
                search_index,
                paths,
                model,
                rebuild,
                trust_remote_code,
                options,
                precision,
                vector_kind,
            )
    if report.problems:
        sys.exit(EXIT_UNREADABLE)


def _index_locked(
    search_index: SearchIndex,
    paths: tuple[Path, ...],
    model: str | None,
    rebuild: bool,
    trust_remote_code: bool,
    options: IndexOptions,
    precision: str,
    vector_kind: str | None,
) -> IndexReport:
    from gte_search.cli_output import ProgressBar, print_report
    from gte_search.indexing import choose_model

    choice = choose_model(search_index.model, model)
    embedder = _load_embedder(
        choice.model_id,
        named_by_user=choice.named_by_user,
        trust_remote_code=trust_remote_code,
        precision=precision,
    )
    search_index.prepare_model(embedder.model_id, rebuild=rebuild)
    with ProgressBar.on_stderr() as progress:
        report = search_index.update(
            list(paths), embedder, progress, options, vector_kind=vector_kind
        )
    print_report(report)
    return report


@main.command()
@click.argument("words", nargs=-1)
@click.option("-k", "--top", "k", default=10, show_default=True, help="Number of results.")
@click.option("--json", "as_json", is_flag=True, help="Print results as a JSON array.")
@click.option(
    "--batch",
    type=click.File("r"),
    help="Read one query per line from FILE ('-' for stdin); print one JSON array per line.",
)
@click.option("--lang", multiple=True, help="Only this language (py, go, markdown, ...).")
@click.option("--path", "paths", multiple=True, help="Only paths matching this glob.")
@click.option(
    "--kind", type=click.Choice(CHUNK_KINDS, case_sensitive=False), help="Only code or only docs."
)
@click.option("--root", "roots", multiple=True, help="Only this root (path or folder name).")
@click.option(
    "--mode",
    type=click.Choice(SEARCH_MODES),
    default="hybrid",
    envvar=MODE_ENV,
    show_envvar=True,
    show_default=True,
    help="Vectors and keywords fused, vectors only, or keywords only (no model loaded).",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour the results: always (for `less -R`), never, or when printing to a terminal.",
)
@trust_option
@index_option
def search(
    words: tuple[str, ...],
    k: int,
    as_json: bool,
    batch: TextIO | None,
    lang: tuple[str, ...],
    paths: tuple[str, ...],
    kind: str | None,
    roots: tuple[str, ...],
    mode: SearchMode,
    color: str,
    trust_remote_code: bool,
    index_dir: Path | None,
) -> None:
    """Search the index for QUERY (its words, quoted or not), best match first.

    Filters can also be written in the query: lang:go path:internal/** kind:doc root:NAME.
    Exits 1 when nothing is found (0 with --json, which prints []).
    """
    from gte_search.cli_output import inside_roots, print_hits
    from gte_search.query import make_filters, parse_query

    query = " ".join(words) if words else None
    if (query is None) == (batch is None):
        raise UserError("give either a QUERY or --batch FILE")
    if k < 1:
        raise UserError("-k must be at least 1")

    with user_errors():
        flags = make_filters(lang, paths, kind, roots)
        search_index = _open(index_dir)
        model = search_index.model
        if model is None:
            raise UserError(
                f"the index at {search_index.directory} is empty; run: gte-search index PATH"
            )
        embedder: Embedder | None = None
        if mode != "lexical":
            embedder = _load_embedder(
                model.model_id, named_by_user=True, trust_remote_code=trust_remote_code
            )
            for line in search_index.load_vectors():
                note(line)

        def run_query(text: str) -> list[SearchHit]:
            parsed = parse_query(text)
            filters = flags.merged(parsed.filters)
            return inside_roots(search_index.search(parsed.text, embedder, k, filters, mode=mode))

        if batch is not None:
            for line in batch:
                hits = run_query(line.strip())
                click.echo(json.dumps([dataclasses.asdict(hit) for hit in hits]))
            return
        assert query is not None
        hits = run_query(query)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(hit) for hit in hits], indent=2))
        return
    print_hits(hits, parse_query(query).text, color=color)
    if not hits:
        sys.exit(EXIT_NO_RESULTS)


@main.command()
@click.argument("root")
@index_option
def remove(root: str, index_dir: Path | None) -> None:
    """Drop ROOT (its path or folder name), with its files, chunks and vectors."""
    from gte_search.cli_output import plural

    with user_errors():
        removed, files = _open(index_dir).remove_root(root)
    click.echo(f"Removed {removed} ({plural(files, 'file')})")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--skipped", is_flag=True, help="List skipped files and why.")
@index_option
def status(as_json: bool, skipped: bool, index_dir: Path | None) -> None:
    """Show what the index holds."""
    from gte_search.cli_output import print_status, status_dict

    with user_errors():
        info = _open(index_dir).status()
    if as_json:
        click.echo(json.dumps(status_dict(info), indent=2))
    else:
        print_status(info, skipped=skipped)


@main.command()
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
