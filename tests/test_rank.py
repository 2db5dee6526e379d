"""Fusion: reciprocal rank fusion, the exact-symbol boost, and de-duplication."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from gte_search.embed import Embedder
from gte_search.index import SearchIndex
from gte_search.lexical import names_symbol
from gte_search.models import resolve_model
from gte_search.rank import (
    RRF_K,
    fuse_by_definition,
    rank_hybrid,
    reciprocal_rank_fusion,
    without_overlaps,
)
from gte_search.signals import (
    DEFINITION_BOOST,
    REEXPORT_BOOST,
    QueryIntent,
    definition_boosts,
    path_boosts,
)
from gte_search.store import StoredChunk
from indexer.chunk import Chunk


def test_rrf_sums_reciprocal_ranks_over_rankings() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1]])
    assert fused[1] == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2))
    assert fused[3] == pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1))
    assert fused[2] == pytest.approx(1 / (RRF_K + 2))
    # Found by both beats found high by one.
    assert sorted(fused, key=fused.__getitem__, reverse=True) == [1, 3, 2]
    assert reciprocal_rank_fusion([[], []]) == {}


def test_pieces_of_one_definition_fuse_as_one() -> None:
    # Chunks 1 and 2 are two pieces of one function; each ranking puts a different piece
    # first and misses the other, and both put chunk 3 second.
    rankings = [[1, 3, 4], [2, 3, 5]]
    plain = reciprocal_rank_fusion(rankings)
    assert max(plain, key=plain.__getitem__) == 3
    fused = fuse_by_definition(rankings, lambda i: "f" if i in (1, 2) else i)
    assert fused[1] == pytest.approx(2 / (RRF_K + 1))  # the leading piece scores for both
    assert fused[2] == pytest.approx(1 / (RRF_K + 1))  # the other keeps its own score
    assert sorted(fused, key=fused.__getitem__, reverse=True)[:3] == [1, 3, 2]


def test_a_symbol_is_named_by_its_full_or_last_name_with_case() -> None:
    assert names_symbol("Client.send", ["send"]) and names_symbol("Client.send", ["Client.send"])
    assert names_symbol("HTTPAdapter", ["HTTPAdapter"])
    assert not names_symbol("Client.send", ["Client"]) and not names_symbol("Open", ["open"])
    assert not names_symbol(None, ["send"]) and not names_symbol("send", [])
    # A package in front, as Go and Rust code calls a function, is not part of its symbol.
    assert names_symbol("RegisterMethod", ["chi.RegisterMethod"])
    assert names_symbol("from_str", ["serde_json.from_str"])
    assert not names_symbol("send", ["Client.send"])  # a class in front is


@dataclass(frozen=True)
class Place:
    root: str
    path: str
    start_line: int
    end_line: int


def test_overlapping_chunks_of_one_file_keep_the_better_one() -> None:
    items = [
        Place("/r", "a.py", 10, 20),
        Place("/r", "a.py", 15, 30),  # overlaps the first: dropped
        Place("/r", "a.py", 21, 25),  # touches but does not overlap: kept
        Place("/r", "b.py", 10, 20),  # another file: kept
        Place("/s", "a.py", 10, 20),  # another root: kept
        Place("/r", "a.py", 1, 10),  # shares line 10: dropped
    ]
    assert without_overlaps(items) == [items[0], items[2], items[3], items[4]]


@pytest.fixture
def usage_index(tmp_path: Path, tiny_model: Path) -> tuple[SearchIndex, Embedder]:
    """A definition of `RetryPolicy` and several places that only use it."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "policy.py").write_text(
        "class RetryPolicy:\n"
        "    def __init__(self, attempts=3):\n"
        "        self.attempts = attempts\n"
    )
    for number in range(4):
        (root / "pkg" / f"use{number}.py").write_text(
            "from pkg.policy import RetryPolicy\n\n\n"
            f"def client_{number}(policy: RetryPolicy = RetryPolicy()):\n"
            "    # RetryPolicy decides; RetryPolicy retries.\n"
            "    return RetryPolicy(attempts=policy.attempts + 1)\n"
        )
    embedder = Embedder(resolve_model(str(tiny_model), named_by_user=True))
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([root], embedder)
    return index, embedder


def test_an_identifier_query_ranks_its_definition_first(
    usage_index: tuple[SearchIndex, Embedder],
) -> None:
    index, embedder = usage_index
    hits = index.search("RetryPolicy", embedder, k=5)
    assert (hits[0].path, hits[0].symbol) == ("pkg/policy.py", "RetryPolicy")
    assert len(hits) == 5 and len({(h.path, h.start_line) for h in hits}) == 5
    assert hits[0].score > hits[1].score


