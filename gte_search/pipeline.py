"""Overlap the indexer's stages (read and chunk the next files while the model embeds), time
them, and report progress."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_DONE = object()


class Progress:
    """What an indexing run tells its caller; the CLI draws a bar, tests may record."""

    def start_root(self, root: Path, files: int) -> None: ...

    def advance(self, files: float) -> None: ...

    def start_embedding(self, embedded: int, chunks: int) -> None:
        """Every changed file is stored, searchable by its words: `embedded` of the index's
        `chunks` have their vectors, the rest follow (`embedded` calls)."""

    def embedded(self, chunks: float) -> None: ...


def read_ahead(
    items: Iterable[Item], work: Callable[[Item], Result], depth: int
) -> Iterator[tuple[Item, Result]]:
    """Yield `(item, work(item))` in order, computing up to `depth` results ahead in a
    background thread. torch releases the GIL while it multiplies, so parsing the next files
    costs the embedder little. `depth` 0 computes each result when it is asked for."""
    if depth <= 0:
        for item in items:
            yield item, work(item)
        return
    results: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                results.put((item, work(item)))
        except BaseException as error:  # re-raised in the consumer
            results.put(error)
        results.put(_DONE)

    worker = threading.Thread(target=produce, name="gte-search-read-ahead", daemon=True)
    worker.start()
    try:
        while (entry := results.get()) is not _DONE:
            if isinstance(entry, BaseException):
                raise entry
            yield entry  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with suppress(queue.Empty):
                results.get(timeout=0.05)


def in_background(work: Callable[[], Result], name: str) -> Future[Result]:
    """Start `work` on a daemon thread of its own, which never holds up the process's exit
    (a search interrupted while the model loads); the future gives its result, or raises
    the error it raised."""
    future: Future[Result] = Future()

    def run() -> None:
        try:
            future.set_result(work())
        except BaseException as error:  # re-raised where the result is asked for
            future.set_exception(error)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


class StageTimer:
    """Seconds spent per named stage, summed over calls (`with timer("embed"): ...`)."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started
