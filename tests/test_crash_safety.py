"""Crash safety and concurrency: SIGKILLed indexers, one writer at a time, readers beside it,
and FAISS files that are missing, truncated or stale."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gte_search.embed import Embedder
from gte_search.index import IndexLocked, SearchIndex
from gte_search.lock import LOCK_NAME, IndexLock
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
_WORDS = "retry http cookie parse header client send get post store task key value log".split()


def _module(rng: random.Random, name: str, functions: int = 25) -> str:
    parts = []
    for j in range(functions):
        a, b = rng.choice(_WORDS), rng.choice(_WORDS)
        parts.append(f'def {a}_{b}_{name}_{j}(x):\n    """{a} the {b}."""\n    return x + {j}\n\n')
    return "".join(parts)


def _big_repo(root: Path, rng: random.Random, files: int = 60) -> Path:
    """About 1,500 definitions: indexing them with the tiny model takes a second or two."""
    for i in range(files):
        path = root / f"pkg{i % 6}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_module(rng, f"m{i}"))
    return root


def _mutate(root: Path, rng: random.Random, step: int) -> None:
    """What a user does between runs: edit a few files, rewrite some, delete one, add one.
    The rewrites keep every run busy long enough to be killed at work, even on a fast machine."""
    files = sorted(root.rglob("*.py"))
    for path in rng.sample(files, 6):
        lines = path.read_text().split("\n")
        lines[rng.randrange(len(lines))] = f"    edited_{step} = {rng.random()}"
        path.write_text("\n".join(lines))
    for number, path in enumerate(rng.sample(files, 12)):
        path.write_text(_module(rng, f"r{step}_{number}"))
    rng.choice(files).unlink()
    (root / f"pkg{step % 6}" / f"new{step}.py").write_text(_module(rng, f"n{step}", 10))


# Runs `python -m gte_search ARGS` in a forked child for each line of ARGS on stdin, printing
# "pid N" when it starts and "exit N" when it ends. torch's import takes seconds and touches
# no index; importing it once, before the forks, lets the test spend its time killing
# indexers at work rather than waiting for imports. Each child is a real process.
_FORK_SERVER = """
import json, os, runpy, sys
import gte_search.embed, gte_search.index
print("ready", flush=True)
for line in sys.stdin:
    args, log = json.loads(line)
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.argv = ["gte_search", *args]
        try:
            runpy.run_module("gte_search", run_name="__main__", alter_sys=True)
        except SystemExit as end:
            os._exit(end.code if isinstance(end.code, int) else 1)
        os._exit(0)
    print("pid", pid, flush=True)
    print("exit", os.waitpid(pid, 0)[1], flush=True)
"""


class _Indexers:
    """Starts indexers in children of a fork server; kills them with SIGKILL."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.server = subprocess.Popen(
            [sys.executable, "-c", _FORK_SERVER],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.server.stdout is not None
        return self.server.stdout.readline().strip()

    def start(self, args: list[str]) -> int:
        assert self.server.stdin is not None
        self.server.stdin.write(json.dumps([args, str(self.log)]) + "\n")
        self.server.stdin.flush()
        return int(self._line().split()[1])

    def wait(self, seconds: float, until: Callable[[], bool] | None = None) -> bool:
        """Whether the running indexer ended within `seconds`; stops early once `until()`."""
        assert self.server.stdout is not None
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            if select.select([self.server.stdout], [], [], 0.01)[0]:
                return True
            if until is not None and until():
                return False
        return bool(select.select([self.server.stdout], [], [], 0)[0])

    def end(self, pid: int, kill: bool) -> int:
        if kill:
            os.kill(pid, signal.SIGKILL)
        return int(self._line().split()[1])

    def close(self) -> None:
        self.server.communicate("")


