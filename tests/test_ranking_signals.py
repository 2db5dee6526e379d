"""Each ranking signal, on a case a user would recognise, with the real MiniLM weights: the
result with the signal on, and (so the test can fail) what plain fusion does instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gte_search.categories import categories
from gte_search.embed import Embedder
from gte_search.hits import SearchHit
from gte_search.index import SearchIndex
from gte_search.models import resolve_model
from gte_search.query import make_filters
from gte_search.rank import RANKING_SIGNALS
from gte_search.signals import (
    OTHER_QUERY_DOC_FACTOR,
    USER_QUESTION_DOC_FACTOR,
    QueryIntent,
    documentation_factor,
    is_mostly_prose,
)
from gte_search.store import StoredChunk
from indexer.chunk import Chunk

RETRY = '''\
import time


def schedule_retry(request, attempt):
    """Schedule the next retry of a failed HTTP request after an exponential backoff."""
    delay = 2 ** attempt
    time.sleep(delay)
    return request.send()
'''

RETRY_TESTS = "\n\n".join(
    f'''def test_retry_is_scheduled_{n}():
    """Retries of HTTP requests are scheduled: retry {n} is scheduled after a backoff."""
    request = FakeRequest()
    assert schedule_retry(request, {n}) is request.sent
    assert request.retries_scheduled == {n}'''
    for n in range(1, 5)
)

EXTRACT_DOC = "# Extractors\n\n" + "\n\n".join(
    f"## Extractor {n}\n\nAn extractor takes the request apart: extractor number {n} reads "
    f"part {n} of the request, and extractors can be combined in a handler."
    for n in range(1, 7)
)

RESPONSE = """\
/// Anything a handler returns must implement IntoResponse to become an HTTP response.
pub trait IntoResponse {
    fn into_response(self) -> Response;
}
"""

RESPONSE_DOC = "# Responses\n\n" + "\n\n".join(
    f"Handlers return IntoResponse types. IntoResponse example {n}: a String is IntoResponse, "
    f"and so is a tuple of IntoResponse parts."
    for n in range(1, 8)
)

ROUTER_EXTRACT = """\
/// Pulls the path parameters out of the request URI.
pub struct Path<T>(pub T);

/// Pulls the query string out of the request URI.
pub struct Query<T>(pub T);
"""

LIB = """\
pub mod response;
pub use crate::response::IntoResponse;
"""

SETTINGS = '''\
import os
from pathlib import Path


def settings_path():
    """Where the settings file is kept: the GTE_CONFIG environment variable when it is set,
    else settings.toml in the home folder."""
    return Path(os.environ.get("GTE_CONFIG", Path.home() / "settings.toml"))


def load_settings(path):
    """Read the settings file and return its values as a dict."""
    import tomllib

    with open(path, "rb") as handle:
        return tomllib.load(handle)
'''

SETTINGS_DOC = """\
# Configuration

Settings live in settings.toml in your home folder.

To use another file, set GTE_CONFIG to its path before you start the program.

