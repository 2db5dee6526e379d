"""`gte-search search --jsonl / --files / --vimgrep`: the line formats pipelines and editors
read, checked byte for byte on a small index (lexical mode: the ranking needs no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import build_index, run_cli, write_small_repo

QUERY = "backoff send install"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, tiny_model_master: Path) -> Path:
    root = tmp_path_factory.mktemp("formats") / "repo"
    write_small_repo(root)
    (root / "docs" / "café.md").write_text("# Notes\n\nLe café: zèbre déjà vu, flambé naïveté.\n")
    build_index(root.parent / "index", [root], tiny_model_master)
    return root


def search(root: Path, *args: str) -> tuple[int, str, str]:
    return run_cli("search", *args, "--mode", "lexical", "--index", str(root.parent / "index"))


@pytest.fixture(autouse=True)
def in_repo(indexed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Paths print relative to the current directory when the file lies under it.
    monkeypatch.chdir(indexed)


def test_jsonl_prints_the_json_hits_one_per_line(indexed: Path) -> None:
    code, out, _ = search(indexed, QUERY, "--jsonl")
    assert code == 0
    _, array, _ = search(indexed, QUERY, "--json")
    assert [json.loads(line) for line in out.splitlines()] == json.loads(array)
    assert out.splitlines()[0] == json.dumps(json.loads(array)[0])
    assert len(out.splitlines()) == 3


def test_files_lists_each_file_once_best_first(indexed: Path) -> None:
    for flag in ("--files", "-l"):
        assert search(indexed, QUERY, flag) == (0, "docs/guide.md\npkg/retry.py\n", "")


def test_vimgrep_points_at_the_best_line_and_first_term(indexed: Path) -> None:
    code, out, _ = search(indexed, QUERY, "--vimgrep")
    assert code == 0
    assert out == (
        "docs/guide.md:5:9:Run pip install pkg to install the package from PyPI.\n"
        "pkg/retry.py:4:13:def compute_backoff(attempt: int) -> float:\n"
        "pkg/retry.py:10:9:    def send(self, request):\n"
    )


def test_vimgrep_columns_count_bytes_as_rg_does(indexed: Path) -> None:
    _, out, _ = search(indexed, "flambe", "--vimgrep")
    # "Le café: zèbre déjà vu, " is 24 characters and 28 bytes: "flambé" starts at byte 29.
    assert out == "docs/café.md:3:29:Le café: zèbre déjà vu, flambé naïveté.\n"


def test_line_formats_print_nothing_and_exit_1_without_results(indexed: Path) -> None:
    for flag in ("--jsonl", "-l", "--vimgrep"):
        assert search(indexed, "qqqzzz", flag) == (1, "", "")


def test_line_formats_refuse_json_and_batch(indexed: Path) -> None:
    code, out, err = search(indexed, QUERY, "--vimgrep", "--json")
    assert code == 2 and out == ""
    assert err == "gte-search: error: --vimgrep cannot be combined with --json or --batch\n"
