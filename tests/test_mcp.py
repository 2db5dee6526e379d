"""`gte-search mcp` through the real protocol: the SDK's stdio client spawns the server once
for this module, on an index of a copy of sample_repos/pyfetch built with the bundled
MiniLM, and every test talks to it with tool calls, as a coding agent would."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import gte_search
from gte_search.hits import SearchHit
from gte_search.lock import IndexLock
from tests.conftest import (
    SAMPLE_REPOS,
    build_index,
    requests_served,
    run_cli,
    start_service,
    stop,
)

mcp = pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters, stdio_client  # noqa: E402

T = TypeVar("T")
HIT_KEYS = {field.name for field in dataclasses.fields(SearchHit)}
COOKIE_QUERY = "parse cookies from a Cookie header"
# Copies every line the server writes to stdout into a file, so a test can check that
# nothing but protocol ever went there.
TEE = """import subprocess, sys
server = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE)
with open(sys.argv[1], "wb") as log:
    for line in server.stdout:
        log.write(line); log.flush()
        sys.stdout.buffer.write(line); sys.stdout.buffer.flush()
sys.exit(server.wait())
"""


@dataclasses.dataclass
class Project:
    root: Path
    index: Path
    outside: Path  # a file outside the root, which `read` must never serve
    stdout_log: Path


class Client:
    """An MCP client session on its own event loop thread, so tests can stay synchronous."""

    def __init__(self, params: StdioServerParameters) -> None:
        self.params = params
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.session: ClientSession | None = None
        self.started = time.perf_counter()
        self.listed_after = 0.0
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),))
        self.thread.start()
        assert self.ready.wait(120), "the server did not start"
        if self._error is not None:
            raise self._error

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with (
                stdio_client(self.params) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                self.tools = (await session.list_tools()).tools
                self.listed_after = time.perf_counter() - self.started
                self.session = session
                self.ready.set()
                await self._stop.wait()
        except BaseException as error:
            self._error = error
            self.ready.set()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(300)

    def call(self, name: str, **arguments: object) -> Any:
        assert self.session is not None
        return self.run(self.session.call_tool(name, arguments))

    def close(self) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(60)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, minilm_dir: Path) -> Project:
    base = tmp_path_factory.mktemp("mcp")
    # The package and its docs: enough rivals for the query, less to embed than the whole repo.
    skip = shutil.ignore_patterns("tests", "generated", "CHANGELOG.txt", "pyproject.toml")
    root = Path(shutil.copytree(SAMPLE_REPOS / "pyfetch", base / "pyfetch", ignore=skip))
    outside = base / "outside" / "secret.py"
    outside.parent.mkdir()
    outside.write_text("TOKEN = 'never served'\n")
    (root / "escape.py").symlink_to(outside)
    build_index(base / "index", [root], minilm_dir)
    return Project(root, base / "index", outside, base / "stdout.log")


@pytest.fixture(scope="module")
def client(project: Project) -> Iterator[Client]:
    started = Client(_server_parameters(project))
    yield started
    started.close()


def _server_parameters(project: Project) -> StdioServerParameters:
    command = [sys.executable, "-m", "gte_search", "mcp", "--index", str(project.index)]
    return StdioServerParameters(
        command=sys.executable,
        args=["-c", TEE, str(project.stdout_log), *command],
        env={
            "PYTHONPATH": str(Path(gte_search.__file__).parents[1]),
            "HF_HUB_OFFLINE": "1",
            "GTE_SEARCH_PRECISION": "fp32",
        },
        cwd=str(project.root),
    )


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


def test_tools_and_their_schemas(client: Client) -> None:
    tools = {tool.name: tool for tool in client.tools}
    assert set(tools) == {"search", "status", "read", "index"}
    assert all(tool.description for tool in tools.values())
    search = tools["search"].input_schema
    assert search["required"] == ["query"]
    assert set(search["properties"]) == {
        "query", "k", "mode", "lang", "path", "kind", "root", "max_chars"
    }  # fmt: skip
    assert search["properties"]["k"]["default"] == 10
    assert set(search["properties"]["mode"]["enum"]) == {"hybrid", "semantic", "lexical"}
    output = tools["search"].output_schema
    assert output is not None
    hit_schema = output["$defs"]["Hit"]
    assert set(hit_schema["properties"]) == HIT_KEYS == set(hit_schema["required"])
    read = tools["read"].input_schema
    assert read["required"] == ["path"]
    assert set(read["properties"]) == {"path", "start_line", "end_line", "root"}
    assert tools["index"].input_schema.get("properties", {}) == {}  # no roots from a tool call


def test_lexical_search_answers_without_loading_the_model(client: Client, project: Project) -> None:
    assert client.call("status").structured_content["model_loaded"] is False
    result = client.call("search", query="parse_cookie_header", mode="lexical", k=3)
    assert not result.is_error
    hits = result.structured_content["hits"]
    assert hits[0]["symbol"] == "parse_cookie_header"
    status = client.call("status").structured_content
    assert status["model_loaded"] is False
    assert status["roots"] == [str(project.root)] and status["chunks"] == status["embedded"]
    assert status["pending"] == 0 and status["index_run_active"] is False
    # The very hits `gte-search search --json` prints, key for key.
    _, out, _ = run_cli(
        "search", "parse_cookie_header", "--json", "--mode", "lexical", "-k", "3",
        "--index", str(project.index),
    )  # fmt: skip
    assert hits == json.loads(out)


def test_search_finds_the_function_first_with_the_json_keys(client: Client) -> None:
    result = client.call("search", query=COOKIE_QUERY, k=5)
    assert not result.is_error
    content = result.structured_content
    top = content["hits"][0]
    assert (top["path"], top["symbol"]) == ("pyfetch/cookies.py", "parse_cookie_header")
    assert all(set(hit) == HIT_KEYS for hit in content["hits"])
    assert content["index_updating"] is False and content["trimmed"] == 0
    text = text_of(result)
    assert text.startswith(f"1. pyfetch/cookies.py:{top['start_line']}-{top['end_line']}  ")
    assert "parse_cookie_header" in text.splitlines()[0]
    assert "def parse_cookie_header(header):" in text
    assert client.call("status").structured_content["model_loaded"] is True


def test_max_chars_trims_hit_texts_to_the_budget(client: Client) -> None:
    full = client.call("search", query=COOKIE_QUERY, k=5).structured_content["hits"]
    result = client.call("search", query=COOKIE_QUERY, k=5, max_chars=300)
    hits = result.structured_content["hits"]
    assert sum(len(hit["text"]) for hit in hits) <= 300 < sum(len(h["text"]) for h in full)
    assert [hit["path"] for hit in hits] == [hit["path"] for hit in full]
    assert all(full[i]["text"].startswith(hit["text"]) for i, hit in enumerate(hits))
    assert result.structured_content["trimmed"] > 0
    assert "max_chars=300" in text_of(result)


def test_k_is_capped(client: Client) -> None:
    result = client.call("search", query="cookie", mode="lexical", k=500)
    assert len(result.structured_content["hits"]) <= 50
    assert "k capped at 50" in result.structured_content["notes"]


def test_read_returns_the_lines_asked_for(client: Client, project: Project) -> None:
    lines = (project.root / "pyfetch" / "cookies.py").read_text().splitlines()
    result = client.call("read", path="pyfetch/cookies.py", start_line=30, end_line=33)
    assert not result.is_error
    content = result.structured_content
    assert content["text"] == "\n".join(lines[29:33])
    assert (content["start_line"], content["end_line"]) == (30, 33)
    assert content["total_lines"] == len(lines) and content["truncated"] is False
    absolute = client.call("read", path=str(project.root / "pyfetch" / "cookies.py"), end_line=2)
    assert absolute.structured_content["text"] == "\n".join(lines[:2])


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_read_refuses_paths_out_of_the_root(client: Client, project: Project, how: str) -> None:
    path = {
        "dotdot": "../outside/secret.py",
        "absolute": str(project.outside),
        "symlink": "escape.py",
    }[how]
    result = client.call("read", path=path)
    assert result.is_error
    assert "outside the indexed roots" in text_of(result)
    assert "never served" not in text_of(result)


def test_search_answers_during_an_index_run_and_says_so(client: Client, project: Project) -> None:
    lock = IndexLock(project.index)
    assert lock.try_acquire()
    try:
        result = client.call("search", query=COOKIE_QUERY, k=3)
        assert not result.is_error and result.structured_content["hits"]
        assert result.structured_content["index_updating"] is True
        assert "index is being updated" in text_of(result)
        status = client.call("status").structured_content
        assert status["index_run_active"] is True
        busy = client.call("index")
        assert busy.is_error and "already updating" in text_of(busy)
    finally:
        lock.release()
    assert client.call("search", query=COOKIE_QUERY).structured_content["index_updating"] is False


def test_index_runs_in_the_background_while_search_answers(
    client: Client, project: Project
) -> None:
    (project.root / "pyfetch" / "zebra.py").write_text("def gallop_zebra_stripes():\n    pass\n")
    started = client.call("index")
    assert not started.is_error and started.structured_content["started"] is True
    assert not client.call("search", query="cookie", mode="lexical").is_error
    deadline = time.monotonic() + 240
    while True:
        status = client.call("status").structured_content
        run = status["last_run"]
        if run["exit_code"] is not None and not status["index_run_active"]:
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert run["exit_code"] == 0, run
    found = client.call("search", query="gallop_zebra_stripes", k=1)
    assert found.structured_content["hits"][0]["path"] == "pyfetch/zebra.py"


def test_stdout_carries_only_protocol(client: Client, project: Project) -> None:
    lines = project.stdout_log.read_bytes().splitlines()
    assert lines
    for line in lines:
        assert json.loads(line)["jsonrpc"] == "2.0", line


def test_trim_to_budget_shares_the_budget_and_cuts_at_line_ends() -> None:
    from gte_search.mcp_server import trim_to_budget

    def hit(text: str) -> SearchHit:
        return SearchHit("a.py", "/r", 1, 1, 1.0, "code", "python", None, text)

    short, long = hit("ab"), hit("line one\nline two\nline three")
    assert trim_to_budget([short, long], 100) == ([short, long], 0)
    trimmed, count = trim_to_budget([long, short], 20)
    assert [h.text for h in trimmed] == ["line one\nline two", "ab"] and count == 1
    assert [h.text for h in trim_to_budget([hit("x" * 50)], 7)[0]] == ["x" * 7]
    assert [h.text for h in trim_to_budget([short, long], 0)[0]] == ["", ""]


def test_search_goes_through_a_running_serve_and_loads_no_model(
    project: Project, tmp_path: Path
) -> None:
    """With `gte-search serve` running on the index, a new MCP server answers its first
    hybrid search from the service's warm model instead of loading one of its own."""
    service = start_service(project.index, "--no-watch", log=tmp_path / "serve.log", watch=False)
    try:
        fresh = Client(_server_parameters(project))
        try:
            served_before = requests_served(project.index)
            result = fresh.call("search", query=COOKIE_QUERY, k=5, path="pyfetch/**")
            assert not result.is_error, text_of(result)
            top = result.structured_content["hits"][0]
            assert (top["path"], top["symbol"]) == ("pyfetch/cookies.py", "parse_cookie_header")
            assert requests_served(project.index) == served_before + 2  # the search and this check
            assert fresh.call("status").structured_content["model_loaded"] is False
            mistake = fresh.call("search", query="cookie", root="nowhere")
            assert mistake.is_error and "root:nowhere is not a root" in text_of(mistake)
        finally:
            fresh.close()
    finally:
        stop(service)
