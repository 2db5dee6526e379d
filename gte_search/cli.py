"""The command line: parse arguments, call the library, print. Heavy imports stay inside
commands so that `--help` never loads torch."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

import click

from gte_search.config import (
    DEFAULT_MODEL,
    INDEX_ENV,
    MODE_ENV,
    MODEL_ENV,
    PRECISION_ENV,
    default_index_dir,
)

if TYPE_CHECKING:
    from gte_search.embed import Embedder
    from gte_search.index import IndexOptions, IndexReport, IndexStatus, SearchIndex
    from gte_search.models import ModelSource
    from gte_search.search import SearchHit, SearchMode

# 1: the run finished, but some files could not be read (they are listed on stderr).
EXIT_UNREADABLE = 1
EXIT_USER_ERROR = 2


def fail(message: str) -> NoReturn:
    click.echo(f"gte-search: error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


def note(message: str) -> None:
    click.echo(f"gte-search: {message}", err=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one line and exit status 2, never a traceback."""
    from gte_search.index import IndexProblem
    from gte_search.models import ModelError
    from gte_search.query import QueryError

    try:
        yield
    except (IndexProblem, ModelError, QueryError) as error:
        fail(str(error))
    except OSError as error:
        fail(f"{error.filename or 'file'}: {error.strerror or error}")


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
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
    from gte_search.index import SearchIndex

    return SearchIndex.open(index_dir or default_index_dir(), create=create)


def _resolve(model: str, *, named_by_user: bool) -> ModelSource:
    from gte_search.models import resolve_model

    source = resolve_model(model, named_by_user=named_by_user)
    if source.notice:
        note(source.notice)
    return source


def _load_embedder(
    source: ModelSource, *, trust_remote_code: bool, precision: str | None = None
) -> Embedder:
    from gte_search.embed import Embedder

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
    type=click.Choice(["auto", "fp32", "int8", "bf16"]),
    default="auto",
    show_default=True,
    envvar=PRECISION_ENV,
    show_envvar=True,
    help="Model arithmetic: auto is fp16 on a GPU, bf16 on CPUs that have it, else int8.",
)
@click.option(
    "--faiss",
    "vector_kind",
    type=click.Choice(["auto", "flat", "ivf"]),
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
    with user_errors():
        search_index = _open(index_dir, create=bool(paths))
        if not paths:
            paths = tuple(search_index.roots())
            if not paths:
                fail("this index has no roots yet; give a PATH to index")
        if wait and (holder := search_index.lock.holder()):
            note(f"waiting for process {holder} to finish updating the index")
        from gte_search.index import IndexOptions

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
    existing = search_index.model
    if model is None and existing is not None and not rebuild:
        model, named = existing.model_id, True
    else:
        model, named = model or DEFAULT_MODEL, model is not None
    source = _resolve(model, named_by_user=named)
    search_index.check_model(source, rebuild=rebuild)
    embedder = _load_embedder(source, trust_remote_code=trust_remote_code, precision=precision)
    with _progress_bar() as progress:
        report = search_index.update(
            list(paths), embedder, progress, options, vector_kind=vector_kind
        )
    _print_report(report, search_index)
    return report


@contextmanager
def _progress_bar() -> Iterator[object]:
    from gte_search.index import Progress

    if not sys.stderr.isatty():
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    class BarProgress(Progress):
        def __init__(self, bar: Bar) -> None:
            self.bar = bar
            self.task: object | None = None

        def start_root(self, root: Path, files: int) -> None:
            self.task = self.bar.add_task(f"indexing {root.name}", total=files)

        def advance(self, files: float) -> None:
            self.bar.advance(self.task, files)  # type: ignore[arg-type]

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Bar(*columns, console=Console(stderr=True), transient=True) as bar:
        yield BarProgress(bar)


def _print_report(report: IndexReport, search_index: SearchIndex) -> None:
    for line in search_index.notices:
        note(line)
    for problem in report.problems:
        note(f"could not read {inert(problem.path)}: {problem.reason}")
    click.echo(
        f"Indexed {report.files_indexed} files ({report.files_added} added, "
        f"{report.files_changed} changed, {report.files_unchanged} unchanged, "
        f"{report.files_removed} removed, {report.files_skipped} skipped): "
        f"{report.chunks} chunks ({report.chunks_embedded} embedded, "
        f"{report.chunks_reused} reused) in {report.seconds:.1f}s with {report.model_id}"
    )


@main.command()
@click.argument("query", required=False)
@click.option("-k", "--top", "k", default=10, show_default=True, help="Number of results.")
@click.option("--json", "as_json", is_flag=True, help="Print results as a JSON array.")
@click.option(
    "--batch",
    type=click.File("r"),
    help="Read one query per line from FILE ('-' for stdin); print one JSON array per line.",
)
@click.option("--lang", multiple=True, help="Only this language (py, go, markdown, ...).")
@click.option("--path", "paths", multiple=True, help="Only paths matching this glob.")
@click.option("--kind", type=click.Choice(["code", "doc"]), help="Only code or only docs.")
@click.option("--root", "roots", multiple=True, help="Only this root (path or folder name).")
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "semantic", "lexical"]),
    default="hybrid",
    envvar=MODE_ENV,
    show_envvar=True,
    show_default=True,
    help="Vectors and keywords fused, vectors only, or keywords only (no model loaded).",
)
@trust_option
@index_option
def search(
    query: str | None,
    k: int,
    as_json: bool,
    batch: TextIO | None,
    lang: tuple[str, ...],
    paths: tuple[str, ...],
    kind: str | None,
    roots: tuple[str, ...],
    mode: SearchMode,
    trust_remote_code: bool,
    index_dir: Path | None,
) -> None:
    """Search the index for QUERY, best match first.

    Filters can also be written in the query: lang:go path:internal/** kind:doc root:NAME.
    """
    from gte_search.query import make_filters, parse_query

    if (query is None) == (batch is None):
        fail("give either a QUERY or --batch FILE")
    if k < 1:
        fail("-k must be at least 1")
    flags = make_filters(lang, paths, kind, tuple(str(Path(r).resolve()) for r in roots) + roots)

    def run_query(text: str) -> list[SearchHit]:
        parsed = parse_query(text)
        filters = flags.merged(parsed.filters)
        hits = search_index.search(parsed.text, embedder, k, filters, mode=mode)
        return _inside_roots(hits)

    with user_errors():
        search_index = _open(index_dir)
        model = search_index.model
        if model is None:
            fail(f"the index at {search_index.directory} is empty; run: gte-search index PATH")
        embedder: Embedder | None = None
        if mode != "lexical":
            source = _resolve(model.model_id, named_by_user=True)
            embedder = _load_embedder(source, trust_remote_code=trust_remote_code)
        if batch is not None:
            for line in batch:
                hits = run_query(line.strip())
                click.echo(json.dumps([dataclasses.asdict(hit) for hit in hits]))
            return
        assert query is not None
        hits = run_query(query)
        for line in search_index.notices:
            note(line)
        if as_json:
            click.echo(json.dumps([dataclasses.asdict(hit) for hit in hits], indent=2))
        else:
            _print_hits(hits, parse_query(query).text)


