"""Query vectors without torch: the model exported once to ONNX, run with ONNX Runtime and
the `tokenizers` library.

A fresh `gte-search search` spent ~3 s importing torch and transformers and loading the
model for one short query (benchmarks/cold_start.py). Importing onnxruntime and opening an
exported graph takes a fraction of that. The export needs torch, so it runs where torch is
loaded anyway (after `gte-search index`) or on the first search that finds none, and is
cached per model under the user cache directory (not in the index: ~4 bytes per weight,
shared by every index of that model).

The exported graph is the encoder with its pooling and L2 normalisation, in fp32, fed the
same token ids the torch path feeds (`Embedder.embed`: input ids and attention mask, cut to
`max_tokens`), so its vectors have cosine >= 0.999 to the torch fp32 ones (tested).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gte_search.models import ModelSource, Pooling

if TYPE_CHECKING:
    from gte_search.embed import Embedder

# Where exports live (default: the user cache directory), and which encoder searches use:
# "auto" (ONNX when onnxruntime is installed, exporting on first use), "onnx" or "torch".
CACHE_ENV = "GTE_SEARCH_CACHE"
QUERY_ENCODER_ENV = "GTE_SEARCH_QUERY_ENCODER"
QUERY_ENCODERS = ("auto", "onnx", "torch")
# Bumped when the exported graph or the manifest changes meaning; old exports are ignored.
EXPORT_FORMAT = 1
_MANIFEST = "manifest.json"
_GRAPH = "model.onnx"
# Weights beside the graph, not inside it: ORT then reads them directly instead of parsing
# 90 MB of protobuf, and opens the session in ~60 ms instead of ~250 (MiniLM, 2 cores).
_WEIGHTS = "model.onnx.data"
_TOKENIZER = "tokenizer.json"
_FAILED = "export-failed.txt"
# The files whose change makes an export stale (weights, config, vocabulary).
_MODEL_FILE_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model")
# ONNX Runtime's threads are told not to spin (below), and then one per core measured best
# beside two busy processes (p50 23-58 ms vs 81-87 ms with one thread), as fast idle.
ONNX_QUERY_THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


@dataclass(frozen=True)
class ExportManifest:
    model_id: str
    dimension: int
    pooling: Pooling
    max_tokens: int
    format: int = EXPORT_FORMAT


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("gte-search", appauthor=False))


def encoder_setting() -> str:
    from gte_search.config import SettingError

    value = os.environ.get(QUERY_ENCODER_ENV) or "auto"
    if value not in QUERY_ENCODERS:
        raise SettingError(
            f"{QUERY_ENCODER_ENV} must be one of {', '.join(QUERY_ENCODERS)}, not {value!r}"
        )
    return value


def onnx_runtime_installed() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def export_dir(source: ModelSource) -> Path:
    """The cache folder of `source`'s export: named by model, keyed by its files, so a new
    snapshot or edited weights get a fresh export."""
    import onnxruntime  # the fused graph holds this runtime's own operators

    runtime = onnxruntime.__version__
    digest = hashlib.sha256(f"{EXPORT_FORMAT}\0{runtime}\0{source.directory}".encode())
    for path in sorted(source.directory.iterdir()):
        if path.is_file() and path.suffix in _MODEL_FILE_SUFFIXES:
            stat = path.stat()
            digest.update(f"\0{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source.model_id.strip("/"))[-60:]
    return cache_root() / "query-encoders" / f"{slug}-{digest.hexdigest()[:16]}"


class OnnxQueryEncoder:
    """An `EmbeddingModel` for queries: unit-length float32 rows from the exported graph."""

    precision = "fp32"

    def __init__(self, directory: Path, *, threads: int = ONNX_QUERY_THREADS) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        manifest = json.loads((directory / _MANIFEST).read_text())
        self.model_id: str = manifest["model_id"]
        self.dimension: int = int(manifest["dimension"])
        self.pooling: Pooling = manifest["pooling"]
        self.max_tokens: int = int(manifest["max_tokens"])
        self.tokenizer = Tokenizer.from_file(str(directory / _TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning idle threads waste a core the user's other work wants.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # Optimised once at export (`_optimize`); doing it per process costs ~50-100 ms.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.session = onnxruntime.InferenceSession(
            str(directory / _GRAPH), options, providers=["CPUExecutionProvider"]
        )

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """One row per text; texts run one at a time (queries are short, so padding a batch
        would cost more than it saves)."""
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.asarray([self.tokenizer.encode(text).ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            (output,) = self.session.run(None, feed)
            vectors[row] = output[0]
            if on_batch:
                on_batch(1)
        return vectors

    def embed_query(self, query: str) -> np.ndarray:
        vector: np.ndarray = self.embed([query])[0]
        return vector

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        self.tokenizer.no_truncation()
        try:
            encoded = self.tokenizer.encode_batch(rows, add_special_tokens=False)
        finally:
            self.tokenizer.enable_truncation(self.max_tokens)
        return [float(len(item.ids)) for item in encoded]


def load_query_encoder(
    source: ModelSource,
    *,
    trust_remote_code: bool = False,
    on_export: Callable[[str], None] | None = None,
) -> OnnxQueryEncoder | None:
    """The ONNX query encoder of `source`, exporting it first if the cache has none; None
    when searches should use torch (asked for, onnxruntime missing, or the export failed
    before: that model's graph does not export, and trying again on each search would cost
    the torch load it is meant to save)."""
    if not prepare_query_encoder(source, trust_remote_code=trust_remote_code, on_export=on_export):
        return None
    return OnnxQueryEncoder(export_dir(source))


def prepare_query_encoder(
    source: ModelSource,
    *,
    trust_remote_code: bool = False,
    on_export: Callable[[str], None] | None = None,
) -> bool:
    """Make sure `source` has an export (`gte-search index` calls this when it is done, so
    the first search starts fast too); whether searches can use it."""
    setting = encoder_setting()
    if setting == "torch" or not onnx_runtime_installed():
        return False
    directory = export_dir(source)
    if (directory / _MANIFEST).is_file():
        return True
    if _failure_file(directory).is_file() and setting == "auto":
        return False
    if on_export:
        on_export(f"preparing a fast query encoder for {source.model_id} (once per model)")
    return export_query_encoder(source, trust_remote_code=trust_remote_code)


def _failure_file(directory: Path) -> Path:
    return directory.parent / f"{directory.name}.{_FAILED}"


def export_query_encoder(
    source: ModelSource,
    *,
    trust_remote_code: bool = False,
    embedder: Embedder | None = None,
) -> bool:
    """Export `source` to its cache folder (a no-op when it is there); whether it is there
    now. A failure is remembered in the cache and leaves searches on torch."""
    directory = export_dir(source)
    if (directory / _MANIFEST).is_file():
        return True
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=directory.parent))
    except OSError:  # an unwritable cache: searches still work, on torch
        return False
    try:
        manifest = _export(source, work, trust_remote_code, embedder)
        (work / _MANIFEST).write_text(json.dumps(asdict(manifest), indent=2))
        try:
            work.rename(directory)
        except OSError:
            if not (directory / _MANIFEST).is_file():  # else another process won the race
                raise
        return True
    except Exception as error:  # the exporter's failures are many and undocumented
        from gte_search.models import ModelError

        if isinstance(error, ModelError):
            raise
        with contextlib.suppress(OSError):
            _failure_file(directory).write_text(f"{type(error).__name__}: {error}\n")
        return False
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export(
    source: ModelSource, work: Path, trust_remote_code: bool, embedder: Embedder | None
) -> ExportManifest:
    import warnings

    import onnx
    import torch

    from gte_search.embed import Embedder, _pool

    if embedder is None or embedder.precision != "fp32" or embedder.device.type != "cpu":
        embedder = Embedder(
            source,
            trust_remote_code=trust_remote_code,
            precision="fp32",
            device=torch.device("cpu"),
        )
    pooling = embedder.pooling

    class Pooled(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask)
            pooled = _pool(hidden.last_hidden_state, attention_mask, pooling)
            return torch.nn.functional.normalize(pooled.float(), dim=-1)

    # A two-row batch of unequal length, so the trace sees padding and keeps both axes free.
    sample = embedder.tokenizer.pad(
        {"input_ids": embedder.tokenizer(["a query", "a longer query text"])["input_ids"]},
        return_tensors="pt",
    )
    inputs: tuple[Any, ...] = (sample["input_ids"], sample["attention_mask"])
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask")}
    traced = work / "traced.onnx"
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notices about shape-dependent branches
        torch.onnx.export(
            Pooled(embedder.model),
            inputs,
            str(traced),
            input_names=["input_ids", "attention_mask"],
            output_names=["vector"],
            dynamic_axes={**axes, "vector": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    raw = work / "raw.onnx"
    onnx.save_model(
        onnx.load(str(traced)),
        str(raw),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="raw.onnx.data",
        size_threshold=1024,
    )
    _optimize(raw, work / _GRAPH)
    for leftover in (traced, raw, work / "raw.onnx.data"):
        leftover.unlink()
    embedder.tokenizer.backend_tokenizer.save(str(work / _TOKENIZER))
    return ExportManifest(
        model_id=embedder.model_id,
        dimension=embedder.dimension,
        pooling=pooling,
        max_tokens=embedder.max_tokens,
    )


def _optimize(raw: Path, optimized: Path) -> None:
    """Fuse the graph for this CPU once (attention, layer norm, GELU) and save it, weights
    beside it; searches load it without optimising again."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = str(optimized)
    options.log_severity_level = 3
    weights = "session.optimized_model_external_initializers"
    options.add_session_config_entry(f"{weights}_file_name", _WEIGHTS)
    options.add_session_config_entry(f"{weights}_min_size_in_bytes", "1024")
    onnxruntime.InferenceSession(str(raw), options, providers=["CPUExecutionProvider"])
