"""`gte-search index` and `gte-search remove`: the commands that change the index."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gte_search.cli_common import (
    EXIT_UNREADABLE,
    UserError,
    index_option,
    load_embedder,
    open_index,
    trust_option,
    user_errors,
)
from gte_search.cli_output import note
from gte_search.config import (
    DEFAULT_MODEL,
    MODEL_ENV,
    PRECISION_ENV,
    PRECISIONS,
    VECTOR_INDEX_KINDS,
)

if TYPE_CHECKING:
    from gte_search.index import IndexOptions, IndexReport, SearchIndex


@click.command()
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
        search_index = open_index(index_dir, create=bool(paths))
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
        _prepare_for_queries(search_index, trust_remote_code)
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
    from gte_search.model_choice import choose_model

    choice = choose_model(search_index.model, model)
    embedder = load_embedder(
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


def _prepare_for_queries(search_index: SearchIndex, trust_remote_code: bool) -> None:
    """Export the model for torch-free searches now, outside the write lock, so that the
    first search after indexing starts fast too (gte_search.query_encoder)."""
    from gte_search.models import resolve_model
    from gte_search.query_encoder import prepare_query_encoder

    if search_index.model is not None:
        source = resolve_model(search_index.model.model_id, named_by_user=True)
        prepare_query_encoder(source, trust_remote_code=trust_remote_code, on_export=note)


@click.command()
@click.argument("root")
@index_option
def remove(root: str, index_dir: Path | None) -> None:
    """Drop ROOT (its path or folder name), with its files, chunks and vectors."""
    from gte_search.cli_output import plural

    with user_errors():
        removed, files = open_index(index_dir).remove_root(root)
    click.echo(f"Removed {removed} ({plural(files, 'file')})")
