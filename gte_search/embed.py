"""Turn texts into L2-normalised GTE vectors with transformers (the one encode path)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import transformers
from transformers import AutoConfig, AutoModel, AutoTokenizer

from gte_search.models import ModelError, ModelSource, Pooling

# Padding to the longest text in a batch wastes work, so batches are cut by padded tokens.
DEFAULT_BATCH_TOKENS = 16_384
# Chunks are cut to fit 512 tokens; long-context models need not attend over more for search.
MAX_SEQUENCE_TOKENS = 8_192


# transformers draws a bar per model load; gte-search draws its own progress.
transformers.logging.disable_progress_bar()


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Embedder:
    """A loaded model: `embed` returns one unit-length float32 row per text, in input order."""

    def __init__(
        self,
        source: ModelSource,
        *,
        trust_remote_code: bool = False,
        device: torch.device | None = None,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
    ) -> None:
        self.model_id = source.model_id
        self.pooling: Pooling = source.pooling
        self.device = device or pick_device()
        self.batch_tokens = batch_tokens
        try:
            config = AutoConfig.from_pretrained(
                source.directory, trust_remote_code=trust_remote_code
            )
            self.tokenizer = AutoTokenizer.from_pretrained(
                source.directory, trust_remote_code=trust_remote_code
            )
            model = AutoModel.from_pretrained(
                source.directory, config=config, trust_remote_code=trust_remote_code
            )
        except ValueError as error:
            if "trust_remote_code" in str(error):
                raise ModelError(
                    f"model {self.model_id!r} ships its own code; "
                    "rerun with --trust-remote-code if you trust it"
                ) from error
            raise ModelError(f"cannot load model {self.model_id!r}: {error}") from error
        except OSError as error:
            raise ModelError(f"cannot load model {self.model_id!r}: {error}") from error
        # fp16 halves memory traffic on GPUs; on CPUs it is slower than fp32.
        dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.model = model.to(self.device, dtype=dtype).eval()
        self.dimension = int(config.hidden_size)
        limits = [
            getattr(config, "max_position_embeddings", None),
            self.tokenizer.model_max_length,
            source.trained_max_tokens,
        ]
        self.max_tokens = min([MAX_SEQUENCE_TOKENS] + [n for n in limits if isinstance(n, int)])

    def count_line_tokens(self, rows: list[str]) -> list[float]:
        """Exact token count of each line, for chunking under the model's own budget."""
        if not rows:
            return []
        encoded = self.tokenizer(rows, add_special_tokens=False, truncation=False)
        return [float(len(ids)) for ids in encoded["input_ids"]]

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
        return self.embed([query])[0]


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