Each key in the settings file sets one option; unknown keys are reported and ignored.
"""


METHOD_OVERRIDE = '''\
defmodule Plug.MethodOverride do
  @moduledoc """
  This plug overrides the request's `POST` method with the method defined in
  the `_method` request parameter.

  The `POST` method can be overridden only by these HTTP methods:

    * `PUT`
    * `PATCH`
    * `DELETE`

  This plug only replaces the request method if the `_method` request
  parameter is a string. If the `_method` request parameter is not a string,
  the request method is not changed.

  > Note: parsing the request body is necessary before running this plug.
  > Ensure `Plug.Parsers` is placed before this plug in the pipeline.
  """

  @behaviour Plug

  @allowed_methods ~w(DELETE PUT PATCH)

  def init([]), do: []

  def call(%Plug.Conn{method: "POST", body_params: body_params} = conn, []),
    do: override_method(conn, body_params)

  def call(%Plug.Conn{} = conn, []), do: conn

  defp override_method(conn, %Plug.Conn.Unfetched{}), do: conn

  defp override_method(%Plug.Conn{} = conn, body_params) do
    with method when is_binary(method) <- body_params["_method"] || "",
         method <- String.upcase(method),
         true <- method in @allowed_methods do
      %{conn | method: method}
    else
      _ -> conn
    end
  end
end
'''


@pytest.fixture(scope="module")
def ranked(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path) -> Iterator[SearchIndex]:
    root = tmp_path_factory.mktemp("signals") / "web"
    files = {
        "src/retry.py": RETRY,
        "tests/test_retry.py": RETRY_TESTS,
        "docs/handlers.md": EXTRACT_DOC,
        "src/extract/mod.rs": ROUTER_EXTRACT,
        "src/response.rs": RESPONSE,
        "docs/responses.md": RESPONSE_DOC,
        "src/lib.rs": LIB,
        "lib/method_override.ex": METHOD_OVERRIDE,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    with SearchIndex.open(root.parent / "index", create=True) as index:
        index.update([root], _embedder(minilm_dir))
        yield index


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path) -> Iterator[SearchIndex]:
    root = tmp_path_factory.mktemp("questions") / "tool"
    for name, text in {"src/config.py": SETTINGS, "docs/configuration.md": SETTINGS_DOC}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    with SearchIndex.open(root.parent / "index", create=True) as index:
        index.update([root], _embedder(minilm_dir))
        yield index


def _embedder(minilm_dir: Path) -> Embedder:
    return Embedder(resolve_model(str(minilm_dir), named_by_user=True))


def _search(
    index: SearchIndex, minilm_dir: Path, query: str, signals: tuple[str, ...] | None = None, **kw
) -> list[SearchHit]:
    filters = make_filters(**kw) if kw else None
    return index.search(query, _embedder(minilm_dir), k=10, filters=filters, signals=signals)


def _paths(hits: list[SearchHit], n: int) -> list[str]:
    return [hit.path for hit in hits[:n]]


def test_the_function_comes_before_the_tests_that_exercise_it(
    ranked: SearchIndex, minilm_dir: Path
) -> None:
    query = "where are HTTP retries scheduled"
    plain = _search(ranked, minilm_dir, query, signals=())
    assert plain[0].path == "tests/test_retry.py"
    assert _search(ranked, minilm_dir, query)[0].path == "src/retry.py"
    without = _search(ranked, minilm_dir, query, signals=_all_but("demotion"))
    assert without[0].path == "tests/test_retry.py"


def test_tests_are_not_demoted_when_the_query_asks_for_them(
    ranked: SearchIndex, minilm_dir: Path
) -> None:
    assert _search(ranked, minilm_dir, "tests of retry scheduling")[0].path == "tests/test_retry.py"
    hits = _search(ranked, minilm_dir, "retry scheduled", paths=("tests/*",))
    assert hits and {hit.path for hit in hits} == {"tests/test_retry.py"}


def test_one_doc_file_takes_at_most_two_of_the_top_five(
    ranked: SearchIndex, minilm_dir: Path
) -> None:
    query = "extractors that take the request apart"
    plain = _paths(_search(ranked, minilm_dir, query, signals=()), 5)
    assert plain.count("docs/handlers.md") > 2
    top = _paths(_search(ranked, minilm_dir, query), 5)
    assert top.count("docs/handlers.md") <= 2
    assert "src/extract/mod.rs" in top


def test_a_definition_ranks_first_for_its_name(ranked: SearchIndex, minilm_dir: Path) -> None:
    plain = _search(ranked, minilm_dir, "IntoResponse", signals=())
    assert plain[0].path == "docs/responses.md"
    for query in ("IntoResponse", "how does IntoResponse turn a handler result into a response"):
        hits = _search(ranked, minilm_dir, query)
        assert (hits[0].path, hits[0].symbol) == ("src/response.rs", "IntoResponse")
    # The module that re-exports it, where users import it from, follows the definition.
    assert "src/lib.rs" in _paths(_search(ranked, minilm_dir, "IntoResponse"), 3)


def test_a_query_word_naming_a_folder_lifts_its_files(
    ranked: SearchIndex, minilm_dir: Path
) -> None:
    query = "extractors for the URI"
    # `questions` alone also puts the code first here (the query is no question, and the
    # competing paragraphs are docs): leave it out to see what `paths` does.
    with_paths = _paths(_search(ranked, minilm_dir, query, signals=_all_but("questions")), 10)
    without = _paths(_search(ranked, minilm_dir, query, signals=_all_but("questions", "paths")), 10)
    assert with_paths[0] == "src/extract/mod.rs" != without[0]


def test_a_question_in_the_users_voice_finds_the_docs_and_a_description_the_code(
    configured: SearchIndex, minilm_dir: Path
) -> None:
    for question in (
        "how do I keep my settings file somewhere else",
        "can I use a settings file in another folder",
    ):
        assert _search(configured, minilm_dir, question)[0].path == "docs/configuration.md"
        without = _search(configured, minilm_dir, question, signals=_all_but("questions"))
        assert without[0].path == "src/config.py"
    description = "choose the settings file from the environment variable or the home folder"
    assert _paths(_search(configured, minilm_dir, description), 2) == ["src/config.py"] * 2


def test_a_description_finds_the_code_before_the_modules_own_documentation(
    ranked: SearchIndex, minilm_dir: Path
) -> None:
    # The @moduledoc says in words what the query says; the code that does it comes first.
    query = "change the request method of a POST to the one a form field asks for"
    top = _search(ranked, minilm_dir, query)[0]
    assert top.path == "lib/method_override.ex" and top.symbol == "Plug.MethodOverride.call"
    without = _search(ranked, minilm_dir, query, signals=_all_but("questions"))[0]
    assert (without.start_line, without.symbol) == (1, "Plug.MethodOverride")


PROSE_CASES = [
    (METHOD_OVERRIDE.split("  @allowed_methods")[0], True),  # an Elixir @moduledoc heredoc
    (METHOD_OVERRIDE.split("  @behaviour")[1], False),
    ('def f(x):\n    """Double x."""\n    return 2 * x\n', False),
    ('"""The retry policy.\n\nRetries back off\nexponentially."""\nimport time\n', True),
    ("//! Types and traits for extracting data\n//! from requests.\n//!\nmod path;\n", True),
    ("#include <stdio.h>\n#include <string.h>\n#define SIZE 4\nint n;\n", False),
    ("/**\n * Reads JSON from a stream, a token\n * at a time, leniently.\n */\nclass R {\n", True),
    ("# Parses the route pattern into parts,\n# capturing parameters.\ndef compile(path)\n", True),
    ("#[derive(Debug)]\n#[must_use]\npub struct Router { routes: Vec<Route> }\n", False),
]  # fmt: skip


def test_code_that_is_mostly_documentation_counts_as_documentation_both_ways() -> None:
    # Elixir, Go and Rust projects answer their users in @moduledoc and doc comments.
    def chunk(text: str) -> StoredChunk:
        return StoredChunk(1, "/plug", Chunk("lib/m.ex", 1, 20, "code", "elixir", "M", text))

    moduledoc = chunk(METHOD_OVERRIDE.split("  @allowed_methods")[0])
    function = chunk(METHOD_OVERRIDE.split("  @behaviour")[1])
    question = QueryIntent.of("how do I make a form submit a DELETE request?")
    description = QueryIntent.of("change the request method of a POST to a form field's")
    assert documentation_factor(question, moduledoc) == USER_QUESTION_DOC_FACTOR
    assert documentation_factor(description, moduledoc) == OTHER_QUERY_DOC_FACTOR
    assert documentation_factor(question, function) == documentation_factor(description, function)


@pytest.mark.parametrize(("code", "prose"), PROSE_CASES)
def test_which_code_is_mostly_its_own_documentation(code: str, prose: bool) -> None:
    assert is_mostly_prose(code) is prose


@pytest.mark.parametrize(
    ("query", "user_question"),
    [
        ("how do I parse a buffer that is not zero terminated", True),
        ("Where should my application store its configuration files?", True),
        ("is it safe to use cJSON from several threads", True),
        ("why does the body extractor have to come last", True),
        ("how can a route only match for a certain host name", True),
        ("I only want exceptions for 5xx responses, not for 404", True),
        ("decode a \\u escape with a surrogate pair into UTF-8", False),
        ("how does a request travel from the socket to the handler", False),
        ("IntoResponse", False),
        ("where do we retry failed uploads", False),
        ("is there a helper that parses dates", False),
        ("can I find the function that my handler calls", False),
        ("what is tried, in order, to create an instance of a class", False),
    ],
)
def test_which_queries_are_questions_in_the_users_voice(query: str, user_question: bool) -> None:
    assert QueryIntent.of(query).user_question is user_question


def _all_but(*signals: str) -> tuple[str, ...]:
    return tuple(s for s in RANKING_SIGNALS if s not in signals)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/retry.py", set()),
        ("tests/test_retry.py", {"test"}),
        ("pkg/retry_test.go", {"test"}),
        ("src/client.test.ts", {"test"}),
        ("src/__tests__/client.tsx", {"test"}),
        ("spec/router_spec.rb", {"test"}),
        ("spec/parser_spec.lua", {"test"}),
        ("src/test/kotlin/RouterTest.kt", {"test"}),
        ("Tests/RouterTests/RouterTests.swift", {"test"}),
        ("src/Router.Tests/RoutingTests.cs", {"test"}),
        ("src/test/scala/ParserSuite.scala", {"test"}),
        ("test/parser_test.exs", {"test"}),
        ("test/runtests.jl", {"test"}),
        ("test/test_lexer.ml", {"test"}),
        ("examples/hello/main.rs", {"example"}),
        ("benches/parse.rs", {"benchmark"}),
        ("vendor/github.com/x/y/z.go", {"vendored"}),
        ("api/v1/service.pb.go", {"generated"}),
        ("proto/service_pb2_grpc.py", {"generated"}),
        ("lib/model.freezed.dart", {"generated"}),
        ("Forms/Main.Designer.cs", {"generated"}),
        ("internal/store/mock_store.go", {"fixture"}),
        ("src/api.mock.ts", {"fixture"}),
        ("src/_compat.py", {"legacy"}),
        ("src/contest.py", set()),
        ("src/latest.go", set()),
        ("src/generator.py", set()),
    ],
)
def test_what_counts_as_tests_examples_and_generated_code(path: str, expected: set[str]) -> None:
    chunk = Chunk(path, 1, 2, "code", "python", "f", "def f():\n    pass\n")
    assert categories(StoredChunk(1, "/repo", chunk)) == expected
