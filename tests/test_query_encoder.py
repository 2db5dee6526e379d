"""The ONNX query encoder: same vectors and results as torch, and searches without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLE_REPOS, build_index, run_cli

QUERIES = [
    "compute backoff",
    "send the request with the client",
    "install the package",
    "x",
    "parse http header " * 80,  # past the tiny model's 128 tokens: truncated the same way
]


@pytest.fixture
def onnx_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Searches may use ONNX; exports go to a cache of this test's own."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GTE_SEARCH_QUERY_ENCODER", "auto")
    monkeypatch.setenv("GTE_SEARCH_CACHE", str(cache))
    return cache


def cosines(model_dir: Path, texts: list[str]) -> np.ndarray:
    from gte_search.embed import Embedder
    from gte_search.models import resolve_model
    from gte_search.query_encoder import load_query_encoder

    source = resolve_model(str(model_dir), named_by_user=True)
    encoder = load_query_encoder(source)
    assert encoder is not None
    reference = Embedder(source, precision="fp32").embed(texts)
    vectors = encoder.embed(texts)
    assert vectors.shape == reference.shape
    result: np.ndarray = np.sum(vectors * reference, axis=1)
    return result


def test_onnx_vectors_match_torch_on_the_tiny_model(onnx_on: Path, tiny_model: Path) -> None:
    assert cosines(tiny_model, QUERIES).min() >= 0.999


@pytest.mark.slow
def test_onnx_vectors_match_torch_on_minilm(onnx_on: Path, minilm_dir: Path) -> None:
    texts = [*QUERIES, "Ünïcode naïve café 東京", (SAMPLE_REPOS / "kvstore").as_posix()]
    assert cosines(minilm_dir, texts).min() >= 0.999


def json_hits(*args: str) -> list[tuple[str, int, int]]:
    code, out, err = run_cli("search", *args, "--json", "-k", "8")
    assert code == 0, err
    return [(hit["path"], hit["start_line"], hit["end_line"]) for hit in json.loads(out)]


def test_search_results_are_the_same_with_onnx_and_torch(
    onnx_on: Path,
    tmp_path: Path,
    small_repo: Path,
    tiny_model: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = tmp_path / "index"
    build_index(index, [small_repo, SAMPLE_REPOS / "pyfetch"], tiny_model)
    queries = ["compute backoff", "send the request", "parse cookie header", "install"]
    monkeypatch.setenv("GTE_SEARCH_QUERY_ENCODER", "torch")
    by_torch = {q: json_hits(q, "--index", str(index)) for q in queries}
    monkeypatch.setenv("GTE_SEARCH_QUERY_ENCODER", "auto")
    _, _, err = run_cli("search", "x", "--index", str(index))
    assert "preparing a fast query encoder" in err  # the first search exports, once
    assert any((onnx_on / "query-encoders").glob("*/model.onnx"))
    by_onnx = {q: json_hits(q, "--index", str(index)) for q in queries}
    assert by_onnx == by_torch
    assert all(by_torch.values())


def modules_after_search(index: Path, mode: str) -> set[str]:
    """The heavy modules a fresh `gte-search search` process imported."""
    probe = (
        "import sys\nfrom gte_search.cli import main\n"
        f"args = ['search', 'compute backoff', '--mode', {mode!r}, '--index', {str(index)!r}]\n"
        "try:\n    main(args)\n"
        "except SystemExit:\n    pass\n"
        "print('modules:', *(m for m in ('torch', 'transformers', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ, check=True
    )
    assert "backoff" in done.stdout  # it did search
    return set(done.stdout.strip().splitlines()[-1].split()[1:])


def test_lexical_and_onnx_searches_never_import_torch(
    onnx_on: Path, tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    index = tmp_path / "index"
    build_index(index, [small_repo], tiny_model)
    assert modules_after_search(index, "lexical") == set()
    run_cli("search", "x", "--index", str(index))  # exports the query encoder
    assert modules_after_search(index, "hybrid") == set()


def test_index_prepares_the_encoder_so_the_first_search_starts_fast(
    onnx_on: Path, tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    index = str(tmp_path / "index")
    code, _, err = run_cli("index", str(small_repo), "--model", str(tiny_model), "--index", index)
    assert code == 0 and "preparing a fast query encoder" in err
    code, _, err = run_cli("search", "compute backoff", "--index", index)
    assert code == 0 and "preparing" not in err


def test_a_failed_export_is_remembered_and_searches_use_torch(
    onnx_on: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gte_search import query_encoder
    from gte_search.models import resolve_model

    attempts: list[int] = []

    def broken(*args: object) -> None:
        attempts.append(1)
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(query_encoder, "_export", broken)
    source = resolve_model(str(tiny_model), named_by_user=True)
    assert query_encoder.load_query_encoder(source) is None
    assert query_encoder.load_query_encoder(source) is None
    assert attempts == [1]
    monkeypatch.setenv("GTE_SEARCH_QUERY_ENCODER", "sometimes")
    with pytest.raises(ValueError, match="GTE_SEARCH_QUERY_ENCODER must be one of"):
        query_encoder.load_query_encoder(source)


def test_an_unwritable_cache_leaves_searches_on_torch(
    onnx_on: Path, tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    onnx_on.write_text("a file where the cache folder should be")
    index = tmp_path / "index"
    build_index(index, [small_repo], tiny_model)
    assert json_hits("compute backoff", "--index", str(index))
