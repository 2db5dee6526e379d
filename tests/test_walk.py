from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.read import Skipped, SourceText, read_source
from indexer.walk import WalkedFile, WalkProblem, walk, walk_paths


def _paths(root: Path, **options: object) -> list[str]:
    return [item.path for item in walk(root, **options) if isinstance(item, WalkedFile)]


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_gitignore_nested_negation_and_default_excludes(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            ".gitignore": "*.log\n!keep.log\nsecret/\n",
            "a.py": "x = 1\n",
            "debug.log": "",
            "keep.log": "",
            "secret/key.py": "",
            "sub/.gitignore": "*.tmp\n/local.py\n",
            "sub/b.py": "",
            "sub/scratch.tmp": "",
            "sub/local.py": "",
            "sub/deeper/local.py": "",
            "node_modules/lib/index.js": "",
            ".git/config": "",
            ".venv/lib/site.py": "",
        },
    )
    assert _paths(tmp_path) == ["a.py", "keep.log", "sub/b.py", "sub/deeper/local.py"]


def test_walking_some_paths_finds_what_the_whole_walk_finds_there(tmp_path: Path) -> None:
    # A watcher hears of a few paths; looking at them alone must agree with walking the root
    # (nested ignore rules and negations above them included), for files and folders.
    _write(
        tmp_path,
        {
            ".gitignore": "*.log\n!keep.log\nsecret/\n",
            "a.py": "",
            "debug.log": "",
            "sub/.gitignore": "*.tmp\n/local.py\n",
            "sub/b.py": "",
            "sub/scratch.tmp": "",
            "sub/local.py": "",
            "sub/deeper/local.py": "",
            "sub/deeper/keep.log": "",
            "sub/deeper/c.py": "",
            "secret/key.py": "",
            "node_modules/lib/index.js": "",
        },
    )
    asked = ["sub/deeper", "sub/local.py", "sub/scratch.tmp", "debug.log", "a.py", "secret",
             "node_modules/lib/index.js", "gone.py", "sub/deeper/c.py"]  # fmt: skip
    whole = [p for p in _paths(tmp_path) if any(p == a or p.startswith(a + "/") for a in asked)]
    some = [i.path for i in walk_paths(tmp_path, asked) if isinstance(i, WalkedFile)]
    assert sorted(some) == whole == ["a.py", "sub/deeper/c.py", "sub/deeper/keep.log",
                                     "sub/deeper/local.py"]  # fmt: skip
    no_rules = walk_paths(tmp_path, ["debug.log", "sub/local.py"], use_ignore_files=False)
    assert sorted(i.path for i in no_rules) == ["debug.log", "sub/local.py"]


def test_no_ignore_turns_ignore_files_off(tmp_path: Path) -> None:
    _write(tmp_path, {".gitignore": "*.log\n", "a.log": "", "b.py": ""})
    assert _paths(tmp_path, use_ignore_files=False) == ["a.log", "b.py"]


def test_sample_repos_ignored_files_are_not_walked() -> None:
    root = Path(__file__).resolve().parent.parent / "sample_repos"
    paths = _paths(root)
    assert any(p.endswith(".py") for p in paths)
    ignored = [p for p in paths if p.endswith((".log", ".tmp")) or "/generated/" in p]
    assert ignored == []


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _write(outside, {"secret.py": "x"})
    root = tmp_path / "root"
    _write(root, {"a.py": "y"})
    (root / "link").symlink_to(outside)
    (root / "loop").symlink_to(root)
    (root / "broken.py").symlink_to(tmp_path / "missing.py")
    assert _paths(root) == ["a.py"]


def test_excluded_paths_skip_the_index_directory(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": "", "idx/index.db": ""})
    assert _paths(tmp_path, excluded_paths=(tmp_path / "idx",)) == ["a.py"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every directory")
def test_unreadable_directory_is_reported_not_fatal(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": "", "locked/b.py": ""})
    (tmp_path / "locked").chmod(0)
    try:
        found = list(walk(tmp_path))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [f.path for f in found if isinstance(f, WalkedFile)] == ["a.py"]
    assert [p.path for p in found if isinstance(p, WalkProblem)] == ["locked"]


def test_read_source_reasons(tmp_path: Path) -> None:
    cases = {
        "binary.dat": b"\x89PNG\x00\x00\x00data",
        "empty.py": b"\n \n",
        "big.txt": b"x\n" * 600_000,
        "minified.js": b"var a=1;" * 1000,
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    reasons = {name: read_source(tmp_path / name) for name in cases}
    assert all(isinstance(r, Skipped) for r in reasons.values())
    assert reasons["binary.dat"].reason == "binary"
    assert reasons["empty.py"].reason == "empty"
    assert reasons["big.txt"].reason.startswith("too large")
    assert reasons["minified.js"].reason.startswith("minified")


def test_read_source_decodes_bad_utf8_and_utf16_keeping_lines(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"a = 1\nname = 'caf\xe9'\nb = 2\r\n")
    (tmp_path / "wide.py").write_bytes("x = 'ü'\ny = 2\n".encode("utf-16"))
    latin = read_source(tmp_path / "latin.py")
    wide = read_source(tmp_path / "wide.py")
    assert isinstance(latin, SourceText) and isinstance(wide, SourceText)
    assert latin.text.split("\n")[1] == "name = 'caf\ufffd'"
    assert latin.text.split("\n")[2] == "b = 2"
    assert wide.text == "x = 'ü'\ny = 2\n"