def test_a_path_word_shared_by_most_candidates_lifts_none_of_them() -> None:
    # "requests" names the package folder of every candidate, so it tells them apart no
    # better than no word; "adapters" names one file and lifts only that file's chunks.
    def chunk(chunk_id: int, path: str) -> StoredChunk:
        code = Chunk(path, 1, 3, "code", "python", f"f{chunk_id}", "def f(): pass")
        return StoredChunk(chunk_id, "/src", code)

    files = [f"requests/module_{n}.py" for n in range(30)] + ["requests/adapters.py"]
    stored = {n: chunk(n, path) for n, path in enumerate(files)}
    boosts = path_boosts(QueryIntent.of("how requests adapters send a request"), stored)
    assert set(boosts) == {len(files) - 1}


def test_a_name_defined_in_many_files_lifts_each_of_them_less() -> None:
    # `toString` is defined by most classes, so naming it says little about which one is
    # meant; `EnumTypeAdapter` is defined once and gets the whole definition boost.
    def chunk(chunk_id: int, path: str, symbol: str) -> StoredChunk:
        code = Chunk(path, 1, 3, "code", "java", symbol, "class X {}")
        return StoredChunk(chunk_id, "/src", code)

    stored = {n: chunk(n, f"Type{n}.java", f"Type{n}.toString") for n in range(8)}
    stored[8] = chunk(8, "EnumTypeAdapter.java", "EnumTypeAdapter")
    intent = QueryIntent.of("how EnumTypeAdapter uses toString for enum names")
    boosts = definition_boosts(intent, stored, {})
    assert boosts[8] == DEFINITION_BOOST
    assert 0 < boosts[0] <= DEFINITION_BOOST / 4


def test_a_re_export_names_what_it_exports_not_the_module_it_comes_from() -> None:
    # `from .retry import RetryPolicy` re-exports RetryPolicy; it does not re-export `retry`,
    # so a one-word query "retry" must not lift the package's __init__.py.
    init = Chunk(
        "pkg/__init__.py",
        1,
        4,
        "code",
        "python",
        None,
        "from .retry import RetryPolicy\nfrom .client import Client\n\n__all__ = ['Client']\n",
    )
    stored = {1: StoredChunk(1, "/src", init)}
    assert definition_boosts(QueryIntent.of("RetryPolicy"), stored, {}) == {1: REEXPORT_BOOST}
    assert definition_boosts(QueryIntent.of("retry"), stored, {}) == {}


def test_a_named_definition_cut_in_pieces_lifts_its_best_piece_not_all_of_them() -> None:
    # A question names `Plug.Parsers`, whose long @moduledoc is cut into four chunks (all with
    # the module's symbol); the answer is another module's section, first in both lists. The
    # named module's best piece comes first, and the answer right after it, not after every
    # piece of the module.
    def chunk(chunk_id: int, path: str, symbol: str) -> StoredChunk:
        code = Chunk(path, chunk_id * 20, chunk_id * 20 + 19, "code", "elixir", symbol, "x")
        return StoredChunk(chunk_id, "/plug", code)

    stored = {n: chunk(n, "lib/plug/parsers.ex", "Plug.Parsers") for n in (1, 2, 3, 4)}
    stored[5] = chunk(5, "lib/plug/builder.ex", "Plug.Builder")
    query = "can I run Plug.Parsers only on some routes and skip it on others?"
    rankings = ([(5, 0.9)], [(5, 9.0), (1, 8.0), (2, 7.0), (3, 6.0), (4, 5.0)])
    ranked = [i for i, _ in rank_hybrid(query, rankings, stored, signals=("definitions",))]
    assert ranked == [1, 5, 2, 3, 4]


def test_a_function_asked_for_with_its_package_ranks_its_definition_first(
    tmp_path: Path, tiny_model: Path
) -> None:
    # Go code calls it `chi.RegisterMethod`; its definition's symbol is `RegisterMethod`.
    root = tmp_path / "chi"
    root.mkdir()
    (root / "tree.go").write_text(
        "package chi\n\n"
        "// RegisterMethod adds support for custom HTTP method handlers.\n"
        "func RegisterMethod(method string) {\n"
        "\tmethodMap[method] = mALL\n"
        "}\n"
    )
    (root / "CHANGELOG.md").write_text(
        "# Changelog\n\n"
        + "\n\n".join(
            f"## v1.{n}\n\nchi.RegisterMethod: RegisterMethod registers method {n} with chi; "
            "call chi.RegisterMethod before routing."
            for n in range(12)
        )
    )
    embedder = Embedder(resolve_model(str(tiny_model), named_by_user=True))
    with SearchIndex.open(tmp_path / "index", create=True) as index:
        index.update([root], embedder)
        hits = index.search("chi.RegisterMethod", embedder, k=5)
        assert (hits[0].path, hits[0].symbol) == ("tree.go", "RegisterMethod")
        boosts = definition_boosts(
            QueryIntent.of("chi.RegisterMethod"), index.store.all_chunks(), {}
        )
        assert max(boosts.values()) == DEFINITION_BOOST
