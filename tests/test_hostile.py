"""Messy repositories: every odd file is skipped or indexed with a reason, never a crash;
exit status 1 when something could not be read; result paths stay inside their roots."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from tokenizers import Tokenizer

import gte_search.triage
from gte_search.embed import Embedder
from gte_search.hits import PathOutsideRoot, SearchHit, resolve_hit_path
from gte_search.index import SearchIndex
from indexer.chunking import chunk_file
from indexer.read import VANISHED, Skipped, SourceText, read_source
from tests.conftest import run_cli


def _messy_repo(root: Path, outside: Path) -> Path:
    root.mkdir()
    outside.mkdir()
    (outside / "secret.py").write_text("password = 'hunter2'\n")
    files = {
        "ok.py": b"def ok():\n    return 1\n",
        "binary.dat": b"\x89PNG\x00\x00\x00data",
        "empty.py": b"\n\n",
        "big.txt": b"word " * 5000,
        "min.js": b"var a=1;" * 400,
        "latin.py": b"a = 1\nname = 'caf\xe9'\n\ndef after():\n    return 2\n",
        "wide.py": "def wide():\n    return 'ü'\n".encode("utf-16"),
        "deep.js": b"function f() {\n" + b"{\n" * 3000 + b"}\n" * 3000 + b"}\n",
        "locked.py": b"def locked():\n    pass\n",
        "blob.py": b"".join(f"def before_{i}():\n    return {i}\n\n".encode() for i in range(6))
        + (b"BLOB = '" + b"ab" * 2500 + b"'\n\ndef after_blob():\n    return 2\n"),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    (root / "broken.py").symlink_to(root / "missing.py")
    (root / "loop").symlink_to(root / "loop")
    (root / "escape").symlink_to(outside)
    (root / "alias.py").symlink_to(root / "ok.py")
    with open(os.fsencode(root) + b"/caf\xe9.py", "wb") as handle:
        handle.write(b"def cafe():\n    return 1\n")
    return root


@pytest.fixture
def locked_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make locked.py unreadable, even to root (tests may run as root)."""
    real_open = os.open

    def open_(path: object, flags: int, *args: object) -> int:
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_)


def test_every_odd_file_has_a_reason_and_unreadable_ones_exit_1(
    tmp_path: Path, tiny_model: Path, locked_file: None
) -> None:
    repo = _messy_repo(tmp_path / "repo", tmp_path / "outside")
    index = str(tmp_path / "index")
    args = ("--model", str(tiny_model), "--index", index, "--max-file-size", "20000")
    code, out, err = run_cli("index", str(repo), *args)
    assert code == 1
    assert "could not read locked.py: unreadable: Permission denied" in err
    assert "Traceback" not in err and "Indexed" in out

    code, out, _ = run_cli("status", "--skipped", "--index", index)
    assert code == 0
    reasons = {
        line.split(": ", 1)[0].rsplit("/", 1)[-1]: line.split(": ", 1)[1]
        for line in out.splitlines()
        if line.startswith("  ")
    }
    assert reasons == {
        "binary.dat": "binary",
        "empty.py": "empty",
        "big.txt": "too large (over 20,000 bytes)",
        "min.js": "minified or generated (mostly lines over 2,500 characters)",
        "locked.py": "unreadable: Permission denied",
        "broken.py": "broken symlink",
        "loop": "symlink loop",
        "escape": "symlink pointing outside the root (not followed)",
        "alias.py": "symlink (not followed; its target is indexed where it lies)",
        "caf\\xe9.py": "file name is not valid UTF-8",
    }
    opened = SearchIndex.open(Path(index))
    stored = [found.chunk for found in opened.store.all_chunks().values()]
    chunks = {chunk.symbol: chunk for chunk in stored}
    # Invalid UTF-8 is replaced, the lines after it keep their numbers; UTF-16 is decoded.
    assert chunks["after"].start_line == 4 and "wide" in chunks
    # One 5,000-character line does not make a file "minified": its functions are indexed.
    assert chunks["after_blob"].start_line == 21 and "before_5" in chunks
    assert "secret" not in json.dumps(list(chunks))
    deep = [chunk for chunk in stored if chunk.path == "deep.js"]
    first, last = min(c.start_line for c in deep), max(c.end_line for c in deep)
    assert (first, last) == (1, 6002)  # 3,000 levels deep: line windows, every line kept


