from __future__ import annotations

from pathlib import Path

import pytest

from gte_search.embed import Embedder
from gte_search.index import SearchIndex
from gte_search.models import resolve_model
from gte_search.query import QueryError, SearchFilters, make_filters, parse_query


def test_filters_are_taken_out_of_the_query_and_aliases_resolved() -> None:
    parsed = parse_query("lang:py path:internal/* how are   retries scheduled kind:code root:api")
    assert parsed.text == "how are retries scheduled"
    assert parsed.filters == SearchFilters(("python",), ("internal/*",), "code", ("api",))
    assert parsed.filters.describe() == "lang:python path:internal/* kind:code root:api"


def test_other_colon_words_stay_in_the_query() -> None:
    parsed = parse_query("parse due:today tag:work filters")
    assert parsed.text == "parse due:today tag:work filters" and not parsed.filters


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(QueryError, match="kind must be one of"):
        parse_query("kind:tests retry")
    with pytest.raises(QueryError):
        make_filters(kind="binary")


@pytest.fixture
def filtered_index(tmp_path: Path, tiny_model: Path) -> tuple[SearchIndex, Embedder]:
    root = tmp_path / "repo"
    for name in ("src/a.py", "src/b.py", "internal/c.go", "internal/deep/d.go", "docs/e.md"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(f"def f{i}():\n    return {i}" for i in range(6))
        if name.endswith(".go"):
            body = "package x\n\n" + "\n\n".join(
                f"func F{i}() int {{ return {i} }}" for i in range(6)
            )
        if name.endswith(".md"):
            body = "\n\n".join(
                f"# Part {i}\n\nParagraph number {i} about things." for i in range(6)
            )
        path.write_text(body + "\n")
    embedder = Embedder(resolve_model(str(tiny_model), named_by_user=True))
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([root], embedder)
    return index, embedder


def test_filters_apply_before_the_top_k_cut(filtered_index: tuple[SearchIndex, Embedder]) -> None:
    index, embedder = filtered_index
    go = index.search("return", embedder, k=5, filters=make_filters(languages=("golang",)))
    assert len(go) == 5 and {h.language for h in go} == {"go"}
    deep = index.search("return", embedder, k=50, filters=make_filters(paths=("internal/deep/",)))
    assert deep and {h.path for h in deep} == {"internal/deep/d.go"}
    glob = index.search("return", embedder, k=50, filters=make_filters(paths=("src/*.py",)))
    assert {h.path for h in glob} == {"src/a.py", "src/b.py"}
    docs = index.search("things", embedder, k=3, filters=make_filters(kind="doc"))
    assert len(docs) == 3 and {h.kind for h in docs} == {"doc"}
    by_root = index.search("return", embedder, k=3, filters=make_filters(roots=("repo",)))
    assert len(by_root) == 3
    with pytest.raises(QueryError, match="root:other is not a root of this index; roots: repo"):
        index.search("return", embedder, k=3, filters=make_filters(roots=("other",)))
    with pytest.raises(QueryError, match=r"path:nowhere/\* matches no indexed file"):
        index.search("return", embedder, k=3, filters=make_filters(paths=("nowhere/*",)))


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_filters_apply_before_the_cut_in_every_mode(
    filtered_index: tuple[SearchIndex, Embedder], mode: str
) -> None:
    index, embedder = filtered_index
    go = index.search("return", embedder, k=5, filters=make_filters(("golang",)), mode=mode)
    assert len(go) == 5 and {h.language for h in go} == {"go"}
    glob = make_filters(paths=("src/*.py",))
    found = index.search("return", embedder, k=50, filters=glob, mode=mode)
    assert len(found) == 12 and {h.path for h in found} == {"src/a.py", "src/b.py"}
    docs = index.search("paragraph", embedder, k=3, filters=make_filters(kind="doc"), mode=mode)
    assert len(docs) == 3 and {h.kind for h in docs} == {"doc"}
    with pytest.raises(QueryError, match="root:other is not a root"):
        index.search("return", embedder, k=3, filters=make_filters(roots=("other",)), mode=mode)
