"""The lexical index: code-aware tokens, the FTS5 table, and upgrading a schema-1 index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gte_search.embed import Embedder
from gte_search.index import SearchIndex
from gte_search.lexical import (
    identifier_parts,
    lexical_text,
    match_expression,
    named_symbols,
    query_terms,
)
from gte_search.store import schema


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("RetryPolicy", ["retry", "policy"]),
        ("retryPolicy", ["retry", "policy"]),
        ("retry_policy", ["retry", "policy"]),
        ("RETRY_POLICY", ["retry", "policy"]),
        ("HTTPAdapter", ["http", "adapter"]),
        ("parseURL2", ["parse", "url", "2"]),
        ("__init__", ["init"]),
        ("x", ["x"]),
    ],
)
def test_identifiers_split_into_parts(name: str, parts: list[str]) -> None:
    assert identifier_parts(name) == parts


def test_every_spelling_of_a_name_indexes_the_same_terms() -> None:
    spellings = ["RetryPolicy", "retry_policy", "retryPolicy", "RETRY_POLICY"]
    assert {lexical_text(s) for s in spellings} == {"retrypolicy retry policy"}
    assert lexical_text("retry-policy") == "retry policy"
    assert lexical_text("Client.send") == "client send"
    assert lexical_text("src/http_client/pool.py") == "src httpclient http client pool py"
    assert lexical_text(None) == "" and lexical_text("") == ""


def test_queries_drop_stop_words_and_join_neighbours() -> None:
    assert query_terms("where is the retry policy") == ["retry", "policy", "retrypolicy"]
    assert query_terms("RetryPolicy") == ["retrypolicy", "retry", "policy"]
    assert query_terms("how is it") == [] and match_expression("the of") is None
    # FTS5 syntax typed by a user is quoted into plain terms.
    assert match_expression('a* NEAR("x" OR') == '"near" OR "x" OR "nearx"'


def test_only_identifier_shaped_words_name_symbols() -> None:
    query = "HTTPAdapter Client.send send_request retryPolicy list status WAL Store"
    assert named_symbols(query) == ["HTTPAdapter", "Client.send", "send_request", "retryPolicy"]
    assert named_symbols("send") == ["send"]
    assert named_symbols("what does Value::pointer return") == ["Value.pointer"]
    assert named_symbols("Store") == ["Store"]


def _write_policies(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "core.py").write_text(
        "class RetryPolicy:\n    attempts = 3\n\n\n"
        "def load_retry_policy(path):\n    return open(path).read()\n\n\n"
        "def unrelated():\n    return 42\n"
    )
    return root


def test_lexical_search_finds_every_spelling_without_a_model(
    tmp_path: Path, embedder: Embedder
) -> None:
    root = _write_policies(tmp_path / "repo")
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([root], embedder)
    hits = index.search("retry policy", None, k=10, mode="lexical")
    assert {h.symbol for h in hits} == {"RetryPolicy", "load_retry_policy"}
    assert all(h.score > 0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert index.search("the", None, mode="lexical") == []
    with pytest.raises(ValueError, match="embedder"):
        index.search("retry policy", None, mode="hybrid")
    with pytest.raises(ValueError, match="mode must be"):
        index.search("retry policy", embedder, mode="fuzzy")  # type: ignore[arg-type]


def test_the_lexical_index_follows_changes_to_chunks(tmp_path: Path, embedder: Embedder) -> None:
    root = _write_policies(tmp_path / "repo")
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([root], embedder)
    (root / "pkg" / "core.py").write_text("def backoff_schedule():\n    return [1, 2, 4]\n")
    index.update([root], embedder)
    assert index.search("retry policy", None, mode="lexical") == []
    assert [h.symbol for h in index.search("backoff", None, mode="lexical")] == ["backoff_schedule"]
    counts = index.store.counts()
    assert counts.lexical == counts.chunks
    index.store.clear()
    assert index.store.counts().lexical == 0


def test_a_schema_1_index_is_upgraded_and_backfilled(tmp_path: Path, embedder: Embedder) -> None:
    root = _write_policies(tmp_path / "repo")
    with SearchIndex.open(tmp_path / "index", create=True) as index:
        index.update([root], embedder)
        chunks = index.store.counts().chunks
    # Take the file back to schema 1, as the first release wrote it: no FTS, no skip kinds,
    # no language index, no index of vector ids.
    with sqlite3.connect(tmp_path / "index" / "index.db") as db:
        for trigger in ("insert", "delete", "update"):
            db.execute(f"DROP TRIGGER chunks_fts_{trigger}")
        db.execute(f"DROP TABLE {schema.FTS_TABLE}")
        db.execute("ALTER TABLE files DROP COLUMN skip_kind")
        db.execute("DROP INDEX idx_chunks_language")
        db.execute(f"DROP INDEX {schema.VECTOR_IDS_INDEX}")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    upgraded = SearchIndex.open(tmp_path / "index")
    assert upgraded.store.get_meta("schema_version") == str(schema.SCHEMA_VERSION)
    assert upgraded.store.counts().lexical == chunks
    hits = upgraded.search("RetryPolicy", embedder, k=3)
    assert hits[0].symbol == "RetryPolicy"
    # The upgraded index keeps both sides in step as files change.
    (root / "pkg" / "extra.py").write_text("def retry_policy_for(host):\n    return None\n")
    upgraded.update([root], embedder)
    assert "retry_policy_for" in {
        h.symbol for h in upgraded.search("retry policy", None, mode="lexical")
    }


def test_a_word_in_most_chunks_still_finds_what_holds_only_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    # "request" is in every handler, "zebra" in two: the rows with the telling word come
    # first, and when they are too few the rows holding only the common word still follow.
    root = tmp_path / "repo"
    root.mkdir()
    for n in range(12):
        (root / f"handler_{n}.py").write_text(
            f"def handle_{n}(request):\n    return request.body\n"
        )
    for n in range(2):
        (root / f"stripes_{n}.py").write_text(
            f"def paint_{n}(request):\n    return zebra_stripes(request)\n"
        )
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([root], embedder)
    hits = index.search("request zebra", None, k=6, mode="lexical")
    assert {h.path for h in hits[:2]} == {"stripes_0.py", "stripes_1.py"}
    assert len(hits) == 6 and all(h.path.startswith("handler_") for h in hits[2:])
