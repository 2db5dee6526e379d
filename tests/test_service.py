"""`gte-search serve` and `gte-search watch` end to end: real subprocesses on a temporary index
built with the tiny model, talked to through the CLI, the client module and raw sockets.

The tests of the shared service run in file order: the last one stops it with SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gte_search.service_client import (
    INFO_NAME,
    SERVICE_ENV,
    SOCKET_NAME,
    TOKEN_NAME,
    ServiceClient,
    service_info,
    socket_address,
)
from tests.conftest import (
    SERVICE_START_TIMEOUT,
    build_index,
    requests_served,
    run_cli,
    start_service,
    stop,
    write_small_repo,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Starting a service imports torch and loads the model: seconds on a busy 2-core machine.
START_TIMEOUT = SERVICE_START_TIMEOUT
# Watch latency is a benchmark (benchmarks/service_latency.py); a test only needs to see it.
CHANGE_TIMEOUT = 20.0


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + CHANGE_TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_master: Path
) -> Iterator[tuple[Path, Path, subprocess.Popen[bytes]]]:
    """(index directory, root, serve process) with --http on an ephemeral port."""
    base = tmp_path_factory.mktemp("served")
    root = write_small_repo(base / "repo")
    index_dir = base / "index"
    build_index(index_dir, [root], tiny_model_master)
    process = start_service(index_dir, "--http", "127.0.0.1:0", log=base / "serve.log")
    yield index_dir, root, process
    stop(process, signal.SIGKILL)


def search_json(index_dir: Path, *words: str) -> list[dict[str, Any]]:
    code, out, err = run_cli("search", "--index", str(index_dir), "--json", *words)
    assert code == 0, err
    result: list[dict[str, Any]] = json.loads(out)
    return result


QUERIES = [
    ("compute_backoff",),
    ("install the package",),
    ("send request", "--lang", "py"),
    ("retry", "kind:code", "--mode", "lexical"),
    ("backoff", "--mode", "semantic", "-k", "2"),
    ("package", "path:pkg/**"),
    ("pip", "path:repo/docs/*"),  # relative to the client's directory
    ("retry", "root:./repo"),  # so is this
]


def test_results_are_those_of_an_in_process_search(
    served: tuple[Path, Path, subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir, root, _ = served
    monkeypatch.chdir(root.parent)
    for args in QUERIES:
        for output in (("--json",), ("--color", "never")):
            command = ["search", "--index", str(index_dir), *output, *args]
            before = requests_served(index_dir)
            by_service = run_cli(*command)
            assert requests_served(index_dir) == before + 2, "the service answered"
            monkeypatch.setenv(SERVICE_ENV, "off")
            in_process = run_cli(*command)
            monkeypatch.delenv(SERVICE_ENV)
            assert by_service == in_process, args
            assert by_service[0] == 0 and by_service[1]
    # A mistake is the same one-line error either way.
    code, _, err = run_cli("search", "--index", str(index_dir), "retry", "root:nowhere")
    assert code == 2 and "root:nowhere is not a root" in err


def test_a_fresh_process_batch_matches_in_process(
    served: tuple[Path, Path, subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir, _, _ = served
    queries = "compute_backoff\ninstall\nlang:markdown guide\n"
    before = requests_served(index_dir)
    by_service = subprocess.run(
        [sys.executable, "-m", "gte_search", "search", "--index", str(index_dir), "--batch", "-"],
        input=queries,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert requests_served(index_dir) == before + 4  # three searches and this status
    assert by_service.returncode == 0, by_service.stderr
    monkeypatch.setenv(SERVICE_ENV, "off")
    code, in_process, _ = run_cli(
        "search", "--index", str(index_dir), "--batch", "-", input=queries
    )
    assert code == 0
    assert by_service.stdout == in_process
    assert len(in_process.splitlines()) == 3


def test_two_clients_at_once(served: tuple[Path, Path, subprocess.Popen[bytes]]) -> None:
    index_dir, _, _ = served
    expected = search_json(index_dir, "compute_backoff")
    results: list[list[str]] = []
    failures: list[BaseException] = []

    def client() -> None:
        try:
            connection = ServiceClient.connect(index_dir)
            assert connection is not None
            with connection:
                from gte_search.query import SearchFilters

                paths = []
                for _ in range(15):
                    hits, _notes = connection.search(
                        "compute_backoff", 10, SearchFilters(), "hybrid"
                    )
                    paths.append(json.dumps([hit.__dict__ for hit in hits]))
                results.append(paths)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    assert len(results) == 4
    assert {answer for paths in results for answer in paths} == {json.dumps(expected)}


def test_a_client_that_leaves_mid_request_does_not_hurt(
    served: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    index_dir, _, process = served
    request = {"op": "search", "query": "install", "k": 10, "mode": "hybrid", "cwd": "/"}
    for payload in (json.dumps(request).encode() + b"\n", b'{"op": "sea'):
        for _ in range(5):
            raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            with socket_address(index_dir / SOCKET_NAME) as address:
                raw.connect(address)
            raw.sendall(payload)
            raw.close()  # without reading the answer
    connection = ServiceClient.connect(index_dir)
    assert connection is not None
    with connection:
        with pytest.raises(Exception, match="unknown op"):
            connection.request({"op": "nonsense"})
        assert connection.info()["pid"] == process.pid
    assert process.poll() is None
    assert search_json(index_dir, "install")


def test_only_the_owner_can_connect(served: tuple[Path, Path, subprocess.Popen[bytes]]) -> None:
    index_dir, _, process = served
    for name in (SOCKET_NAME, TOKEN_NAME, INFO_NAME):
        assert stat.S_IMODE((index_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_ISSOCK((index_dir / SOCKET_NAME).stat().st_mode)
    info = json.loads((index_dir / INFO_NAME).read_text())
    assert info["pid"] == process.pid and info["started"] <= time.time()


def test_http_refuses_a_request_without_the_token(
    served: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    index_dir, root, _ = served
    address = json.loads((index_dir / INFO_NAME).read_text())["http"]
    token = (index_dir / TOKEN_NAME).read_text().strip()
    body = json.dumps({"query": "compute_backoff", "k": 10, "mode": "hybrid", "cwd": str(root)})

    def post(headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            f"http://{address}/search", data=body.encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    assert post({})[0] == 401
    assert post({"Authorization": "Bearer wrong"})[0] == 401
    code, answer = post({"Authorization": f"Bearer {token}"})
    assert code == 200 and answer["hits"] == search_json(index_dir, "compute_backoff")


def test_status_names_the_service(served: tuple[Path, Path, subprocess.Popen[bytes]]) -> None:
    index_dir, _, process = served
    code, out, _ = run_cli("status", "--index", str(index_dir))
    assert code == 0 and f"service:   running (pid {process.pid}, up " in out
    code, out, _ = run_cli("status", "--index", str(index_dir), "--json")
    assert json.loads(out)["service"]["pid"] == process.pid


def _top_paths(index_dir: Path, query: str) -> list[str]:
    return [hit["path"] for hit in search_json(index_dir, query)]


def test_watch_follows_edits_new_files_deletions_and_renames(
    served: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    index_dir, root, _ = served
    retry = root / "pkg" / "retry.py"
    retry.write_text(retry.read_text() + "\n\ndef zebra_quantum_flux(x):\n    return x\n")
    wait_for(lambda: _top_paths(index_dir, "zebra_quantum_flux")[:1] == ["pkg/retry.py"], "edit")

    (root / "pkg" / "walrus.py").write_text("def walrus_harmonic():\n    return 1\n")
    wait_for(lambda: "pkg/walrus.py" in _top_paths(index_dir, "walrus_harmonic"), "new file")

    (root / "pkg" / "walrus.py").unlink()
    wait_for(lambda: "pkg/walrus.py" not in _top_paths(index_dir, "walrus_harmonic"), "deletion")

    (root / "docs" / "guide.md").rename(root / "docs" / "manual.md")
    wait_for(lambda: _top_paths(index_dir, "pip install")[:1] == ["docs/manual.md"], "rename")
    assert "docs/guide.md" not in _top_paths(index_dir, "pip install")


def test_watch_ignores_what_gitignore_ignores(
    served: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    index_dir, root, _ = served
    (root / ".gitignore").write_text("*.log\nsecret.py\n")
    (root / "secret.py").write_text("def ignored_marmot():\n    return 1\n")
    (root / "debug.log").write_text("def ignored_marmot(): log noise\n")
    # Changes are applied in order: once a later file is found, the earlier ones were seen.
    (root / "pkg" / "sentinel.py").write_text("def sentinel_ocelot():\n    return 2\n")
    wait_for(lambda: "pkg/sentinel.py" in _top_paths(index_dir, "sentinel_ocelot"), "sentinel")
    found = search_json(index_dir, "ignored_marmot", "--mode", "lexical")
    assert all(hit["path"] not in ("secret.py", "debug.log") for hit in found)


def test_a_burst_of_changes_is_one_update_or_few(
    served: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    index_dir, root, _ = served
    before = service_info(index_dir)
    assert before is not None
    burst = root / "burst"
    burst.mkdir()
    for number in range(60):  # a formatter, a branch switch
        (burst / f"m{number}.py").write_text(f"def burst_function_{number}():\n    return 1\n")
    wait_for(lambda: "burst/m59.py" in _top_paths(index_dir, "burst_function_59"), "the burst")
    after = service_info(index_dir)
    assert after is not None and after["updates"] - before["updates"] <= 3


def test_sigterm_stops_cleanly_and_leaves_the_index_consistent(
    served: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    index_dir, root, process = served
    # Stop it while it has an update to make.
    (root / "pkg" / "late.py").write_text("def late_arrival():\n    return 3\n")
    time.sleep(0.2)
    assert stop(process) == 0
    for name in (SOCKET_NAME, TOKEN_NAME, INFO_NAME):
        assert not (index_dir / name).exists(), name
    from gte_search.index import SearchIndex

    with SearchIndex.open(index_dir) as index:
        assert index.load_vectors() == []  # the saved vectors match the database
        assert len(index.vectors.ids()) == index.status().chunks
    assert search_json(index_dir, "compute_backoff")  # in-process now


def test_stale_socket_replaced_second_service_refused_idle_timeout(
    tmp_path: Path, tiny_model_master: Path
) -> None:
    root = write_small_repo(tmp_path / "repo")
    index_dir = tmp_path / "index"
    build_index(index_dir, [root], tiny_model_master)
    log = tmp_path / "serve.log"
    # What a SIGKILLed service leaves: a socket nobody listens on, a pid file naming the dead.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    (index_dir / INFO_NAME).write_text(json.dumps({"pid": int(dead.stdout), "started": 0}))
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with socket_address(index_dir / SOCKET_NAME) as address:
        left.bind(address)
    left.close()
    assert (index_dir / SOCKET_NAME).exists()
    assert ServiceClient.connect(index_dir) is None
    assert search_json(index_dir, "compute_backoff")  # falls back without a word

    replacing = start_service(index_dir, "--no-watch", "--idle-timeout", "3", log=log, watch=False)
    starting = threading.Event()

    def keep_busy() -> None:  # requests keep the replacing service from its idle timeout
        while not starting.wait(0.5):
            service_info(index_dir)

    busy = threading.Thread(target=keep_busy)
    busy.start()
    try:
        second = subprocess.run(
            [sys.executable, "-m", "gte_search", "serve", "--index", str(index_dir)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            timeout=START_TIMEOUT,
        )
    finally:
        starting.set()
        busy.join()
    assert second.returncode == 2, second.stderr
    assert f"a service (pid {replacing.pid}) is already running" in second.stderr
    assert "Traceback" not in second.stderr
    assert replacing.wait(timeout=30) == 0, log.read_text()  # idle for 3 s: stops by itself
    assert not (index_dir / SOCKET_NAME).exists()
    assert "no requests for 3s" in log.read_text()


def test_watch_command_prints_a_line_per_update(tmp_path: Path, tiny_model_master: Path) -> None:
    root = write_small_repo(tmp_path / "repo")
    index_dir = tmp_path / "index"
    build_index(index_dir, [root], tiny_model_master)
    process = subprocess.Popen(
        [sys.executable, "-m", "gte_search", "watch", "--index", str(index_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert process.stderr is not None and process.stdout is not None
        while "watching" not in process.stderr.readline():
            assert process.poll() is None
        (root / "pkg" / "retry.py").write_text("def changed():\n    return 0\n")
        line = process.stdout.readline()
        assert "pkg/retry.py: 0 added, 1 changed, 0 removed; 1 chunk embedded" in line
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def test_watched_changes_follow_the_walkers_rules(tmp_path: Path) -> None:
    from gte_search.watch import changed_paths
    from indexer.walk import WalkedFile, walk

    root = tmp_path / "root"
    files = {
        ".gitignore": "*.log\n!keep.log\nsecret/\n",
        "a.py": "",
        "debug.log": "",
        "keep.log": "",
        "secret/x.py": "",
        "sub/.gitignore": "local.py\n",
        "sub/local.py": "",
        "sub/b.py": "",
        "node_modules/m.js": "",
        "deep/secret/y.py": "",
        "index/index.db": "",  # the index directory inside its own root
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    walked = {
        item.path
        for item in walk(root, excluded_paths=(root / "index",))
        if isinstance(item, WalkedFile)
    }
    changes = [("modified", str(root / name)) for name in files]
    changes.append(("deleted", str(root / "gone.py")))
    found = changed_paths(changes, [root], root / "index")
    # Every file the walker reaches, the ignore files that steer it, and a deletion.
    assert sorted(found[root]) == sorted([*walked, ".gitignore", "sub/.gitignore", "gone.py"])
    assert changed_paths([("added", str(tmp_path / "elsewhere.py"))], [root], root / "index") == {}
    # --no-ignore: only the excluded folders (and the index) stay out.
    from gte_search.index import IndexOptions

    unfiltered = changed_paths(
        changes, [root], root / "index", IndexOptions(use_ignore_files=False)
    )
    assert {"debug.log", "secret/x.py", "sub/local.py"} <= set(unfiltered[root])
    assert "node_modules/m.js" not in unfiltered[root]


async def test_the_tui_sees_an_update_made_by_another_writer(
    tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    """What the service's watcher (or `gte-search index`) writes reaches an open TUI."""
    from textual.widgets import Input

    from gte_search.index import SearchIndex
    from gte_search.tui import make_app

    index_dir = tmp_path / "index"
    build_index(index_dir, [small_repo], tiny_model)
    app = make_app(index_dir, debounce=0, show_latency=False)

    async def search(query: str) -> set[str]:
        app.query_one("#query", Input).value = query
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        return {hit.path for hit in app.hits}

    async with app.run_test(size=(120, 36)) as pilot:
        assert "pkg/retry.py" in await search("backoff")
        (small_repo / "pkg" / "cookies.py").write_text("def parse_cookie(header):\n    pass\n")
        build_index(index_dir, [small_repo], tiny_model)  # another connection writes
        assert "pkg/cookies.py" in await search("parse_cookie header")

        def vectors_match() -> bool:
            index = app.searcher.index
            assert isinstance(index, SearchIndex)
            return len(index.vectors.ids()) == index.status().chunks

        assert await app.searcher.run(vectors_match)  # the new chunk's vector too


def test_a_socket_in_a_deep_index_directory(tmp_path: Path) -> None:
    """sun_path holds ~108 bytes; an index deeper than that still gets its socket."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    path = deep / SOCKET_NAME
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with socket_address(path) as address:
        listener.bind(address)
    listener.listen()
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with socket_address(path) as address:
        client.connect(address)
    client.close()
    listener.close()
    assert path.exists()
