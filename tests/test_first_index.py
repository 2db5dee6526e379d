"""Search during the first index: chunks are stored (and searchable by their words) before
their vectors, which follow in committed batches; an interrupted run leaves the rest pending
and the next run embeds only those."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from gte_search import vector_fill
from gte_search.embed import Embedder
from gte_search.hits import SearchHit
from gte_search.index import IndexInterrupted, Progress, SearchIndex
from tests.conftest import run_cli


class _Counting:
    """The real embedder, counting the texts it embeds and, when asked, interrupted (as by
    Ctrl-C) once it has embedded `stop_after` batches of the update."""

    def __init__(self, inner: Embedder, stop_after: int | None = None) -> None:
        self.inner = inner
        self.model_id, self.dimension = inner.model_id, inner.dimension
        self.pooling, self.precision, self.max_tokens = (
            inner.pooling,
            inner.precision,
            inner.max_tokens,
        )
        self.stop_after = stop_after
        self.calls = 0
        self.texts: list[str] = []

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if self.stop_after is not None and self.calls >= self.stop_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.texts += texts
        return self.inner.embed(texts, on_batch)

    def embed_query(self, query: str) -> np.ndarray:
        return self.inner.embed_query(query)

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        return self.inner.count_line_tokens(rows)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Vectors committed three chunks at a time, so a small repo needs several batches."""
    monkeypatch.setattr(vector_fill, "FILL_BATCH_CHUNKS", 3)


@pytest.fixture
def bigger_repo(small_repo: Path) -> Path:
    for number in range(3):
        (small_repo / "pkg" / f"extra{number}.py").write_text(
            "\n\n".join(
                f"def helper_{number}_{i}(x):\n    '''Step {i}.'''\n" + "    x += 1\n" * 30
                for i in range(4)
            )
            + "\n"
        )
    return small_repo


def _paths(hits: list[SearchHit]) -> list[str]:
    return [hit.path for hit in hits]


def test_words_are_searchable_before_any_vector_exists(
    tmp_path: Path, small_repo: Path, embedder: Embedder
) -> None:
    """Another reader, while the writer is between storing the chunks and embedding them,
    finds a new root's chunks by their words, in lexical and in hybrid search."""
    seen: dict[str, object] = {}

    class Peek(Progress):
        def start_embedding(self, embedded: int, chunks: int) -> None:
            with SearchIndex.open(tmp_path / "index") as reader:
                status = reader.status()
                seen["status"] = (status.embedded, status.chunks, status.pending)
                seen["vectors"] = len(reader.vectors)
                seen["lexical"] = _paths(reader.search("compute_backoff", None, mode="lexical"))
                seen["hybrid"] = _paths(reader.search("compute_backoff", embedder))
                seen["semantic"] = _paths(reader.search("backoff", embedder, mode="semantic"))
            seen["told"] = (embedded, chunks)

    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([small_repo], embedder, Peek())
    chunks = index.store.counts().chunks
    assert seen["told"] == (0, chunks) and seen["status"] == (0, chunks, chunks)
    assert seen["vectors"] == 0 and seen["semantic"] == []
    assert seen["lexical"][0] == seen["hybrid"][0] == "pkg/retry.py"  # type: ignore[index]
    assert index.status().pending == 0 and len(index.vectors) == chunks


def test_an_interrupted_embedding_leaves_the_rest_pending_and_hybrid_finds_it(
    tmp_path: Path, bigger_repo: Path, embedder: Embedder, small_batches: None
) -> None:
    index = SearchIndex.open(tmp_path / "index", create=True)
    with pytest.raises(IndexInterrupted) as stopped:
        index.update([bigger_repo], _Counting(embedder, stop_after=2), Progress())
    report = stopped.value.report
    assert report.files_indexed == 5 and report.chunks_embedded == 6
    index.close()

    reader = SearchIndex.open(tmp_path / "index")
    status = reader.status()
    assert status.embedded == 6 and status.pending == status.chunks - 6 > 0
    assert status.interrupted == []  # every file is stored; only vectors are missing
    assert np.array_equal(reader.vectors.ids(), reader.store.vector_ids())
    # The last chunks stored are the last embedded: extra2.py has no vector yet, and is found
    # by its words alone, in hybrid search too.
    pending = {c.id for c in reader.store.pending_chunks(0, 1000)}
    stored = reader.store.all_chunks()
    assert {stored[i].chunk.path for i in pending} >= {"pkg/extra2.py"}
    hits = reader.search("helper_2_3", embedder, k=3)
    assert hits and hits[0].path == "pkg/extra2.py" and hits[0].symbol == "helper_2_3"

    code, out, _ = run_cli("status", "--index", str(tmp_path / "index"))
    assert code == 0
    assert f"vectors:   6 of {status.chunks} chunks embedded ({status.pending} pending" in out
    code, out, _ = run_cli("status", "--json", "--index", str(tmp_path / "index"))
    described = json.loads(out)
    assert (described["embedded"], described["pending"]) == (6, status.pending)


