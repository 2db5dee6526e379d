"""Re-indexing as users do it: every known root at once, dropping a root, the summary."""

from __future__ import annotations

import shutil
from pathlib import Path

from gte_search.embed import Embedder
from gte_search.index import SearchIndex
from tests.conftest import run_cli


def _index(*args: str) -> tuple[int, str, str]:
    return run_cli("index", *args)


def test_index_without_paths_updates_every_known_root(
    tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    index = str(tmp_path / "index")
    other = Path(shutil.copytree(small_repo, tmp_path / "other"))
    code, out, err = _index(
        str(small_repo), str(other), "--model", str(tiny_model), *("--index", index)
    )
    assert code == 0, err
    assert "Indexed 4 files (4 added, 0 changed, 0 unchanged, 0 removed, 0 skipped)" in out
    # The second root holds the same texts: its chunks reuse the first root's vectors.
    assert "reused" in out and " 0 reused" not in out

    (small_repo / "pkg" / "retry.py").write_text("def jitter():\n    return 0.5\n")
    (other / "docs" / "guide.md").unlink()
    (other / "pkg" / "new.py").write_text("def fresh():\n    return 1\n")
    code, out, err = _index("--index", index)
    assert code == 0, err
    assert "Indexed 2 files (1 added, 1 changed, 2 unchanged, 1 removed, 0 skipped)" in out
    assert "with " in out and "s with" in out  # time and model

    code, out, _ = _index("--index", index)
    assert out.startswith("Up to date: 4 files unchanged")


def test_remove_drops_a_root_with_its_chunks_and_vectors(
    tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    index_dir = tmp_path / "index"
    other = Path(shutil.copytree(small_repo, tmp_path / "other"))
    args = ("--model", str(tiny_model), "--index", str(index_dir))
    assert _index(str(small_repo), str(other), *args)[0] == 0
    code, out, _ = run_cli("remove", str(other), "--index", str(index_dir))
    assert code == 0 and "2 files" in out
    opened = SearchIndex.open(index_dir)
    assert [str(r) for r in opened.roots()] == [str(small_repo.resolve())]
    assert not opened.load_vectors()  # FAISS was saved in step with SQLite
    counts = opened.store.counts()
    assert len(opened.vectors) == counts.vectors == counts.chunks
    assert counts.files == 2

    code, _, err = run_cli("remove", str(other), "--index", str(index_dir))
    assert code == 2 and "not a root" in err


def test_index_without_paths_needs_an_index_with_roots(tmp_path: Path) -> None:
    code, _, err = _index("--index", str(tmp_path / "none"))
    assert code == 2 and "no index" in err


def test_a_vanished_root_is_reported_not_fatal(
    tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    index = str(tmp_path / "index")
    other = Path(shutil.copytree(small_repo, tmp_path / "other"))
    assert _index(str(small_repo), str(other), "--model", str(tiny_model), "--index", index)[0] == 0
    shutil.rmtree(other)
    code, out, err = _index("--index", index)
    assert code == 1  # finished, but something could not be read
    assert "gte-search remove" in err and str(other) in err
    assert "2 files unchanged" in out


def test_an_index_from_an_earlier_chunker_is_rechunked_reusing_vectors(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    with SearchIndex.open(tmp_path / "index", create=True) as index:
        first = index.update([small_repo], embedder)
        index.store.set_meta("chunker", "0")  # as an earlier release left it
        again = index.update([small_repo], embedder)
        # Every file is chunked again, but no text changed, so nothing is embedded again.
        assert again.files_changed == first.files_added and again.chunks_embedded == 0
        third = index.update([small_repo], embedder)
        assert third.files_unchanged == first.files_added


def test_an_update_told_which_paths_changed_looks_only_at_them(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    # What `watch` and `serve` do after each burst of file events: the rest of a large root
    # is not walked again, and nothing outside the named paths is touched.
    root = small_repo.resolve()
    with SearchIndex.open(tmp_path / "index", create=True) as index:
        index.update([root], embedder)
        (root / "pkg" / "retry.py").write_text("def jitter():\n    return 0.5\n")
        (root / "docs" / "guide.md").write_text("# Guide\n\nNot told about this edit.\n")
        (root / "pkg" / "extra").mkdir()
        (root / "pkg" / "extra" / "new.py").write_text("def fresh():\n    return 1\n")

        report = index.update([root], embedder, changed={root: ["pkg/retry.py", "pkg/extra"]})
        assert (report.files_added, report.files_changed, report.files_removed) == (1, 1, 0)
        symbols = {h.symbol for h in index.search("jitter fresh", None, 10, mode="lexical")}
        assert {"jitter", "fresh"} <= symbols
        assert not index.search("edit", None, 10, mode="lexical")  # guide.md left alone

        shutil.rmtree(root / "pkg")  # a deleted folder arrives as one event
        report = index.update([root], embedder, changed={root: ["pkg"]})
        assert report.files_removed == 2
        assert _indexed_files(index) == {"docs/guide.md"}

        # An ignore file changes what every path means: the root is walked whole.
        (root / ".gitignore").write_text("*.log\n*.md\n")
        report = index.update([root], embedder, changed={root: [".gitignore"]})
        assert report.files_removed == 1 and _indexed_files(index) == set()
        counts = index.store.counts()
        assert len(index.vectors) == counts.vectors == counts.chunks


def _indexed_files(index: SearchIndex) -> set[str]:
    return {row[0] for row in index.store.db.execute("SELECT path FROM files")}
