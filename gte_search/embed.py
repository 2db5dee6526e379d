"""Turn texts into L2-normalised GTE vectors with transformers (the one encode path)."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import numpy as np
import torch
import transformers
from transformers import (
    AutoConfig,
    AutoModel,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedTokenizerBase,
)

from gte_search.config import precision_setting
from gte_search.models import ModelError, ModelSource, Pooling

# Padding to the longest text in a batch wastes work, so batches are cut by padded tokens.
# GPUs want big batches; on CPUs ~4k tokens (e.g. 64 chunks of 64) keeps activations in
# cache and ran ~20% faster than 16k for MiniLM on 2 cores (benchmarks/speed.py).
DEFAULT_BATCH_TOKENS = 16_384
CPU_BATCH_TOKENS = 4_096
# A query is one short text, which one thread embeds as fast; torch's OpenMP threads spin
# while they wait, so beside two busy processes a query took 3.4x its idle time with one
# thread per core and 1.5x with one (benchmarks/busy_latency.py). Batches keep every core.
QUERY_THREADS = 1
# `auto`: fp16 on CUDA; bf16 on CPUs that compute it natively (AVX512-BF16, AMX), where it
# keeps cosine ~0.9999 to fp32 at about twice the speed; else CPU_FALLBACK_PRECISION.
# int8 keeps mean cosine 0.992 to fp32 and loses no NDCG@10 on benchmarks/quality.py, the bar
# for a default (README, Speed), and runs 1.6x fp32 on CPUs without bf16 units.
Precision = Literal["auto", "fp32", "int8", "bf16", "fp16"]
CPU_FALLBACK_PRECISION = "int8"


# transformers draws a bar per model load; gte-search draws its own progress.
transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware; emulated bf16 is slower than fp32."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = next((line for line in handle if line.startswith("flags")), "")
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))


def resolve_precision(precision: str, device: torch.device) -> str:
    """The concrete precision `precision` ("auto" or one of PRECISIONS) means on `device`."""
    if precision == "auto":
        if device.type == "cuda":
            return "fp16"
        return "bf16" if native_bf16() else CPU_FALLBACK_PRECISION
    if device.type == "cuda" and precision == "int8":
        raise ModelError("--precision int8 is a CPU path; use fp32 or auto on a GPU")
    return precision


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op threads set to `count` inside, restored after."""
    before = torch.get_num_threads()
    if before != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if before != count:
            torch.set_num_threads(before)


