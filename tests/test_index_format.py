"""An index written by an earlier release opens, upgrades and searches."""

from __future__ import annotations

import shutil
from pathlib import Path

from gte_search.embed import Embedder
from gte_search.index import SearchIndex
from gte_search.models import resolve_model
from gte_search.store import schema

# Written by gte-search 0.1.0 (commit 82f87cd) with the bundled all-MiniLM-L6-v2, fp32, from
# a two-file project: pkg/retry.py (compute_backoff, RetryPolicy) and docs/guide.md.
RELEASED_INDEX = Path(__file__).parent / "data" / "index-0.1.0"


def test_an_index_from_0_1_0_opens_upgrades_and_searches(tmp_path: Path, minilm_dir: Path) -> None:
    index_dir = Path(shutil.copytree(RELEASED_INDEX, tmp_path / "index"))
    with SearchIndex.open(index_dir) as index:
        assert index.store.get_meta("schema_version") == str(schema.SCHEMA_VERSION)
        assert index.model is not None and index.model.dimension == 384
        assert not index.load_vectors()  # its FAISS file still matches its database
        lexical = index.search("RetryPolicy", None, k=3, mode="lexical")
        assert lexical[0].symbol == "RetryPolicy" and lexical[0].path == "pkg/retry.py"
        embedder = Embedder(resolve_model(index.model.model_id, named_by_user=True))
        hits = index.search("how long to wait before trying again", embedder, k=3)
        assert {"compute_backoff", "RetryPolicy"} & {hit.symbol for hit in hits}
        docs = index.search("install the package", embedder, k=1, mode="semantic")
        assert docs[0].path == "docs/guide.md"