def _inside_roots(hits: list[SearchHit]) -> list[SearchHit]:
    """Only hits whose file lies inside its root: nothing outside a root is ever shown."""
    from gte_search.search import PathOutsideRoot, resolve_hit_path

    kept = []
    for hit in hits:
        try:
            resolve_hit_path(hit)
        except PathOutsideRoot as error:
            note(f"dropped a result: {inert(str(error))}")
            continue
        kept.append(hit)
    return kept


def _display_path(hit: SearchHit) -> str:
    from gte_search.search import resolve_hit_path

    absolute = resolve_hit_path(hit)
    relative = os.path.relpath(absolute)
    return str(absolute) if relative.startswith("..") else relative


def inert(text: str) -> str:
    """File content with control characters made visible, so it cannot drive the terminal."""
    return "".join(
        ch if ch == "\t" or unicodedata.category(ch) not in ("Cc", "Cf") else f"\\x{ord(ch):02x}"
        for ch in text
    )


def _print_hits(hits: list[SearchHit], query: str) -> None:
    from rich.console import Console
    from rich.text import Text

    from gte_search.search import best_lines, query_terms, term_spans

    console = Console(highlight=False, soft_wrap=True)
    if not hits:
        console.print("No results.")
        return
    terms = query_terms(query)
    for rank, hit in enumerate(hits, start=1):
        heading = Text(f"{rank:>2}. ")
        heading.append(f"{_display_path(hit)}:{hit.start_line}-{hit.end_line}", style="bold cyan")
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


@main.command()
@click.argument("root", type=click.Path(file_okay=False, path_type=Path))
@index_option
def remove(root: Path, index_dir: Path | None) -> None:
    """Drop ROOT, with its files, chunks and vectors, from the index."""
    with user_errors():
        search_index = _open(index_dir)
        files = search_index.remove_root(root.resolve())
    click.echo(f"Removed {root.resolve()} ({files} files)")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--skipped", is_flag=True, help="List skipped files and why.")
@index_option
def status(as_json: bool, skipped: bool, index_dir: Path | None) -> None:
    """Show what the index holds."""
    with user_errors():
        search_index = _open(index_dir)
        info = search_index.status()
    if as_json:
        click.echo(json.dumps(_status_dict(info), indent=2))
        return
    model = info.model
    click.echo(f"index:     {info.directory}")
    click.echo(f"roots:     {', '.join(info.roots) or '(none)'}")
    click.echo(f"files:     {info.files}")
    click.echo(f"chunks:    {info.chunks}")
    click.echo(f"skipped:   {len(info.skipped)} files")
    click.echo(f"model:     {model.model_id if model else '(none yet)'}")
    click.echo(f"dimension: {model.dimension if model else '-'}")
    click.echo(f"size:      {info.size_bytes / 1_048_576:.1f} MiB")
    if skipped:
        for item in info.skipped:
            click.echo(f"  {item.root}/{inert(item.path)}: {item.reason}")


def _status_dict(info: IndexStatus) -> dict[str, object]:
    model = info.model
    return {
        "index": str(info.directory),
        "roots": info.roots,
        "files": info.files,
        "chunks": info.chunks,
        "skipped": [dataclasses.asdict(item) for item in info.skipped],
        "model": model.model_id if model else None,
        "dimension": model.dimension if model else None,
        "pooling": model.pooling if model else None,
        "size_bytes": info.size_bytes,
    }


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
