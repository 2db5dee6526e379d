"""The command line as a user meets it: exit codes, one-line errors, output formats."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gte_search.cli import main
from tests.conftest import run_cli

HIT_KEYS = {"path", "root", "start_line", "end_line", "score", "kind", "language", "symbol", "text"}


@pytest.fixture
def indexed(tmp_path: Path, small_repo: Path, tiny_model: Path) -> Path:
    index_dir = tmp_path / "index"
    code, out, err = run_cli(
        "index", str(small_repo), "--model", str(tiny_model), "--index", str(index_dir)
    )
    assert code == 0, err
    assert "Indexed 2 files" in out
    return index_dir


def test_help_does_not_import_torch() -> None:
    probe = (
        "import sys\nfrom gte_search.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "for name in ('search', 'index', 'status'):\n"
        "    try:\n        main([name, '--help'])\n    except SystemExit:\n        pass\n"
        "print('torch' in sys.modules, 'faiss' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_every_command_has_help_text() -> None:
    for name, command in main.commands.items():
        assert command.help, f"{name} has no help"
        code, out, _ = run_cli(name, "--help")
        assert code == 0 and "--index" in out


def test_search_json_contract_and_status(indexed: Path) -> None:
    code, out, _ = run_cli(
        "search", "compute backoff", "--json", "-k", "3", "--index", str(indexed)
    )
    assert code == 0
    hits = json.loads(out)
    assert 0 < len(hits) <= 3
    for hit in hits:
        assert set(hit) == HIT_KEYS
        assert hit["kind"] in ("code", "doc") and 1 <= hit["start_line"] <= hit["end_line"]
        assert isinstance(hit["score"], float) and Path(hit["root"]).is_absolute()
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    code, out, _ = run_cli("status", "--json", "--index", str(indexed))
    status = json.loads(out)
    assert status["files"] == 2 and status["chunks"] >= 3 and status["dimension"] == 32
    assert status["size_bytes"] > 0 and len(status["roots"]) == 1


def test_human_output_shows_location_score_and_lines(indexed: Path) -> None:
    code, out, _ = run_cli("search", "install the package", "-k", "10", "--index", str(indexed))
    assert code == 0
    assert "docs/guide.md:" in out and "retry.py:" in out
    code, out, _ = run_cli("status", "--index", str(indexed))
    assert "chunks:" in out and "model:" in out and "size:" in out


def test_batch_writes_one_array_per_query_in_order(indexed: Path) -> None:
    code, out, _ = run_cli(
        "search",
        "--batch",
        "-",
        "--json",
        "-k",
        "2",
        "--index",
        str(indexed),
        input="compute backoff\n\nsend a request\n",
    )
    assert code == 0
    lines = out.strip().split("\n")
    assert len(lines) == 3
    arrays = [json.loads(line) for line in lines]
    assert len(arrays[0]) == 2 and arrays[1] == [] and len(arrays[2]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "anything"], "no index at"),
        (["status"], "no index at"),
        (["search", "--json"], "QUERY or --batch"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = run_cli(*args, "--index", str(tmp_path / "none"))
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_paths_and_models_are_user_errors(tmp_path: Path, small_repo: Path) -> None:
    index = str(tmp_path / "index")
    code, _, err = run_cli("index", str(tmp_path / "missing"), "--index", index)
    assert code == 2 and "does not exist" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(
        "index", str(tmp_path / "empty"), "--index", index, "--model", str(tmp_path)
    )
    assert code == 2 and "Traceback" not in err
    code, _, err = run_cli(
        "index", str(small_repo), "--index", index, "--model", "thenlper/gte-base"
    )
    assert code == 2 and "thenlper/gte-base" in err and "--model" in err


def test_corrupt_index_is_a_user_error(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "index.db").write_bytes(b"garbage" * 1000)
    code, _, err = run_cli("search", "x", "--index", str(folder))
    assert code == 2 and "not a readable gte-search index" in err


def test_reindexing_with_another_model_needs_rebuild(
    indexed: Path, small_repo: Path, tmp_path: Path
) -> None:
    from tests.conftest import build_tiny_bert

    other = build_tiny_bert(tmp_path / "other", sentence_transformers_pooling="cls")
    args = ["index", str(small_repo), "--index", str(indexed), "--model", str(other)]
    code, _, err = run_cli(*args)
    assert code == 2 and "--rebuild" in err
    code, out, _ = run_cli(*args, "--rebuild")
    assert code == 0 and "Indexed 2 files" in out
    # Without --model, re-indexing keeps using the index's own model.
    code, out, _ = run_cli("index", str(small_repo), "--index", str(indexed))
    assert code == 0 and "2 files unchanged" in out and str(other.resolve()) in out


def test_search_modes(indexed: Path, tiny_model: Path) -> None:
    index = ("--index", str(indexed))
    code, out, _ = run_cli("search", "compute backoff", "--mode", "semantic", "--json", *index)
    assert code == 0 and all(-1.0 <= h["score"] <= 1.0 for h in json.loads(out))
    code, out, _ = run_cli("search", "compute backoff", "--json", *index)
    hybrid = json.loads(out)
    assert code == 0 and hybrid[0]["symbol"] == "compute_backoff"
    code, _, err = run_cli("search", "x", "--mode", "fuzzy", *index)
    assert code == 2 and "fuzzy" in err
    # Keyword search loads no model: it works with the model folder gone.
    shutil.rmtree(tiny_model)
    code, out, _ = run_cli("search", "backoff lang:py", "--mode", "lexical", "--json", *index)
    hits = json.loads(out)
    assert code == 0 and [h["symbol"] for h in hits] == ["compute_backoff"]
    assert set(hits[0]) == HIT_KEYS and hits[0]["score"] > 0
    code, out, _ = run_cli(
        "search", "--batch", "-", "--json", "--mode", "lexical", *index, input="install\nsend\n"
    )
    arrays = [json.loads(line) for line in out.strip().split("\n")]
    assert code == 0 and arrays[0][0]["path"] == "docs/guide.md"
    assert arrays[1][0]["path"] == "pkg/retry.py"