def use_all_cores() -> int:
    """One intra-op thread per core this process may run on (torch may count fewer)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    if torch.get_num_threads() != cores:
        torch.set_num_threads(cores)
    return cores


class Embedder:
    """A loaded model: `embed` returns one unit-length float32 row per text, in input order."""

    def __init__(
        self,
        source: ModelSource,
        *,
        trust_remote_code: bool = False,
        device: torch.device | None = None,
        batch_tokens: int | None = None,
        precision: str | None = None,
    ) -> None:
        self.model_id = source.model_id
        self.pooling: Pooling = source.pooling
        self.device = device or pick_device()
        if batch_tokens is None:
            batch_tokens = CPU_BATCH_TOKENS if self.device.type == "cpu" else DEFAULT_BATCH_TOKENS
        self.batch_tokens = batch_tokens
        with _model_errors(self.model_id):
            config, self.tokenizer = load_config_and_tokenizer(source, trust_remote_code)
            model = AutoModel.from_pretrained(
                source.directory, config=config, trust_remote_code=trust_remote_code
            )
        self._line_tokenizer: PreTrainedTokenizerBase | None = None
        self.precision = resolve_precision(precision_setting(precision), self.device)
        if self.device.type == "cpu":
            use_all_cores()
        self.model = _prepare_model(model, self.device, self.precision)
        self.dimension = int(config.hidden_size)
        self.max_tokens = source.sequence_limit(
            getattr(config, "max_position_embeddings", None), self.tokenizer.model_max_length
        )

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        """Exact token count of each line, for chunking under the model's own budget."""
        if not rows:
            return []
        # Chunking runs in the read-ahead thread while `embed` tokenizes on the caller's; a
        # fast tokenizer used from two threads at once fails ("Already borrowed"), so the
        # chunker gets its own copy.
        if self._line_tokenizer is None:
            self._line_tokenizer = copy.deepcopy(self.tokenizer)
        return count_tokens_per_line(self._line_tokenizer, rows)

    def embed(
        self, texts: Sequence[str], on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed `texts`; `on_batch` is told how many texts each finished batch held."""
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        encoded = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_tokens, add_special_tokens=True
        )["input_ids"]
        # Longest first: similar lengths share a batch, and a too-large batch fails at once.
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]), reverse=True)
        with torch.inference_mode():
            for batch in _batches_by_tokens(
                order, [len(ids) for ids in encoded], self.batch_tokens
            ):
                padded = self.tokenizer.pad(
                    {"input_ids": [encoded[i] for i in batch]}, return_tensors="pt"
                ).to(self.device)
                hidden = self.model(**padded).last_hidden_state
                pooled = _pool(hidden, padded["attention_mask"], self.pooling)
                pooled = torch.nn.functional.normalize(pooled.float(), dim=-1)
                vectors[batch] = pooled.cpu().numpy()
                if on_batch:
                    on_batch(len(batch))
        return vectors

    def embed_query(self, query: str) -> np.ndarray:
        # GTE needs no instruction prefix for queries (shared/MODELS.md).
        with torch_threads(QUERY_THREADS):
            vector: np.ndarray = self.embed([query])[0]
        return vector


def load_config_and_tokenizer(
    source: ModelSource, trust_remote_code: bool
) -> tuple[PretrainedConfig, PreTrainedTokenizerBase]:
    """What a model's shape and budget need, without its weights (a Ray driver needs no more)."""
    with _model_errors(source.model_id):
        config = AutoConfig.from_pretrained(source.directory, trust_remote_code=trust_remote_code)
        tokenizer = AutoTokenizer.from_pretrained(
            source.directory, trust_remote_code=trust_remote_code
        )
    return config, tokenizer


@contextmanager
def _model_errors(model_id: str) -> Iterator[None]:
    try:
        yield
    except ValueError as error:
        if "trust_remote_code" in str(error):
            raise ModelError(
                f"model {model_id!r} ships its own code; "
                "rerun with --trust-remote-code if you trust it"
            ) from error
        raise ModelError(f"cannot load model {model_id!r}: {error}") from error
    except OSError as error:
        raise ModelError(f"cannot load model {model_id!r}: {error}") from error


def count_tokens_per_line(tokenizer: PreTrainedTokenizerBase, rows: list[str]) -> list[float]:
    # verbose=False: a long line is expected here (it is cut for embedding later), so
    # transformers' warning about sequences over the model's length would only confuse.
    encoded = tokenizer(rows, add_special_tokens=False, truncation=False, verbose=False)
    return [float(len(ids)) for ids in encoded["input_ids"]]


def _prepare_model(model: torch.nn.Module, device: torch.device, precision: str) -> torch.nn.Module:
    # fp16 halves memory traffic on GPUs; on CPUs it is slower than fp32.
    if precision == "fp16":
        return model.to(device, dtype=torch.float16).eval()
    if precision == "bf16":
        return model.to(device, dtype=torch.bfloat16).eval()
    model = model.to(device, dtype=torch.float32).eval()
    if precision == "int8":
        model = _quantize_int8(model)
    return model


def _quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 on the Linear layers: per-channel int8 weights, activations quantised per
    batch; softmax, layer norms and pooling stay fp32. Two kinds of layer stay fp32 too, as
    measured on MiniLM: the feed-forward output projections, whose inputs (after GELU) have
    outliers that per-tensor activation scales crush (mean cosine to fp32 0.975 with them,
    0.99 without), and the first layer, whose errors every later layer amplifies."""
    import warnings

    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and not _keeps_fp32(name)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that eager quantisation moves
        quantized: torch.nn.Module = quantize_dynamic(  # type: ignore[no-untyped-call]
            model, spec, dtype=torch.qint8
        )
        return quantized


def _keeps_fp32(name: str) -> bool:
    # BERT names them layer.N.output.dense (the attention's is layer.N.attention.output.dense).
    feed_forward_output = name.endswith("output.dense") and "attention" not in name
    return feed_forward_output or ".layer.0." in f".{name}"


def _batches_by_tokens(order: list[int], lengths: list[int], batch_tokens: int) -> list[list[int]]:
    """Cut `order` (longest first) into batches whose padded size stays under `batch_tokens`."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        padded_len = lengths[current[0]] if current else lengths[index]
        if current and padded_len * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    if pooling == "cls":
        return hidden[:, 0]
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
