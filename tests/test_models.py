"""Model loading: local folders, the Hugging Face cache, the offline fallback, pooling."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from gte_search.embed import Embedder
from gte_search.models import BUNDLED_MODEL_ID, ModelError, read_pooling, resolve_model
from tests.conftest import build_tiny_bert


def _put_in_hf_cache(model_dir: Path, cache: Path, repo_id: str) -> None:
    """Lay a model out exactly as huggingface_hub caches a downloaded snapshot."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(model_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def test_local_folder_loads_and_embeds_unit_vectors_in_order(tiny_model: Path) -> None:
    source = resolve_model(str(tiny_model), named_by_user=True)
    assert source.model_id == str(tiny_model.resolve()) and source.pooling == "mean"
    embedder = Embedder(source)
    texts = ["def send(self): return 1", "retry", "parse the cookie header " * 40, ""]
    together = embedder.embed(texts)
    assert together.shape == (4, 32) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    one_by_one = np.stack([embedder.embed([t])[0] for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    assert not np.allclose(together[0], together[1])


def test_batches_are_cut_by_token_budget(tiny_model: Path) -> None:
    source = resolve_model(str(tiny_model), named_by_user=True)
    seen: list[int] = []
    embedder = Embedder(source, batch_tokens=64)
    vectors = embedder.embed(["word " * n for n in range(1, 40)], on_batch=seen.append)
    assert sum(seen) == 39 and len(seen) > 3
    reference = Embedder(source).embed(["word " * n for n in range(1, 40)])
    np.testing.assert_allclose(vectors, reference, atol=1e-5)


def test_hub_id_loads_from_the_hugging_face_cache(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    _put_in_hf_cache(tiny_model, cache, "thenlper/gte-small")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    source = resolve_model("thenlper/gte-small", named_by_user=False)
    assert source.model_id == "thenlper/gte-small" and source.notice is None
    assert source.pooling == "mean"
    assert Embedder(source).embed(["hello"]).shape == (1, 32)


def test_default_model_falls_back_to_the_bundled_one_offline(minilm_dir: Path) -> None:
    source = resolve_model("thenlper/gte-small", named_by_user=False)
    assert source.model_id == BUNDLED_MODEL_ID and source.directory == minilm_dir
    assert source.notice and "thenlper/gte-small" in source.notice
    assert BUNDLED_MODEL_ID in source.notice


def test_a_named_model_never_falls_back() -> None:
    with pytest.raises(ModelError, match="cannot be reached") as raised:
        resolve_model("thenlper/gte-small", named_by_user=True)
    assert "--model" in str(raised.value)
    with pytest.raises(ModelError):
        resolve_model("thenlper/gte-base", named_by_user=False)


def test_missing_local_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "nope"), named_by_user=True)


def test_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot load model"):
        Embedder(resolve_model(str(tmp_path), named_by_user=True))


def test_pooling_comes_from_sentence_transformers_config(tmp_path: Path) -> None:
    cls_model = build_tiny_bert(tmp_path / "cls", sentence_transformers_pooling="cls")
    source = resolve_model(str(cls_model), named_by_user=True)
    assert source.pooling == "cls"
    embedder = Embedder(source)
    mean_source = resolve_model(str(build_tiny_bert(tmp_path / "mean")), named_by_user=True)
    # Same weights (same seed), different pooling: the vectors must differ.
    assert not np.allclose(
        embedder.embed(["retry http"]), Embedder(mean_source).embed(["retry http"])
    )


def test_pooling_by_family_when_the_checkpoint_does_not_say(tmp_path: Path) -> None:
    assert read_pooling(tmp_path, "Alibaba-NLP/gte-base-en-v1.5") == "cls"
    assert read_pooling(tmp_path, "Alibaba-NLP/gte-modernbert-base") == "cls"
    assert read_pooling(tmp_path, "thenlper/gte-large") == "mean"


def test_bundled_minilm_matches_sentence_transformers(minilm_dir: Path) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    texts = ["def schedule_retry(attempt): ...", "where are HTTP retries scheduled"]
    ours = Embedder(resolve_model(BUNDLED_MODEL_ID, named_by_user=True)).embed(texts)
    theirs = sentence_transformers.SentenceTransformer(str(minilm_dir), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    np.testing.assert_allclose((ours * theirs).sum(axis=1), 1.0, atol=1e-4)


_NEW_CONFIG = """from transformers import BertConfig


class NewConfig(BertConfig):
    model_type = "new"
"""
_NEW_MODEL = """from transformers import BertModel

from .configuration import NewConfig


class NewModel(BertModel):
    config_class = NewConfig
"""


def _tiny_remote_code_model(folder: Path) -> Path:
    """A checkpoint shaped like Alibaba-NLP gte v1.5: its own config and model classes,
    reached through `auto_map`, loadable only with trust_remote_code."""
    import json

    build_tiny_bert(folder)
    (folder / "configuration.py").write_text(_NEW_CONFIG)
    (folder / "modeling.py").write_text(_NEW_MODEL)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "new"
    config["architectures"] = ["NewModel"]
    config["auto_map"] = {
        "AutoConfig": "configuration.NewConfig",
        "AutoModel": "modeling.NewModel",
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _tiny_modernbert(folder: Path) -> Path:
    from transformers import ModernBertConfig, ModernBertModel

    build_tiny_bert(folder)  # for its tokenizer; the weights are replaced below
    (folder / "model.safetensors").unlink()
    config = ModernBertConfig(
        vocab_size=200,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        pad_token_id=0,
        cls_token_id=2,
        sep_token_id=3,
        bos_token_id=2,
        eos_token_id=3,
        global_attn_every_n_layers=1,
        local_attention=16,
    )
    ModernBertModel(config).save_pretrained(folder)
    return folder


def test_gte_v15_shaped_model_needs_trust_remote_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    _put_in_hf_cache(
        _tiny_remote_code_model(tmp_path / "v15"), cache, "Alibaba-NLP/gte-base-en-v1.5"
    )
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    source = resolve_model("Alibaba-NLP/gte-base-en-v1.5", named_by_user=True)
    assert source.pooling == "cls"
    with pytest.raises(ModelError, match="--trust-remote-code"):
        Embedder(source)
    vectors = Embedder(source, trust_remote_code=True).embed(["retry the request"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_gte_modernbert_shaped_model_loads_natively_with_cls_pooling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    _put_in_hf_cache(_tiny_modernbert(tmp_path / "mb"), cache, "Alibaba-NLP/gte-modernbert-base")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    source = resolve_model("Alibaba-NLP/gte-modernbert-base", named_by_user=True)
    embedder = Embedder(source)
    assert embedder.pooling == "cls" and embedder.dimension == 32
    texts = ["def send(self): pass", "cookie jar"]
    np.testing.assert_allclose(
        embedder.embed(texts), np.stack([embedder.embed([t])[0] for t in texts]), atol=1e-5
    )
