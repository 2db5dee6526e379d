"""The CLI defects a week of real use would hit (issue 15): each test failed before its fix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import gte_search.embed
import gte_search.indexing
from tests.conftest import run_cli


@pytest.fixture
def indexed(tmp_path: Path, small_repo: Path, tiny_model: Path) -> Path:
    index_dir = tmp_path / "index"
    code, _, err = run_cli(
        "index", str(small_repo), "--model", str(tiny_model), "--index", str(index_dir)
    )
    assert code == 0, err
    return index_dir


def _status(index_dir: Path) -> dict[str, object]:
    code, out, _ = run_cli("status", "--json", "--index", str(index_dir))
    assert code == 0
    return dict(json.loads(out))


def test_rebuild_re_embeds_everything_and_keeps_a_local_model(
    indexed: Path, small_repo: Path, tiny_model: Path
) -> None:
    code, out, _ = run_cli("index", "--rebuild", str(small_repo), "--index", str(indexed))
    assert code == 0
    assert "0 embedded" not in out and "2 added" in out
    assert _status(indexed)["model"] == str(tiny_model.resolve())


def test_a_failed_index_run_leaves_the_vector_file_alone(indexed: Path, tmp_path: Path) -> None:
    before = (indexed / "vectors.faiss").read_bytes()
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli("index", str(tmp_path / "empty"), "--index", str(indexed))
    assert code == 2 and "no files" in err
    assert (indexed / "vectors.faiss").read_bytes() == before


def test_a_folder_inside_a_root_updates_that_root(indexed: Path, small_repo: Path) -> None:
    code, out, err = run_cli("index", str(small_repo / "pkg"), "--index", str(indexed))
    assert code == 0 and "inside the indexed root" in err
    assert _status(indexed)["roots"] == [str(small_repo.resolve())]
    code, out, _ = run_cli(
        "search", "compute_backoff", "--json", "--mode", "lexical", "--index", str(indexed)
    )
    locations = [(hit["path"], hit["start_line"]) for hit in json.loads(out)]
    assert len(locations) == len(set(locations))


def test_an_enclosing_folder_absorbs_the_root_inside_it(indexed: Path, small_repo: Path) -> None:
    parent = small_repo.parent
    (parent / "notes.md").write_text("# Notes\n\nThe retry budget is three attempts.\n")
    code, _, err = run_cli("index", str(parent), "--index", str(indexed))
    assert code == 0 and "becomes part of" in err
    assert _status(indexed)["roots"] == [str(parent.resolve())]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("retry root:nowhere", "root:nowhere is not a root of this index; roots: repo ("),
        ("retry lang:cobol", "lang:cobol matches no indexed file; languages: markdown, python"),
        ("retry path:nothing/**", "path:nothing/** matches no indexed file"),
    ],
)
def test_filter_values_that_match_nothing_are_explained(
    indexed: Path, query: str, message: str
) -> None:
    code, _, err = run_cli("search", query, "--mode", "lexical", "--index", str(indexed))
    assert code == 2 and message in err


def test_names_and_case_are_accepted_alike(indexed: Path, small_repo: Path) -> None:
    for query in ("backoff kind:Code", "backoff lang:Python root:repo", "backoff path:pkg/*"):
        code, out, err = run_cli(
            "search", query, "--json", "--mode", "lexical", "--index", str(indexed)
        )
        assert code == 0, err
        assert json.loads(out)[0]["symbol"] == "compute_backoff"
    code, out, _ = run_cli("remove", "repo", "--index", str(indexed))
    assert code == 0 and out.startswith(f"Removed {small_repo.resolve()} (2 files)")


def test_a_path_as_the_cli_prints_it_works_as_a_filter(
    indexed: Path, small_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(small_repo.parent)
    code, out, _ = run_cli(
        "search", "backoff path:repo/pkg/**", "--json", "--mode", "lexical", "--index", str(indexed)
    )
    assert code == 0 and json.loads(out)[0]["path"] == "pkg/retry.py"


def test_grep_habits(indexed: Path) -> None:
    # Unquoted words are one query; nothing found exits 1 like grep, but --json prints [].
    code, out, _ = run_cli(
        "search", "compute", "backoff", "--mode", "lexical", "--index", str(indexed)
    )
    assert code == 0 and "compute_backoff" in out
    code, out, err = run_cli("search", "zebra", "--mode", "lexical", "--index", str(indexed))
    assert code == 1 and out == "" and "no results" in err
    code, out, _ = run_cli(
        "search", "zebra", "--json", "--mode", "lexical", "--index", str(indexed)
    )
    assert code == 0 and json.loads(out) == []
    args = ("search", "backoff", "--mode", "lexical", "--index", str(indexed))
    assert "\x1b[" in run_cli(*args, "--color", "always")[1]
    assert "\x1b[" not in run_cli(*args, "--color", "never")[1]


def test_a_closed_pipe_is_not_an_error(indexed: Path) -> None:
    command = (
        f"set -o pipefail; {sys.executable} -m gte_search search backoff --mode lexical "
        f"-k 50 --color always --index {indexed} | head -c 1 >/dev/null"
    )
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""


def test_ctrl_c_exits_130_says_what_was_kept_and_status_marks_the_root(
    tmp_path: Path, small_repo: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    args = ("index", str(small_repo), "--model", str(tiny_model), "--index", str(index_dir))

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    # While storing files: the root is marked until a run finishes storing it.
    with monkeypatch.context() as patch:
        patch.setattr(gte_search.indexing, "language_for", interrupted)
        code, _, err = run_cli(*args)
    assert code == 130
    assert "interrupted: 0 of 2 files indexed" in err and "run the same command again" in err
    assert _status(index_dir)["interrupted"] == [str(small_repo.resolve())]
    # While embedding: every file is stored, searchable by its words; vectors are pending.
    with monkeypatch.context() as patch:
        patch.setattr(gte_search.embed.Embedder, "embed", interrupted)
        code, _, err = run_cli(*args)
    assert code == 130
    status = _status(index_dir)
    assert f"2 of 2 files stored, {status['pending']} chunks still to embed" in err
    assert status["interrupted"] == [] and status["embedded"] == 0
    code, out, _ = run_cli(*args)
    assert code == 0 and "2 unchanged" in out and f"({status['pending']} embedded" in out
    assert _status(index_dir)["pending"] == 0


def test_wording_and_space_given_back(indexed: Path, small_repo: Path) -> None:
    code, out, _ = run_cli("index", "--index", str(indexed))
    assert code == 0 and out.startswith("Up to date: 2 files unchanged")
    (small_repo / "docs" / "guide.md").write_text("# Guide\n\nChanged.\n")
    code, out, _ = run_cli("index", "--index", str(indexed))
    assert out.startswith("Indexed 1 file (0 added, 1 changed")
    before = _status(indexed)["size_bytes"]
    run_cli("remove", str(small_repo), "--index", str(indexed))
    assert int(str(_status(indexed)["size_bytes"])) < int(str(before))