def test_the_next_run_embeds_only_the_pending_chunks(
    tmp_path: Path, bigger_repo: Path, embedder: Embedder, small_batches: None
) -> None:
    index = SearchIndex.open(tmp_path / "index", create=True)
    with pytest.raises(IndexInterrupted):
        index.update([bigger_repo], _Counting(embedder, stop_after=1))
    pending = index.store.pending_chunks(0, 1000)
    counting = _Counting(embedder)
    report = index.update([bigger_repo], counting)
    assert report.files_unchanged == 5 and report.files_indexed == 0
    assert sorted(counting.texts) == sorted({c.embedding_text for c in pending})
    assert report.chunks_embedded == len(counting.texts) and not report.up_to_date
    assert index.status().pending == 0
    # The same vectors as an index built in one go.
    clean = SearchIndex.open(tmp_path / "clean", create=True)
    clean.update([bigger_repo], embedder)
    by_text = {
        stored.chunk.embedding_text: vector
        for which in (clean,)
        for ids, vectors in which.store.iter_vectors()
        for stored, vector in zip(
            which.store.chunks_by_id([int(i) for i in ids]).values(), vectors, strict=True
        )
    }
    for ids, vectors in index.store.iter_vectors():
        for stored, vector in zip(
            index.store.chunks_by_id([int(i) for i in ids]).values(), vectors, strict=True
        ):
            np.testing.assert_allclose(vector, by_text[stored.chunk.embedding_text], atol=1e-5)
    # And nothing left to do after that.
    again = _Counting(embedder)
    assert index.update([bigger_repo], again).up_to_date and again.texts == []


@pytest.mark.parametrize("which", ["tiny", "minilm"])
def test_the_deferred_model_cuts_chunks_as_the_loaded_one(
    which: str, request: pytest.FixtureRequest
) -> None:
    """The update stores chunks while the model loads, counting tokens with the tokenizer
    from the model's folder: the same counts and limits as the loaded model's."""
    from gte_search.deferred_model import defer_loading
    from gte_search.models import resolve_model
    from tests.conftest import SAMPLE_REPOS

    folder = request.getfixturevalue("tiny_model" if which == "tiny" else "minilm_dir")
    source = resolve_model(str(folder), named_by_user=True)
    loaded = Embedder(source)
    deferred = defer_loading(source, lambda: loaded)
    assert deferred is not None
    assert (deferred.dimension, deferred.max_tokens) == (loaded.dimension, loaded.max_tokens)
    lines = [
        line
        for path in sorted(SAMPLE_REPOS.rglob("*.*"))[:40]
        for line in path.read_text(errors="replace").splitlines()
    ]
    lines += ["ÄÖü naïve café 日本語 x" * 40, "", "    \t  "]
    assert deferred.count_line_tokens(lines) == loaded.count_line_tokens(lines)
    assert deferred.precision == loaded.precision


def test_a_model_that_fails_to_load_leaves_the_chunks_pending(
    tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    (tiny_model / "model.safetensors").unlink()  # the weights are missing
    index_dir = tmp_path / "index"
    code, _, err = run_cli(
        "index", str(small_repo), "--model", str(tiny_model), "--index", str(index_dir)
    )
    assert code != 0 and "cannot load model" in err and "Traceback" not in err
    with SearchIndex.open(index_dir) as index:
        status = index.status()
        assert status.chunks > 0 and status.pending == status.chunks
        assert index.search("compute_backoff", None, mode="lexical")[0].path == "pkg/retry.py"
