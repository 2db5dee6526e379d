"""`gte-search search` and `gte-search status`: the commands that read the index."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from gte_search.cli_common import (
    EXIT_NO_RESULTS,
    UserError,
    index_option,
    load_embedder,
    open_index,
    trust_option,
    user_errors,
)
from gte_search.cli_output import note
from gte_search.config import MODE_ENV, default_index_dir
from gte_search.hits import SEARCH_MODES
from indexer.chunk import CHUNK_KINDS

if TYPE_CHECKING:
    from gte_search.cli_formats import LineFormat
    from gte_search.hits import SearchHit, SearchMode
    from gte_search.index import SearchIndex
    from gte_search.models import EmbeddingModel
    from gte_search.query import SearchFilters


@click.command()
@click.argument("words", nargs=-1)
@click.option("-k", "--top", "k", default=10, show_default=True, help="Number of results.")
@click.option("--json", "as_json", is_flag=True, help="Print results as a JSON array.")
@click.option("--jsonl", "line_format", flag_value="jsonl", help="Print one JSON hit per line.")
@click.option(
    "--files", "-l", "line_format", flag_value="files", help="Print only file paths, best first."
)
@click.option(
    "--vimgrep",
    "line_format",
    flag_value="vimgrep",
    help="Print path:line:col:text, the best line of each hit, for editors' quickfix lists.",
)
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
    line_format: LineFormat | None,
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
    from gte_search.cli_output import print_hits
    from gte_search.query import make_filters, parse_query

    query = " ".join(words) if words else None
    if (query is None) == (batch is None):
        raise UserError("give either a QUERY or --batch FILE")
    if k < 1:
        raise UserError("-k must be at least 1")
    if line_format and (as_json or batch):
        raise UserError(f"--{line_format} cannot be combined with --json or --batch")

    with user_errors():
        flags = make_filters(lang, paths, kind, roots)
        searcher = _Searcher(index_dir, mode, trust_remote_code)

        def run_query(text: str) -> list[SearchHit]:
            parsed = parse_query(text)
            return searcher.search(parsed.text, k, flags.merged(parsed.filters))

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
    if line_format:
        from gte_search.cli_formats import format_lines

        for line in format_lines(line_format, hits, parse_query(query).text):
            click.echo(line)
    else:
        print_hits(hits, parse_query(query).text, color=color)
    if not hits:
        sys.exit(EXIT_NO_RESULTS)


class _Searcher:
    """Searches through the index's service when one answers (no torch, no FAISS in this
    process), else in-process, opening the index and loading the model on first need. A
    service that fails mid-way is left for in-process without a word."""

    def __init__(self, index_dir: Path | None, mode: SearchMode, trust_remote_code: bool):
        from gte_search.service_client import ServiceClient

        self.index_dir = index_dir or default_index_dir()
        self.mode: SearchMode = mode
        self.trust_remote_code = trust_remote_code
        self.service = ServiceClient.connect(self.index_dir)
        if self.service is not None:
            click.get_current_context().call_on_close(self.service.close)
        self.index: SearchIndex | None = None
        self.embedder: EmbeddingModel | None = None

    def search(self, text: str, k: int, filters: SearchFilters) -> list[SearchHit]:
        from gte_search.service_client import ServiceUnavailable, ServiceUserError

        if self.service is not None:
            try:
                hits, notes = self.service.search(text, k, filters, self.mode)
            except ServiceUserError as error:
                raise UserError(str(error)) from error
            except ServiceUnavailable:
                self.service = None
            else:
                for line in notes:
                    note(line)
                return hits
        return self._search_here(text, k, filters)

    def _search_here(self, text: str, k: int, filters: SearchFilters) -> list[SearchHit]:
        from gte_search.cli_output import inside_roots

        if self.index is None:
            search_index = open_index(self.index_dir)
            model = search_index.model
            if model is None:
                raise UserError(
                    f"the index at {search_index.directory} is empty; run: gte-search index PATH"
                )
            if self.mode != "lexical":
                self.embedder = load_embedder(
                    model.model_id,
                    named_by_user=True,
                    trust_remote_code=self.trust_remote_code,
                    for_queries=True,
                )
                for line in search_index.load_vectors():
                    note(line)
            self.index = search_index
        hits = self.index.search(text, self.embedder, k, filters, mode=self.mode)
        return inside_roots(hits)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--skipped", is_flag=True, help="List skipped files and why.")
@index_option
def status(as_json: bool, skipped: bool, index_dir: Path | None) -> None:
    """Show what the index holds."""
    from gte_search.cli_output import print_status, status_dict
    from gte_search.service_client import describe_service, service_info

    with user_errors():
        info = open_index(index_dir).status()
    served = service_info(info.directory)
    if as_json:
        described = status_dict(info)
        described["service"] = served
        click.echo(json.dumps(described, indent=2))
    else:
        print_status(info, skipped=skipped)
        click.echo(f"service:   {describe_service(served)}")