def test_no_ignore_and_max_file_size_apply_to_the_next_run(
    tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    (small_repo / "big.md").write_text("# Big\n\n" + "many words here.\n" * 200)
    index = str(tmp_path / "index")
    base = ("index", str(small_repo), "--model", str(tiny_model), "--index", index)
    code, out, _ = run_cli(*base, "--max-file-size", "1000")
    assert code == 0 and "1 skipped" in out
    # Neither file changed on disk: the new options alone bring them in.
    code, out, _ = run_cli(*base, "--no-ignore")
    assert code == 0 and "1 added, 1 changed" in out  # debug.log, big.md (limit 1 MB)
    code, out, _ = run_cli(*base)
    assert code == 0 and "1 removed" in out  # debug.log is ignored again
    code, out, _ = run_cli(*base, "--max-file-size", "1000")
    assert "1 skipped" in out


def test_files_that_vanish_or_change_during_the_run(
    tmp_path: Path, small_repo: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([small_repo], embedder)
    guide, retry = small_repo / "docs" / "guide.md", small_repo / "pkg" / "retry.py"
    guide.write_text("# Guide\n\nChanged.\n")
    retry.write_text(retry.read_text() + "\n\ndef later():\n    return 1\n")
    real_read = gte_search.triage.read_source

    def racing_read(path: Path, max_bytes: int) -> object:
        if path == guide:
            guide.unlink()  # gone between the walk and the read
        result = real_read(path, max_bytes)
        if path == retry:  # changed again after it was read
            time.sleep(0.01)
            retry.write_text(retry.read_text() + "\n\ndef latest():\n    return 2\n")
        return result

    monkeypatch.setattr(gte_search.triage, "read_source", racing_read)
    report = index.update([small_repo], embedder)
    assert report.files_removed == 1 and report.files_changed == 1 and not report.problems
    assert index.store.counts().files == 1
    monkeypatch.undo()
    # The stat recorded is the one from before the second change: the next run re-reads.
    report = index.update([small_repo], embedder)
    assert report.files_changed == 1
    assert "latest" in {found.chunk.symbol for found in index.store.all_chunks().values()}


def test_read_source_never_blocks_or_follows_links(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link.py").symlink_to(tmp_path / "fifo")
    assert read_source(tmp_path / "fifo") == Skipped("not_regular", "not a regular file")
    assert read_source(tmp_path / "link.py") == Skipped("symlink", "symlink (not followed)")
    assert read_source(tmp_path / "gone.py") == Skipped("vanished", VANISHED)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.py", "".join(f"{' ' * i}def f{i}():\n" for i in range(900)) + " " * 900 + "pass\n"),
        ("deep.js", "function f() {\n" + "{\n" * 5000 + "}\n" * 5000 + "}\n"),
        ("deep.json", "[" * 2000 + "]" * 2000 + "\n"),
    ],
)
def test_pathological_nesting_falls_back_to_line_windows(name: str, text: str) -> None:
    started = time.perf_counter()
    chunks = chunk_file(name, text, 512)
    assert time.perf_counter() - started < 10
    assert chunks[0].start_line == 1 and chunks[-1].end_line >= len(text.splitlines()) - 1


ICONS = """\
\"\"\"Icons bundled with the app.\"\"\"

import base64


def decode_icon(data: str) -> bytes:
    \"\"\"Turn an embedded icon into bytes.\"\"\"
    return base64.b16decode(data.upper())


ICON = "{blob}"


class IconCache:
    \"\"\"Decoded icons by name.\"\"\"

    def __init__(self) -> None:
        self.icons: dict[str, bytes] = {{}}

    def get(self, name: str) -> bytes:
        if name not in self.icons:
            self.icons[name] = decode_icon(ICON)
        return self.icons[name]
"""


@pytest.mark.parametrize("exact", [False, True])
def test_one_long_line_loses_no_definition(
    tmp_path: Path, wordpiece: Tokenizer, exact: bool
) -> None:
    blob = "".join(f"{i:04x}" for i in range(1250))  # a 5,000-character string literal
    (tmp_path / "icons.py").write_text(ICONS.format(blob=blob))
    source = read_source(tmp_path / "icons.py")
    assert isinstance(source, SourceText)

    def count_lines(rows: list[str]) -> list[float]:
        return [float(len(wordpiece.encode(row, add_special_tokens=False).ids)) for row in rows]

    chunks = chunk_file("icons.py", source.text, 512, count_lines if exact else None)
    spans = [(c.symbol, c.start_line, c.end_line) for c in chunks]
    assert ("decode_icon", 6, 8) in spans
    assert (None, 11, 11) in spans  # kept whole; the embedder truncates what it embeds
    assert ("IconCache", 14, 23) in spans
    assert blob in next(c.text for c in chunks if c.start_line == 11)


def test_a_minified_bundle_is_still_skipped(tmp_path: Path) -> None:
    body = "".join(
        f"function r{i}(e,t){{return e&&e.length>{i}?t.call(null,e[{i}],{i}):void 0}}"
        f"var n{i}=r{i}(window.items||[],function(e,t){{return e+t}});"
        for i in range(600)
    )
    bundle = f"/*! app v2.1.0 | MIT */\n!function(){{{body}}}();\n//# sourceMappingURL=app.js.map\n"
    (tmp_path / "app.min.js").write_text(bundle)
    assert read_source(tmp_path / "app.min.js") == Skipped(
        "minified", "minified or generated (mostly lines over 2,500 characters)"
    )


def _hit(root: Path, path: str) -> SearchHit:
    return SearchHit(path, str(root), 1, 1, 1.0, "code", "python", None, "x")


def test_resolve_hit_path_refuses_paths_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("x\n")
    (tmp_path / "secret.py").write_text("x\n")
    assert resolve_hit_path(_hit(root, "pkg/a.py")) == (root / "pkg" / "a.py").resolve()
    with pytest.raises(PathOutsideRoot, match="outside its root"):
        resolve_hit_path(_hit(root, "../secret.py"))
    (root / "pkg" / "a.py").unlink()
    (root / "pkg" / "a.py").symlink_to(tmp_path / "secret.py")  # swapped in after indexing
    with pytest.raises(PathOutsideRoot):
        resolve_hit_path(_hit(root, "pkg/a.py"))


def test_cli_drops_hits_outside_their_root(
    tmp_path: Path, small_repo: Path, tiny_model: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    assert (
        run_cli("index", str(small_repo), "--model", str(tiny_model), "--index", str(index_dir))[0]
        == 0
    )
    # Tamper with the database from outside, as an attacker with write access would.
    with sqlite3.connect(index_dir / "index.db") as db:
        db.execute("UPDATE files SET path = '../../etc/passwd' WHERE path LIKE '%.md'")
    code, out, err = run_cli("search", "install", "--json", "-k", "5", "--index", str(index_dir))
    assert code == 0 and "dropped a result" in err
    assert all(not hit["path"].startswith("..") for hit in json.loads(out))
