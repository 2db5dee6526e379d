"""What every command shares: the errors a user can cause, the common options, opening the
index and loading the model. Heavy imports stay inside functions so that `--help` never loads
torch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from gte_search.cli_output import note
from gte_search.config import INDEX_ENV, default_index_dir

if TYPE_CHECKING:
    from gte_search.index import IndexOptions, SearchIndex
    from gte_search.models import EmbeddingModel, ModelSource

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
    try:
        yield
    except OSError as error:
        raise UserError(f"{error.filename or 'file'}: {error.strerror or error}") from error
    except Exception as error:
        # Imported only now: a search answered by the service must not import the index's
        # modules (numpy, SQLite) just to name the errors it might have raised.
        from gte_search.config import SettingError
        from gte_search.models import ModelError
        from gte_search.query import QueryError
        from gte_search.reports import IndexProblem

        if isinstance(error, (IndexProblem, ModelError, QueryError, SettingError)):
            raise UserError(str(error)) from error
        raise


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


def open_index(index_dir: Path | None, *, create: bool = False) -> SearchIndex:
    """Open the index, closed again when the command ends."""
    from gte_search.index import SearchIndex

    opened = SearchIndex.open(index_dir or default_index_dir(), create=create)
    click.get_current_context().call_on_close(opened.close)
    return opened


def load_embedder(
    model: str,
    *,
    named_by_user: bool,
    trust_remote_code: bool,
    precision: str | None = None,
    for_queries: bool = False,
    in_background: bool = False,
) -> EmbeddingModel:
    """The model, loaded for indexing. `for_queries`: the ONNX query encoder when it can be
    had (no torch import: a fresh search starts in a fraction of the time). `in_background`:
    loading in a thread while an update stores chunks (searchable by their words seconds
    earlier), where the model's folder allows it; never for a model that ships its own code,
    which is loaded before anything changes."""
    from gte_search.models import resolve_model

    source: ModelSource = resolve_model(model, named_by_user=named_by_user)
    if source.notice:
        note(source.notice)
    if for_queries:
        from gte_search.query_encoder import load_query_encoder

        encoder = load_query_encoder(source, trust_remote_code=trust_remote_code, on_export=note)
        if encoder is not None:
            return encoder

    def load() -> EmbeddingModel:
        from gte_search.embed import Embedder

        return Embedder(source, trust_remote_code=trust_remote_code, precision=precision)

    if in_background and not trust_remote_code:
        from gte_search.deferred_model import defer_loading

        deferred = defer_loading(source, load)
        if deferred is not None:
            return deferred
    return load()


F = TypeVar("F", bound=Callable[..., object])


def update_options(command: F) -> F:
    """How watched files are read: the same choices as `gte-search index` (not remembered
    by the index, so give the ones the roots were indexed with)."""
    command = click.option(
        "--no-ignore", is_flag=True, help="Do not honour .gitignore and .ignore files."
    )(command)
    return click.option(
        "--max-file-size",
        type=click.IntRange(min=1),
        default=1_000_000,
        show_default=True,
        help="Skip files larger than this many bytes.",
    )(command)


def index_options(max_file_size: int, no_ignore: bool) -> IndexOptions:
    from gte_search.index import IndexOptions

    return IndexOptions(max_file_bytes=max_file_size, use_ignore_files=not no_ignore)
