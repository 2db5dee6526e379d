"""The library API end to end with a tiny model: index, update, search, status."""

from __future__ import annotations

from pathlib import Path

import pytest

from gte_search.embed import Embedder
from gte_search.index import IndexProblem, Progress, SearchIndex
from gte_search.models import resolve_model


def _index(tmp_path: Path) -> SearchIndex:
    return SearchIndex.open(tmp_path / "index", create=True)


def test_index_records_files_chunks_vectors_and_model(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    index = _index(tmp_path)
    report = index.update([small_repo], embedder)
    assert report.files_indexed == 2 and report.chunks_embedded == report.chunks > 0
    status = index.status()
    assert status.roots == [str(small_repo.resolve())]
    assert status.files == 2 and status.chunks == report.chunks
    assert status.model is not None and status.model.dimension == 32
    assert status.model.model_id == embedder.model_id
    symbols = {found.chunk.symbol for found in index.store.all_chunks().values()}
    assert {"compute_backoff", "Client"} <= symbols
    assert index.store.counts().vectors == status.chunks
    assert "debug.log" not in {path for _, path in index.store.indexed_paths()}


def test_search_returns_the_exact_chunk_first_with_contract_fields(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    index = _index(tmp_path)
    index.update([small_repo], embedder)
    chunk = next(
        found.chunk
        for found in index.store.all_chunks().values()
        if found.chunk.symbol == "compute_backoff"
    )
    # With a random tiny model only identical text is reliably nearest: query with it.
    query = chunk.embedding_text
    hits = index.search(query, embedder, k=3, mode="semantic")
    assert hits[0].path == "pkg/retry.py" and hits[0].symbol == "compute_backoff"
    assert hits[0].root == str(small_repo.resolve())
    assert (hits[0].start_line, hits[0].end_line) == (chunk.start_line, chunk.end_line)
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_reindex_skips_unchanged_and_drops_deleted_files(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    index = _index(tmp_path)
    first = index.update([small_repo], embedder)
    again = index.update([small_repo], embedder)
    assert again.files_unchanged == 2 and again.chunks_embedded == 0
    (small_repo / "docs" / "guide.md").unlink()
    (small_repo / "pkg" / "retry.py").write_text(
        (small_repo / "pkg" / "retry.py").read_text() + "\n\ndef jitter():\n    return 0.5\n"
    )
    third = index.update([small_repo], embedder)
    assert third.files_removed == 1 and third.files_indexed == 1
    # Unchanged definitions keep their vectors; only the new text is embedded.
    assert 0 < third.chunks_embedded < first.chunks_embedded + 1
    assert third.chunks_reused >= 2
    assert [path for _, path in index.store.indexed_paths()] == ["pkg/retry.py"]
    counts = index.store.counts()
    assert len(index.vectors) == counts.vectors == counts.chunks


def test_opening_a_missing_index_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(IndexProblem, match="gte-search index PATH"):
        SearchIndex.open(tmp_path / "none")


def test_a_file_that_is_not_an_index_is_refused_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / "index.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(IndexProblem, match="not a readable gte-search index"):
        SearchIndex.open(folder)
    assert (folder / "index.db").read_bytes() == b"not a database at all" * 100


def test_another_model_is_refused_unless_rebuilding(
    tmp_path: Path, small_repo: Path, embedder: Embedder, minilm_dir: Path
) -> None:
    index = _index(tmp_path)
    index.update([small_repo], embedder)
    other = resolve_model(str(minilm_dir), named_by_user=True)
    with pytest.raises(IndexProblem, match="--rebuild"):
        index.prepare_model(other.model_id, rebuild=False)
    index.prepare_model(other.model_id, rebuild=True)
    assert index.model is None and index.store.counts().chunks == 0
    assert index.roots() == [small_repo.resolve()]  # a rebuild keeps the roots


def test_empty_directory_is_a_user_error(tmp_path: Path, embedder: Embedder) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexProblem, match="no files"):
        _index(tmp_path).update([tmp_path / "empty"], embedder)


class _RecordedProgress(Progress):
    def __init__(self) -> None:
        self.total = 0
        self.steps: list[float] = []
        self.chunks = 0
        self.embedded_steps: list[float] = []

    def start_root(self, root: Path, files: int) -> None:
        self.total += files

    def advance(self, files: float) -> None:
        self.steps.append(files)

    def start_embedding(self, embedded: int, chunks: int) -> None:
        assert not self.embedded_steps and sum(self.steps) == self.total  # files first
        self.chunks = chunks
        self.embedded_steps.append(embedded)

    def embedded(self, chunks: float) -> None:
        self.embedded_steps.append(chunks)


def test_progress_moves_with_each_batch_and_ends_full(
    tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    for number in range(12):
        (small_repo / "pkg" / f"extra{number}.py").write_text(
            "\n\n".join(f"def f{number}_{i}(x):\n    return x * {i}" for i in range(20)) + "\n"
        )
    embedder = Embedder(resolve_model(str(tiny_model), named_by_user=True), batch_tokens=256)
    progress = _RecordedProgress()
    _index(tmp_path).update([small_repo], embedder, progress)
    assert progress.total == 14
    assert progress.steps == [1] * 14  # each file as it is stored, before any embedding
    # Then "N of M chunks embedded", from 0, moving with each model batch, ending full.
    chunks = _index(tmp_path).store.counts().chunks
    assert progress.chunks == chunks and progress.embedded_steps[0] == 0
    assert sum(progress.embedded_steps) == pytest.approx(chunks)
    assert len(progress.embedded_steps) > 3


def test_a_query_encoder_failure_in_hybrid_search_reaches_the_caller(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    """Hybrid search encodes the query on another thread; what goes wrong there is the
    caller's error, as it was when encoding ran on the caller's thread."""
    index = _index(tmp_path)
    index.update([small_repo], embedder)

    class BrokenEncoder(Embedder):
        def embed_query(self, query: str) -> object:  # type: ignore[override]
            raise RuntimeError("the query encoder broke")

    broken = BrokenEncoder.__new__(BrokenEncoder)
    with pytest.raises(RuntimeError, match="the query encoder broke"):
        index.search("compute backoff", broken, k=3)
    assert index.search("compute backoff", embedder, k=3)
