"""`gte-search index` and `gte-search remove`: the commands that change the index."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import click

from gte_search.cli_common import (
    EXIT_UNREADABLE,
    UserError,
    index_option,
    index_options,
    load_embedder,
    open_index,
    trust_option,
    update_options,
    user_errors,
)
from gte_search.cli_output import note
from gte_search.config import (
    DEFAULT_MODEL,
    MODEL_ENV,
    PRECISION_ENV,
    PRECISIONS,
    RAY_ENV,
    VECTOR_INDEX_KINDS,
)

if TYPE_CHECKING:
    from gte_search.index import IndexOptions, IndexReport, SearchIndex
    from gte_search.models import EmbeddingModel
    from gte_search.ray_embed import RayCluster


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
@update_options
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
@click.option(
    "--ray",
    "ray_address",
    metavar="ADDRESS",
    envvar=RAY_ENV,
    show_envvar=True,
    help="Embed on a Ray cluster: local (start one for this run), auto (the cluster "
    "RAY_ADDRESS names) or HOST:PORT. Needs the ray extra.",
)
@click.option(
    "--ray-actors",
    type=click.IntRange(min=1),
    help="Embedding actors on the Ray cluster.  [default: one per GPU, else one per 4 CPUs]",
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
    ray_address: str | None,
    ray_actors: int | None,
    trust_remote_code: bool,
    index_dir: Path | None,
) -> None:
    """Index (or update) the files under PATHS; with no PATHS, update every known root."""

    with user_errors(), ExitStack() as stack:
        cluster = None
        if ray_address:
            from gte_search.ray_embed import ray_cluster

            # Reached before the index is opened: an unreachable cluster changes nothing.
            cluster = stack.enter_context(ray_cluster(ray_address, ray_actors))
        search_index = open_index(index_dir, create=bool(paths))
        if not paths or rebuild:
            # A rebuild re-embeds every root, not only the ones named.
            known = [root for root in search_index.roots() if root not in paths]
            paths = (*paths, *known)
            if not paths:
                raise UserError("this index has no roots yet; give a PATH to index")
        if wait and (holder := search_index.lock.holder()):
            note(f"waiting for process {holder} to finish updating the index")
        options = index_options(max_file_size, no_ignore)
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
                cluster,
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
    cluster: RayCluster | None,
) -> IndexReport:
    from gte_search.cli_output import ProgressBar, print_report
    from gte_search.model_choice import choose_model

    choice = choose_model(search_index.model, model)
    embedder: EmbeddingModel
    if cluster is None:
        embedder = load_embedder(
            choice.model_id,
            named_by_user=choice.named_by_user,
            trust_remote_code=trust_remote_code,
            precision=precision,
            in_background=True,
        )
    else:
        embedder = cluster.embedder(
            choice.model_id,
            named_by_user=choice.named_by_user,
            trust_remote_code=trust_remote_code,
            precision=precision,
            notice=note,
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
