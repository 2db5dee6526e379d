"""`index --ray`: a run on a real local Ray instance (2 CPUs, no dashboard) gives the index a
single-process run gives, ships only what changed, survives a dying worker and fails cleanly
when the cluster cannot be reached."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLE_REPOS, build_index, run_cli

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")

pytestmark = pytest.mark.ray

QUERIES = ("retry with backoff", "parse the http header", "store a key and value", "task")
EDITED = "pyfetch/pyfetch/retry.py"


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def runs(
    local_ray: None, tiny_model_master: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The same tree indexed in-process and on Ray, with the same tiny model."""
    base = tmp_path_factory.mktemp("ray-runs")
    tree = Path(shutil.copytree(SAMPLE_REPOS, base / "tree"))
    build_index(base / "local", [tree], tiny_model_master)
    code, out, err = run_cli(
        "index", str(tree), "--model", str(tiny_model_master), "--index", str(base / "ray"),
        "--ray", "local",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("Indexed 44 files (44 added,"), out
    return {"tree": tree, "local": base / "local", "ray": base / "ray", "model": tiny_model_master}


def chunk_rows(index_dir: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(index_dir / "index.db") as db:
        return db.execute(
            "SELECT f.path, c.start_line, c.end_line, c.kind, c.symbol, c.text FROM chunks c "
            "JOIN files f ON f.id = c.file_id ORDER BY f.path, c.start_line, c.end_line"
        ).fetchall()


def chunk_vectors(index_dir: Path) -> np.ndarray:
    with sqlite3.connect(index_dir / "index.db") as db:
        blobs = db.execute(
            "SELECT v.vector FROM chunks c JOIN files f ON f.id = c.file_id "
            "JOIN vectors v ON v.chunk_id = c.id ORDER BY f.path, c.start_line, c.end_line"
        ).fetchall()
    return np.stack([np.frombuffer(blob, dtype=np.float32) for (blob,) in blobs])


def search(index_dir: Path, model: Path) -> list[list[tuple[str, int, int]]]:
    from gte_search.embed import Embedder
    from gte_search.index import SearchIndex
    from gte_search.models import resolve_model

    embedder = Embedder(resolve_model(str(model), named_by_user=True))
    with SearchIndex.open(index_dir) as index:
        return [
            [(hit.path, hit.start_line, hit.end_line) for hit in index.search(query, embedder)]
            for query in QUERIES
        ]


def test_a_ray_run_gives_the_single_process_index(runs: dict[str, Path]) -> None:
    assert chunk_rows(runs["ray"]) == chunk_rows(runs["local"])
    on_ray, in_process = chunk_vectors(runs["ray"]), chunk_vectors(runs["local"])
    assert on_ray.shape == in_process.shape
    assert float(np.mean(np.sum(on_ray * in_process, axis=1))) >= 0.999
    assert search(runs["ray"], runs["model"]) == search(runs["local"], runs["model"])
    code, out, _ = run_cli("status", "--index", str(runs["ray"]))
    assert code == 0 and "524" in out


def test_an_incremental_run_ships_only_the_changed_file(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gte_search.ray_embed import RayEmbedder

    index_dir = Path(shutil.copytree(runs["ray"], tmp_path / "ray"))
    edited = runs["tree"] / EDITED
    edited.write_text(edited.read_text() + "\n\ndef shipped_alone():\n    return 'only me'\n")
    shipped: list[str] = []
    original = RayEmbedder.embed

    def recording(self: RayEmbedder, texts: list[str], on_batch: object = None) -> np.ndarray:
        shipped.extend(texts)
        return original(self, texts, on_batch)  # type: ignore[arg-type]

    monkeypatch.setattr(RayEmbedder, "embed", recording)
    monkeypatch.setenv("GTE_SEARCH_RAY", "local")
    code, out, err = run_cli(
        "index", str(runs["tree"]), "--model", str(runs["model"]), "--index", str(index_dir)
    )
    assert code == 0, err
    assert "1 changed, 43 unchanged" in out
    assert shipped and all(text.startswith(EDITED) for text in shipped)
    assert any("shipped_alone" in text for text in shipped)
    assert f"({len(shipped)} embedded," in out


def test_a_worker_that_dies_mid_run_is_retried_with_the_same_result(
    local_ray: None, tiny_model_master: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gte_search.ray_embed import EmbedWorker, RayEmbedder

    tree = Path(shutil.copytree(SAMPLE_REPOS / "kvstore", tmp_path / "tree"))
    died = tmp_path / "died"

    # Defined here, so Ray ships it by value: workers need not import the tests.
    class DiesOnce(EmbedWorker):
        def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            if not died.exists():
                died.touch()
                os._exit(1)  # the actor's process dies, as on a lost node
            return super().__call__(batch)

    monkeypatch.setattr(RayEmbedder, "worker_class", DiesOnce)
    build_index(tmp_path / "local", [tree], tiny_model_master)
    code, out, err = run_cli(
        "index", str(tree), "--model", str(tiny_model_master), "--index", str(tmp_path / "ray"),
        "--ray", "local",
    )  # fmt: skip
    assert code == 0, err
    assert died.exists() and "Indexed " in out
    assert chunk_rows(tmp_path / "ray") == chunk_rows(tmp_path / "local")
    on_ray, in_process = chunk_vectors(tmp_path / "ray"), chunk_vectors(tmp_path / "local")
    assert float(np.mean(np.sum(on_ray * in_process, axis=1))) >= 0.999


@pytest.mark.parametrize("how", ["flag", "env"])
def test_an_unreachable_cluster_is_one_error_line_and_changes_nothing(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    index_dir = Path(shutil.copytree(runs["local"], tmp_path / "index"))
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in index_dir.iterdir()}
    args = ["index", str(runs["tree"]), "--model", str(runs["model"]), "--index", str(index_dir)]
    if how == "flag":
        args += ["--ray", "127.0.0.1:1"]
    else:
        monkeypatch.setenv("GTE_SEARCH_RAY", "127.0.0.1:1")
    code, out, err = run_cli(*args, "--rebuild")
    assert code == 2 and out == ""
    assert err.startswith("gte-search: error: cannot reach the Ray cluster at 127.0.0.1:1")
    assert err.count("\n") == 1
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in index_dir.iterdir()}
    assert after == before
    # A first run against an unreachable cluster creates no index either.
    code, _, _ = run_cli(*args[:5], str(tmp_path / "new"), "--ray", "127.0.0.1:1")
    assert code == 2 and not (tmp_path / "new").exists()


def test_help_does_not_import_ray() -> None:
    probe = (
        "import sys\nfrom gte_search.cli import main\n"
        "try:\n    main(['index', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "--ray ADDRESS" in out.stdout and "GTE_SEARCH_RAY" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "False"
