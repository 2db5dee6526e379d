"""The quality benchmark's scoring, split and project files (benchmarks/bench_projects.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.bench_projects import (
    PROJECTS,
    BenchmarkError,
    Target,
    include_rules,
    is_held_out,
    load_project,
    load_projects,
    score,
)
from indexer.walk import WalkedFile, walk

FETCH = Target("src/http.py", (40, 60))
PARSE = Target("src/http.py", (100, 120))
README = Target("README.md", None)


def test_one_target_found_first_is_perfect() -> None:
    result = score([("src/http.py", 30, 45), ("src/other.py", 1, 9)], [FETCH])
    assert (result.ndcg, result.mrr, result.recall) == (1.0, 1.0, 1.0)


def test_ideal_is_over_all_targets_so_finding_one_of_two_is_not_perfect() -> None:
    result = score([("src/http.py", 40, 60)], [FETCH, PARSE])
    assert result.ndcg == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert result.recall == 0.5


def test_each_target_counts_once_however_many_chunks_hit_it() -> None:
    hits = [("src/http.py", 40, 49), ("src/http.py", 50, 60), ("src/http.py", 100, 110)]
    # The second chunk of the same function earns nothing; the other target at rank 3 does.
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert score(hits, [FETCH, PARSE]).ndcg == pytest.approx(expected)


def test_one_chunk_spanning_two_targets_finds_only_one() -> None:
    result = score([("src/http.py", 1, 200)], [FETCH, PARSE])
    assert result.recall == 0.5
    assert result.ndcg < 1


def test_lines_must_overlap_and_the_file_must_match() -> None:
    assert score([("src/http.py", 61, 99)], [FETCH]).ndcg == 0.0
    assert score([("src/http.py", 60, 70)], [FETCH]).ndcg == 1.0  # one shared line is enough
    assert score([("lib/http.py", 40, 60)], [FETCH]).ndcg == 0.0
    # A target without lines is found by any chunk of its file.
    assert score([("docs/x.md", 1, 5), ("README.md", 300, 320)], [README]).mrr == 0.5


def test_only_the_top_ten_count_and_the_ideal_stops_at_ten() -> None:
    late = [(f"f{i}.py", 1, 2) for i in range(10)]
    assert score([*late, ("src/http.py", 40, 60)], [FETCH]).ndcg == 0.0
    targets = [Target(f"f{i}.py", None) for i in range(12)]
    assert score(late, targets).ndcg == pytest.approx(1.0)


def test_split_is_a_stable_third_by_id() -> None:
    # Pinned: the held-out set must not move when queries are added, reordered or rerun.
    assert [is_held_out(i) for i in ("sample_repos-01", "express-07", "click-01", "fmt-01")] == [
        True,
        True,
        False,
        False,
    ]
    share = sum(is_held_out(f"p-{n:03d}") for n in range(900)) / 900
    assert 0.28 < share < 0.39


def test_every_project_file_loads_with_unique_ids() -> None:
    projects = load_projects()
    assert projects, PROJECTS
    ids = [q.id for p in projects for q in p.queries]
    assert len(ids) == len(set(ids))
    with pytest.raises(BenchmarkError, match="unknown project nope"):
        load_projects(names=["nope"])


def test_a_bad_project_file_is_one_clear_error(tmp_path: Path) -> None:
    file = tmp_path / "bad.json"
    query = {"id": "bad-01", "query": "q", "kind": "vibes", "targets": [{"path": "a.py"}]}
    file.write_text(
        json.dumps({"name": "bad", "language": "x", "source": {"path": "."}, "queries": [query]})
    )
    with pytest.raises(BenchmarkError, match="bad-01: unknown kind 'vibes'"):
        load_project(file)


def test_include_list_leaves_only_those_paths_to_index(tmp_path: Path) -> None:
    for name in ("src/main/a.kt", "src/test/b.kt", "docs/api.md", "docs/old.md", "README.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    rules = include_rules(["src/main", "docs/api.md", "README.md"])
    (tmp_path / ".ignore").write_text("\n".join(rules) + "\n")
    found = {str(w.path) for w in walk(tmp_path) if isinstance(w, WalkedFile)}
    assert found == {"src/main/a.kt", "docs/api.md", "README.md"}
