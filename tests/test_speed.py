"""The speed mechanisms keep results the same: precisions, batching, read-ahead, IVF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gte_search import indexing
from gte_search import vectors as vectors_module
from gte_search.embed import Embedder, _batches_by_tokens
from gte_search.index import SearchIndex
from gte_search.models import BUNDLED_MODEL_ID, resolve_model
from gte_search.pipeline import read_ahead
from gte_search.vectors import VectorIndex, recall_at_k

from .conftest import SAMPLE_REPOS

CODE = [
    "def compute_backoff(attempt: int) -> float:\n    return 2**attempt + random.random()",
    "class Client:\n    def send(self, request):\n        return self.transport.send(request)",
    "# Install\n\nRun pip install pkg to install the package from PyPI.",
    "func (s *Store) Get(key string) ([]byte, error) {\n\treturn s.data[key], nil\n}",
    "export async function addTask(title: string): Promise<Task> { return db.insert(title) }",
    "where are HTTP retries scheduled",
]


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_fast_precisions_stay_close_to_fp32(minilm_dir: Path, precision: str) -> None:
    source = resolve_model(BUNDLED_MODEL_ID, named_by_user=True)
    reference = Embedder(source, precision="fp32").embed(CODE)
    fast = Embedder(source, precision=precision)
    assert fast.precision == precision
    cosine = (fast.embed(CODE) * reference).sum(axis=1)
    assert cosine.mean() >= 0.99 and cosine.min() >= 0.98


def test_token_batches_respect_the_budget_and_cover_every_text() -> None:
    lengths = [50, 40, 40, 30, 10, 10, 10, 5, 3]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches = _batches_by_tokens(order, lengths, 100)
    assert [i for batch in batches for i in batch] == order
    for batch in batches:
        assert len(batch) == 1 or lengths[batch[0]] * len(batch) <= 100


def test_read_ahead_keeps_order_and_raises_the_workers_error() -> None:
    assert list(read_ahead(range(200), lambda n: n * n, 4)) == [(n, n * n) for n in range(200)]

    def fail_at_five(n: int) -> int:
        if n == 5:
            raise ValueError("boom")
        return n

    with pytest.raises(ValueError, match="boom"):
        list(read_ahead(range(10), fail_at_five, 2))
    # a consumer that stops early does not leave the worker blocked
    for _ in zip(range(3), read_ahead(range(1000), lambda n: n, 2), strict=False):
        pass


def _index_contents(index: SearchIndex) -> tuple[list[tuple], np.ndarray]:
    rows = sorted(
        (c.path, c.start_line, c.end_line, c.symbol, c.text)
        for c in (found.chunk for found in index.store.all_chunks().values())
    )
    ids, vectors = zip(*index.store.iter_vectors(), strict=True)
    order = np.argsort(np.concatenate(ids))
    return rows, np.concatenate(vectors)[order]


def test_read_ahead_builds_the_same_index_as_reading_in_turn(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedder = Embedder(resolve_model(str(tiny_model), named_by_user=True), precision="fp32")
    contents = []
    for depth in (0, 64):
        monkeypatch.setattr(indexing, "READ_AHEAD_FILES", depth)
        index = SearchIndex.open(tmp_path / f"index-{depth}", create=True)
        report = index.update([SAMPLE_REPOS], embedder)
        assert report.chunks_embedded > 0
        assert {"walk", "parse", "embed", "store", "faiss"} <= set(report.stages)
        contents.append(_index_contents(index))
        index.close()
    assert contents[0][0] == contents[1][0]
    np.testing.assert_allclose(contents[0][1], contents[1][1], atol=1e-6)


def _clustered(count: int, dimension: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, dimension))
    points = centres[rng.integers(0, 40, count)] + rng.normal(size=(count, dimension)) * 0.7
    return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)


def test_auto_index_is_ivf_above_the_threshold_with_recall_and_id_semantics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "IVF_THRESHOLD", 1000)
    vectors, queries = np.split(_clustered(4100), [4000])
    ids = np.arange(10, 4010, dtype=np.int64)
    small = VectorIndex.build(32, [(ids[:500], vectors[:500])])
    assert small.kind == "flat" and small.wants("auto") and not small.wants("ivf")
    big = VectorIndex.build(32, [(ids[:2000], vectors[:2000]), (ids[2000:], vectors[2000:])])
    assert big.kind == "ivf" and big.wants("auto")
    assert np.array_equal(big.ids(), ids)
    exact = VectorIndex.build(32, [(ids, vectors)], "flat")
    truth = np.array([[i for i, _ in exact.search(q, 10)] for q in queries])
    assert recall_at_k(big.index, queries, truth, big.index.nprobe) >= 0.95
    # ids behave as with the flat index: remove, add, filter, save and load
    big.remove([10, 11])
    big.add(np.array([99_999], dtype=np.int64), vectors[:1])
    assert big.search(vectors[0], 1)[0][0] == 99_999
    assert [i for i, _ in big.search(vectors[0], 5, np.array([500, 600]))] in (
        [500, 600],
        [600, 500],
    )
    big.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", 32)
    assert loaded is not None and loaded.kind == "ivf" and len(loaded) == 3999
    assert loaded.index.nprobe == big.index.nprobe


def test_index_switches_to_ivf_when_asked_and_still_finds_chunks(
    tmp_path: Path, tiny_model: Path
) -> None:
    embedder = Embedder(resolve_model(str(tiny_model), named_by_user=True))
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([SAMPLE_REPOS], embedder, vector_kind="ivf")
    assert index.vectors.kind == "ivf" and index.store.get_meta("faiss") == "ivf"
    assert index.store.get_meta("precision") == embedder.precision
    index.close()
    reopened = SearchIndex.open(tmp_path / "index")
    assert not reopened.load_vectors() and reopened.vectors.kind == "ivf"
    chunk = next(iter(reopened.store.all_chunks().values())).chunk
    hits = reopened.search(chunk.text, embedder, k=5, mode="semantic")
    assert hits and hits[0].score > 0.9


def test_cli_index_records_precision_and_vector_type(
    tmp_path: Path, tiny_model: Path, small_repo: Path
) -> None:
    from click.testing import CliRunner

    from gte_search.cli import main
    from gte_search.store import Store

    index_dir = tmp_path / "index"
    args = ["index", str(small_repo), "--index", str(index_dir), "--model", str(tiny_model)]
    result = CliRunner().invoke(main, [*args, "--precision", "int8", "--faiss", "ivf"])
    assert result.exit_code == 0, result.output
    store = Store(index_dir / "index.db")
    assert store.get_meta("precision") == "int8" and store.get_meta("faiss") == "ivf"
    store.close()
    bad = CliRunner().invoke(main, [*args, "--precision", "fp8"])
    assert bad.exit_code == 2


def test_auto_precision_follows_the_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    from gte_search import embed

    cpu = torch.device("cpu")
    monkeypatch.setattr(embed, "native_bf16", lambda: True)
    assert embed.resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(embed, "native_bf16", lambda: False)
    assert embed.resolve_precision("auto", cpu) == "int8"
    assert embed.resolve_precision("fp32", cpu) == "fp32"
    assert embed.resolve_precision("auto", torch.device("cuda")) == "fp16"
