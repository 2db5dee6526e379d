"""`gte-search serve` and `gte-search watch`: keep the model warm and the index fresh."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from gte_search.cli_common import (
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
from gte_search.config import default_index_dir

if TYPE_CHECKING:
    pass


@click.command()
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=1800,
    show_default=True,
    help="Stop after this many seconds without a request (0: never).",
)
@click.option(
    "--http",
    "http_address",
    metavar="HOST:PORT",
    help="Also answer HTTP on this loopback address; requests need the token in INDEX/serve.token.",
)
@click.option("--no-watch", is_flag=True, help="Do not watch the roots for changes.")
@update_options
@trust_option
@index_option
def serve(
    idle_timeout: float,
    http_address: str | None,
    no_watch: bool,
    max_file_size: int,
    no_ignore: bool,
    trust_remote_code: bool,
    index_dir: Path | None,
) -> None:
    """Keep the model and the index loaded for fast searches, and the index up to date.

    Listens on a Unix socket in the index directory (only you can connect); `gte-search
    search` and `status` use it when it runs. Stops on Ctrl-C, SIGTERM or after the idle
    timeout.
    """
    from gte_search.service_files import ServiceFiles, ServiceRunning

    directory = (index_dir or default_index_dir()).resolve()
    if not directory.is_dir():
        raise UserError(f"no index at {directory}; create one with: gte-search index PATH")
    # Claimed before the heavy imports: a second `serve` is refused at once.
    files = ServiceFiles(directory)
    with user_errors():
        try:
            files.claim()
        except ServiceRunning as error:
            raise UserError(str(error)) from error
    from gte_search.service import Service

    service = Service(
        directory,
        trust_remote_code=trust_remote_code,
        watch=not no_watch,
        idle_timeout=idle_timeout,
        log=note,
        files=files,
        options=index_options(max_file_size, no_ignore),
    )
    with user_errors():
        service.start(http_address)
    where = f" and http://{service.http_address}" if service.http_address else ""
    note(f"serving {service.index_dir} on {service.files.socket_path}{where}")
    service.run()


@click.command()
@update_options
@trust_option
@index_option
def watch(
    max_file_size: int, no_ignore: bool, trust_remote_code: bool, index_dir: Path | None
) -> None:
    """Keep the index up to date as files change, printing a line per update (Ctrl-C stops)."""
    from gte_search.watch import IndexWatcher, describe

    with user_errors():
        index = open_index(index_dir)
        model = index.model
        if model is None:
            raise UserError(f"the index at {index.directory} is empty; run: gte-search index PATH")
        embedder = load_embedder(
            model.model_id, named_by_user=True, trust_remote_code=trust_remote_code
        )

        def ready(roots: list[Path]) -> None:
            note(f"watching {', '.join(map(str, roots))}; Ctrl-C stops")

        watcher = IndexWatcher(
            index.directory,
            lambda model_id: embedder,
            lambda update: click.echo(describe(update)),
            on_ready=ready,
            options=index_options(max_file_size, no_ignore),
        )
        try:
            watcher.run()
        except KeyboardInterrupt as stopped:
            if getattr(stopped, "report", None) is not None:
                raise  # stopped mid-update: say how far it got (cli.Commands)
