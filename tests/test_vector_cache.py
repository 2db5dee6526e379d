"""The FAISS file is a cache of SQLite's vectors (gte_search.vector_cache): it is used only
when it matches, rebuilt when damaged or out of step, and never written by a reader."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gte_search.embed import Embedder
from gte_search.index import VECTORS_NAME, SearchIndex
from gte_search.lock import IndexLock


@pytest.fixture
def indexed(tmp_path: Path, small_repo: Path, embedder: Embedder) -> SearchIndex:
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([small_repo], embedder)
    return index


def test_a_saved_file_that_matches_is_loaded_without_a_rebuild(indexed: SearchIndex) -> None:
    expected = indexed.vectors.ids()
    indexed.close()
    reopened = SearchIndex.open(indexed.directory)
    assert reopened.load_vectors() == []
    assert np.array_equal(reopened.vectors.ids(), expected)


def test_a_file_out_of_step_with_the_database_is_rebuilt(
    indexed: SearchIndex, small_repo: Path, embedder: Embedder
) -> None:
    """A FAISS file from before the last change (a crash after SQLite committed, or a copy
    restored by hand) holds other ids than the database: it must not be trusted."""
    stale = (indexed.directory / VECTORS_NAME).read_bytes()
    (small_repo / "pkg" / "extra.py").write_text("def extra():\n    return 1\n")
    indexed.update([small_repo], embedder)
    expected = indexed.vectors.ids()
    indexed.close()
    (indexed.directory / VECTORS_NAME).write_bytes(stale)
    reopened = SearchIndex.open(indexed.directory)
    notices = reopened.load_vectors()
    assert "rebuilt" in notices[0]
    assert np.array_equal(reopened.vectors.ids(), expected)


def test_missing_or_garbage_faiss_file_is_rebuilt_from_sqlite(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([small_repo], embedder)
    expected = index.vectors.ids()
    index.close()
    (tmp_path / "index" / VECTORS_NAME).write_bytes(b"IxM2 this is not faiss")
    reopened = SearchIndex.open(tmp_path / "index")
    notices = reopened.load_vectors()
    assert np.array_equal(reopened.vectors.ids(), expected)
    assert notices and "rebuilt" in notices[0]
    assert reopened.search("retry", embedder, k=1)


def test_a_search_beside_an_indexer_works_and_leaves_the_faiss_file_alone(
    indexed: SearchIndex, embedder: Embedder
) -> None:
    directory = indexed.directory
    indexed.close()
    (directory / VECTORS_NAME).unlink()  # as an indexer does before changing SQLite
    holder = IndexLock(directory)
    holder.acquire()
    try:
        reader = SearchIndex.open(directory)
        notices = reader.load_vectors()
        assert reader.search("retry", embedder, k=2)
        assert not (directory / VECTORS_NAME).exists()
        assert f"process {os.getpid()} is updating" in notices[0]
        reader.close()
    finally:
        holder.release()
    # With the lock free, the next reader writes the rebuilt file for everyone.
    SearchIndex.open(directory).search("retry", embedder, k=2)
    assert (directory / VECTORS_NAME).exists()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "huge count"])
def test_damaged_faiss_files_are_rebuilt_not_loaded(
    indexed: SearchIndex, embedder: Embedder, damage: str
) -> None:
    directory = indexed.directory
    expected = indexed.vectors.ids()
    indexed.close()
    path = directory / VECTORS_NAME
    data = path.read_bytes()
    damaged = {
        "truncate": data[: len(data) - 100],
        "garbage": b"IxM2" + os.urandom(len(data) - 4),
        "empty": b"",
        # A header claiming a billion vectors: FAISS would try to allocate them.
        "huge count": data[:8] + (10**9).to_bytes(8, "little") + data[16:],
    }[damage]
    path.write_bytes(damaged)
    reopened = SearchIndex.open(directory)
    notices = reopened.load_vectors()
    assert np.array_equal(reopened.vectors.ids(), expected)
    assert "rebuilt" in notices[0]
    assert reopened.search("retry", embedder, k=1)


def test_chunks_left_without_vectors_are_found_and_embedded_by_the_next_run(
    indexed: SearchIndex, embedder: Embedder, small_repo: Path
) -> None:
    """What an interrupted run leaves: some chunks without their vector, anywhere among the
    ids. The next run finds exactly those, page by page, and embeds them."""
    store = indexed.store
    ids = sorted(store.all_chunks())
    dropped = ids[::2]
    with store.db.atomic():
        for chunk_id in dropped:
            store.db.execute("DELETE FROM vectors WHERE chunk_id = ?", [chunk_id])
    assert store.vector_progress() == (len(ids), len(ids) - len(dropped))
    first = store.pending_chunks(0, 1)
    assert [p.id for p in first] == dropped[:1]
    assert [p.id for p in store.pending_chunks(first[-1].id, 100)] == dropped[1:]
    report = indexed.update([small_repo], embedder)
    assert report.chunks_embedded + report.chunks_reused == len(dropped)
    assert report.chunks_pending == 0
    assert store.vector_progress() == (len(ids), len(ids))
    assert store.pending_chunks(0, 100) == []