def _indexer(repo: Path, model: Path, index_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gte_search",
            "index",
            str(repo),
            "--model",
            str(model),
            "--index",
            str(index_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_consistent(index_dir: Path, embedder: Embedder, rng: random.Random) -> int:
    """The index opens and answers, and the two-phase invariant holds: every chunk is in the
    lexical index, FAISS holds exactly SQLite's vectors, each vector belongs to a chunk and
    to its chunk's text, and the chunks without vectors are the pending ones (none lost).
    Returns the number of pending chunks."""
    if not (index_dir / "index.db").exists():
        return 0  # killed before it created anything
    index = SearchIndex.open(index_dir)
    try:
        counts = index.store.counts()
        pending = index.store.pending_chunks(0, counts.chunks + 1)
        assert counts.lexical == counts.chunks
        assert np.array_equal(index.vectors.ids(), index.store.vector_ids())
        assert counts.vectors + len(pending) == counts.chunks == index.status().chunks
        assert index.status().pending == len(pending)
        stored = index.store.all_chunks()
        assert set(index.store.vector_ids()) | {c.id for c in pending} == set(stored)
        named = [stored[c.id].chunk for c in pending if stored[c.id].chunk.symbol]
        if named:  # a pending chunk is found by its name
            chunk = rng.choice(named)
            hits = index.search(chunk.symbol, None, k=5, mode="lexical")
            assert (chunk.path, chunk.start_line) in {(h.path, h.start_line) for h in hits}
        if counts.vectors < 3:
            return len(pending)
        ids = [int(i) for i in rng.sample(list(index.vectors.ids()), 3)]
        texts = [stored[i].chunk.embedding_text for i in ids]
        vectors = {
            i: v for ids_, vs in index.store.iter_vectors() for i, v in zip(ids_, vs, strict=False)
        }
        np.testing.assert_allclose(
            np.stack([vectors[i] for i in ids]), embedder.embed(texts), atol=1e-4
        )
        hits = index.search(texts[0], embedder, k=1, mode="semantic")
        assert hits and hits[0].score == pytest.approx(1.0, abs=1e-3)
        return len(pending)
    finally:
        index.close()


def _chunk_rows(index_dir: Path) -> set[tuple[object, ...]]:
    index = SearchIndex.open(index_dir)
    try:
        return {
            (c.path, c.start_line, c.end_line, c.symbol, c.text)
            for c in (stored.chunk for stored in index.store.all_chunks().values())
        }
    finally:
        index.close()


def _chunk_marker(index_dir: Path) -> tuple[int, int]:
    """Changes whenever a file's chunks are committed: (count, largest id)."""
    try:
        with sqlite3.connect(f"file:{index_dir / 'index.db'}?mode=ro", uri=True) as db:
            count, largest = db.execute("SELECT count(*), max(id) FROM chunks").fetchone()
    except sqlite3.Error:
        return (0, 0)
    return count, largest or 0


def _vector_marker(index_dir: Path) -> tuple[int, int]:
    """Changes whenever a batch of vectors is committed: (count, largest chunk id)."""
    try:
        with sqlite3.connect(f"file:{index_dir / 'index.db'}?mode=ro", uri=True) as db:
            count, largest = db.execute("SELECT count(*), max(chunk_id) FROM vectors").fetchone()
    except sqlite3.Error:
        return (0, 0)
    return count, largest or 0


def _embedding(index_dir: Path, before: tuple[int, int]) -> bool:
    """Whether a run is in its second phase: it has stored chunks (the marker moved from
    `before`), finished storing every file (no root marked interrupted), and vectors are
    still pending."""
    if _chunk_marker(index_dir) == before:
        return False
    try:
        with sqlite3.connect(f"file:{index_dir / 'index.db'}?mode=ro", uri=True) as db:
            marked = db.execute("SELECT value FROM meta WHERE key = 'interrupted_roots'")
            pending = db.execute(
                "SELECT count(*) FROM chunks c WHERE NOT EXISTS "
                "(SELECT 1 FROM vectors v WHERE v.chunk_id = c.id)"
            ).fetchone()[0]
            return json.loads((marked.fetchone() or ["[]"])[0]) == [] and pending > 0
    except sqlite3.Error:
        return False


def _missing_texts(index_dir: Path) -> int:
    """Distinct texts of pending chunks that no chunk has a vector for: what must be embedded."""
    with sqlite3.connect(f"file:{index_dir / 'index.db'}?mode=ro", uri=True) as db:
        return int(
            db.execute(
                "SELECT count(DISTINCT c.text_hash) FROM chunks c WHERE c.text_hash NOT IN "
                "(SELECT c2.text_hash FROM chunks c2 JOIN vectors v ON v.chunk_id = c2.id)"
            ).fetchone()[0]
        )


def _embedded(stdout: str) -> int:
    return int(stdout.split(" embedded")[0].rsplit("(", 1)[1])


def test_sigkilled_indexer_leaves_a_consistent_index_and_the_next_run_finishes(
    tmp_path: Path, tiny_model: Path, embedder: Embedder
) -> None:
    rng = random.Random(6)
    repo = _big_repo(tmp_path / "repo", rng)
    index_dir = tmp_path / "index"
    kills = mid_update = left_pending = runs = 0
    indexers = _Indexers(tmp_path / "indexer.log")
    args = ["index", str(repo), "--model", str(tiny_model), "--index", str(index_dir)]

    def kill_in_phase_two(before: tuple[int, int]) -> int:
        """Start an indexer and SIGKILL it soon after it commits its first vectors for the
        chunks it stored (the model may still be loading when storing ends)."""
        pid = indexers.start(args)
        finished = indexers.wait(30.0, lambda: _embedding(index_dir, before))
        vectors = _vector_marker(index_dir)
        finished = finished or indexers.wait(30.0, lambda: _vector_marker(index_dir) != vectors)
        finished = finished or indexers.wait(rng.uniform(0.0, 0.05))
        return indexers.end(pid, kill=not finished)

    while kills < 20:
        runs += 1
        assert runs <= 40, "indexers kept finishing before they could be killed"
        before = _chunk_marker(index_dir)
        chance = rng.random()
        if chance < 0.3:
            # Anywhere in start-up: opening the database, loading the model, walking.
            pid = indexers.start(args)
            status = indexers.end(pid, kill=not indexers.wait(rng.uniform(0.0, 1.0)))
        elif chance < 0.65:
            # While chunks are being stored: once the first file's change is committed.
            pid = indexers.start(args)
            finished = indexers.wait(30.0, lambda b=before: _chunk_marker(index_dir) != b)
            finished = finished or indexers.wait(rng.uniform(0.0, 0.15))
            status = indexers.end(pid, kill=not finished)
        else:
            # While stored chunks are being embedded, their vectors committed batch by batch.
            status = kill_in_phase_two(before)
        # It may have finished between the last look and the kill.
        assert status in (0, signal.SIGKILL), (tmp_path / "indexer.log").read_text()
        killed = status == signal.SIGKILL
        kills += killed
        pending = _check_consistent(index_dir, embedder, rng)
        mid_update += _chunk_marker(index_dir) != before and killed
        left_pending += bool(pending) and killed
        _mutate(repo, rng, runs)
    print(f"{kills} kills in {runs} runs, {mid_update} while chunks were being stored,")
    print(f"{left_pending} leaving chunks pending")
    assert mid_update >= 1, "no kill landed while chunks were being stored"
    assert left_pending >= 1, "no kill left chunks waiting for their vectors"

    # Killed while embedding, with every file stored: the next run embeds exactly the texts
    # that have no vector, and changes no file.
    for attempt in range(10):
        if kill_in_phase_two(_chunk_marker(index_dir)) == signal.SIGKILL:
            break
        _mutate(repo, rng, runs + 1 + attempt)
    else:
        pytest.fail("indexers kept finishing before they could be killed while embedding")
    indexers.close()
    assert _check_consistent(index_dir, embedder, rng) > 0
    missing = _missing_texts(index_dir)
    final = _indexer(repo, tiny_model, index_dir)
    out, err = final.communicate()
    assert final.returncode == 0, err
    assert "(0 added, 0 changed," in out and _embedded(out) == missing, out
    clean_dir = tmp_path / "clean"
    clean = _indexer(repo, tiny_model, clean_dir)
    clean_out, err = clean.communicate()
    assert clean.returncode == 0, err
    assert _chunk_rows(index_dir) == _chunk_rows(clean_dir)
    # What killed runs committed was not embedded again.
    assert _embedded(out) < _embedded(clean_out)
    assert _check_consistent(index_dir, embedder, rng) == 0


@pytest.fixture
def indexed(tmp_path: Path, small_repo: Path, embedder: Embedder) -> SearchIndex:
    index = SearchIndex.open(tmp_path / "index", create=True)
    index.update([small_repo], embedder)
    return index


def test_second_indexer_exits_2_naming_the_holder(
    indexed: SearchIndex, small_repo: Path, tiny_model: Path
) -> None:
    holder = IndexLock(indexed.directory)
    holder.acquire()
    try:
        args = ("index", str(small_repo), "--model", str(tiny_model))
        code, _, err = run_cli(*args, "--index", str(indexed.directory))
        assert code == 2 and f"process {os.getpid()}" in err and "--wait" in err
        with pytest.raises(IndexLocked):
            indexed.remove_root(small_repo)
    finally:
        holder.release()


def test_wait_waits_for_the_holder(
    indexed: SearchIndex, small_repo: Path, tiny_model: Path
) -> None:
    holder = IndexLock(indexed.directory)
    holder.acquire()
    threading.Timer(0.5, holder.release).start()
    started = time.perf_counter()
    args = ("index", str(small_repo), "--model", str(tiny_model), "--wait")
    code, out, err = run_cli(*args, "--index", str(indexed.directory))
    assert code == 0, err
    assert "waiting for process" in err and time.perf_counter() - started >= 0.4
    assert "2 files unchanged" in out


def test_a_stale_lock_from_a_dead_process_is_taken_over(
    indexed: SearchIndex, small_repo: Path, tiny_model: Path
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (indexed.directory / LOCK_NAME).write_text(f"{dead.pid}\n")
    args = ("index", str(small_repo), "--model", str(tiny_model))
    code, _, err = run_cli(*args, "--index", str(indexed.directory))
    assert code == 0, err


def test_index_directory_is_private(tmp_path: Path) -> None:
    SearchIndex.open(tmp_path / "deep" / "index", create=True).close()
    assert (tmp_path / "deep" / "index").stat().st_mode & 0o777 == 0o700


def test_a_file_replaced_half_way_leaves_its_old_chunks(indexed: SearchIndex) -> None:
    """sqlite-utils commits each write on its own unless a transaction is open: replace_file
    must open one, or a kill between two chunk inserts leaves half a file."""
    store = indexed.store
    before = store.counts()
    root_id = store.add_root(Path(store.roots()[0]))
    found = store.all_chunks()
    chunks = list(found)
    two = [found[i].chunk for i in chunks[:2]]
    path = found[chunks[0]].chunk.path
    with pytest.raises(ValueError):  # one vector for two chunks: fails after the first insert
        store.replace_file(
            root_id,
            path,
            size=1,
            mtime_ns=1,
            content_hash="x",
            language="python",
            chunks=two,
            vectors=np.zeros((1, 32), dtype=np.float32),
        )
    assert store.counts() == before
    assert all(state.content_hash != "x" for state in store.file_states(root_id).values())
