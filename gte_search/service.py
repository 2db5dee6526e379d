"""`gte-search serve`: one long-running process per index that holds the model and the index
open, answers searches for any number of clients, and keeps the index fresh (`watch`).

Protocol: a Unix socket, INDEX/serve.sock (mode 0600: only the index's owner connects),
carrying newline-delimited JSON in UTF-8. A client writes one JSON object per line and reads
one JSON object per line back, in order; a connection may carry any number of requests.

    {"op": "search", "query": TEXT, "k": 10, "mode": "hybrid" | "semantic" | "lexical",
     "filters": {"languages": [...], "paths": [...], "kind": null | "code" | "doc",
                 "roots": [...]},
     "cwd": "/the/client/directory"}
    -> {"ok": true, "hits": [{...}, ...], "notes": ["dropped a result: ...", ...]}

    {"op": "status"}
    -> {"ok": true, "service": {"pid": N, "started": EPOCH, "index": DIR, "socket": PATH,
                                "http": "HOST:PORT" | null, "watching": BOOL,
                                "requests": N, "updates": N}}

    any failure
    -> {"ok": false, "error": MESSAGE, "user_error": BOOL}

`query` is the text of a parsed query (`gte_search.query.parse_query` took the `lang:` ...
words out and merged them into `filters`). Hits are `SearchHit` dicts, exactly as `search
--json` prints them, only those inside their root. Path and root filters are read relative to
`cwd`, as an in-process search reads them relative to its own directory. `user_error` true:
the message is the one an in-process search would print; false: the client should fall back
to searching in-process.

HTTP (only with `--http HOST:PORT`, on a loopback address): `POST /search` and `POST /status`
take the same objects as bodies (`op` implied by the path) and need the header
`Authorization: Bearer TOKEN`, TOKEN being the content of INDEX/serve.token (mode 0600, new
for each run); without it the answer is 401.

Threads: one per connection (socketserver) for I/O; searches run on one thread that owns the
searching `SearchIndex` (SQLite connections belong to their thread); the watcher updates
through its own `SearchIndex` on its own thread, and the searching thread reloads the vectors
once a writer has committed and let go of the lock.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socketserver
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

from gte_search.config import SettingError
from gte_search.freshness import Freshness
from gte_search.hits import inside_roots
from gte_search.index import IndexOptions, IndexProblem, SearchIndex
from gte_search.models import ModelError
from gte_search.query import QueryError, SearchFilters
from gte_search.service_files import ServiceFiles
from gte_search.service_model import SharedModel
from gte_search.watch import IndexWatcher, WatchUpdate, describe

USER_ERRORS = (IndexProblem, ModelError, QueryError, SettingError)
# The longest request line read; a query is short, and nothing should buffer without end.
MAX_REQUEST_BYTES = 1 << 20
DEFAULT_IDLE_TIMEOUT = 1800.0


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # clients that connect at once wait in the backlog, not fail
    service: Service


class _Connection(socketserver.StreamRequestHandler):
    server: _UnixServer

    def handle(self) -> None:
        while True:
            try:
                line = self.rfile.readline(MAX_REQUEST_BYTES)
            except OSError:
                return
            if not line.strip():
                return
            answer = self.server.service.answer_line(line)
            try:
                self.wfile.write(json.dumps(answer).encode() + b"\n")
            except OSError:  # the client left mid-request: its loss, not the service's
                return


class Service:
    def __init__(
        self,
        index_dir: Path,
        *,
        trust_remote_code: bool = False,
        watch: bool = True,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        log: Callable[[str], object] = print,
        files: ServiceFiles | None = None,
        options: IndexOptions | None = None,
    ) -> None:
        self.index_dir = index_dir.resolve()
        self.files = files or ServiceFiles(self.index_dir)  # claimed early by the CLI
        self.idle_timeout = idle_timeout
        self.log = log
        self.started = time.time()
        self.stop = threading.Event()
        self.model = SharedModel(trust_remote_code)
        self.http_address: str | None = None
        self.requests = 0
        self.updates = 0
        self._busy = 0
        self._last_active = time.monotonic()
        self._counters = threading.Lock()
        self._searcher = ThreadPoolExecutor(1, thread_name_prefix="gte-search-search")
        self._index: SearchIndex | None = None  # owned by the search thread
        self._freshness: Freshness | None = None
        self._threads: list[threading.Thread] = []
        self._servers: list[socketserver.BaseServer] = []
        self.watcher = (
            IndexWatcher(
                self.index_dir, self.model.get, self._updated, stop=self.stop, options=options
            )
            if watch
            else None
        )

    # Starting and stopping (on the main thread).

    def start(self, http: str | None = None) -> None:
        """Claim the index, open it, listen; raises `ServiceRunning` when another service
        has it, `IndexProblem` when there is no index."""
        self.files.claim()
        try:
            self._searcher.submit(self._open).result()
            self._listen(http)
        except BaseException:
            for server in self._servers:
                server.server_close()
            self._searcher.submit(self._close).result()
            self._searcher.shutdown()
            self.files.release()
            raise

    def _listen(self, http: str | None) -> None:
        unix = self.files.bind(_UnixServer, _Connection)
        unix.service = self
        self._servers.append(unix)
        if http is not None:
            from gte_search.service_http import make_http_server

            web = make_http_server(http, self, self.files.new_token())
            self._servers.append(web)
            host, port = web.server_address[:2]
            self.http_address = f"{host!s}:{port}"
        self.files.write_info(self.info())
        for server in self._servers:
            self._spawn(server.serve_forever, "serve")
        self._searcher.submit(lambda: self._require_index().load_vectors())  # warm, in turn
        model = self._searcher.submit(lambda: self._require_index().model).result()
        if model is not None:  # load the model now, so the first search finds it warm
            self._spawn(lambda: self.model.preload(model.model_id, self.log), "model")
        if self.watcher is not None:
            self._spawn(self.watcher.run, "watch")

    def _spawn(self, target: Callable[[], object], name: str) -> None:
        thread = threading.Thread(target=target, name=f"gte-search-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def run(self) -> None:
        """Serve until SIGTERM, SIGINT or the idle timeout, then clean up."""

        def stop(signum: int, frame: FrameType | None) -> None:
            self.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        with self._counters:
            self._last_active = time.monotonic()  # idle from now: starting took a while
        try:
            while not self.stop.wait(0.25):
                if self.idle_timeout and self._idle_seconds() > self.idle_timeout:
                    self.log(f"no requests for {self.idle_timeout:.0f}s; stopping")
                    break
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        self.stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.files.remove_socket()  # clients fall back from here on
        for thread in self._threads:
            if thread.name == "gte-search-watch":
                thread.join()  # an update under way finishes: the index stays consistent
        self._searcher.submit(self._close).result()
        self._searcher.shutdown()
        self.files.release()
        self.log("stopped")

    def _idle_seconds(self) -> float:
        with self._counters:
            return 0.0 if self._busy else time.monotonic() - self._last_active

    # Requests (on connection threads).

    def info(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "index": str(self.index_dir),
            "socket": str(self.files.socket_path),
            "http": self.http_address,
            "watching": self.watcher is not None and self.watcher.ready.is_set(),
            "requests": self.requests,
            "updates": self.updates,
        }

    def answer_line(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except ValueError:
            return {"ok": False, "error": "a request is one JSON object", "user_error": False}
        if not isinstance(request, dict):
            return {"ok": False, "error": "a request is one JSON object", "user_error": False}
        return self.answer(request)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._counters:
            self._busy += 1
            self.requests += 1
        try:
            op = request.get("op")
            if op == "search":
                result: dict[str, Any] = self._searcher.submit(self._search, request).result()
                return result
            if op == "status":
                return {"ok": True, "service": self.info()}
            return {"ok": False, "error": f"unknown op {op!r}", "user_error": False}
        except USER_ERRORS as error:
            return {"ok": False, "error": str(error), "user_error": True}
        except Exception as error:  # a bug or a bad request: the client falls back
            return {"ok": False, "error": f"{type(error).__name__}: {error}", "user_error": False}
        finally:
            with self._counters:
                self._busy -= 1
                self._last_active = time.monotonic()

    def _updated(self, update: WatchUpdate) -> None:
        """From the watcher's thread: count, log, and have the searches see the change."""
        with self._counters:
            self.updates += 1
        self.log(describe(update))
        self._searcher.submit(self._refresh)

    # The search thread.

    def _open(self) -> None:
        # (A single query's FAISS search runs on one thread: `vectors.SEARCH_THREADS`.)
        self._index = SearchIndex.open(self.index_dir)
        self._freshness = Freshness(self._index)

    def _close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def _require_index(self) -> SearchIndex:
        assert self._index is not None, "the service's index is closed"
        return self._index

    def _refresh(self) -> None:
        """Reload the vectors once another connection (the watcher, `gte-search index`) has
        committed and no writer holds the lock; until then keep searching what we have."""
        assert self._freshness is not None
        if self._freshness.stale():
            self._require_index().load_vectors()

    def _search(self, request: dict[str, Any]) -> dict[str, Any]:
        index = self._require_index()
        self._refresh()
        model = index.model
        if model is None:
            raise IndexProblem(
                f"the index at {index.directory} is empty; run: gte-search index PATH"
            )
        mode = request.get("mode", "hybrid")
        embedder = None if mode == "lexical" else self.model.get(model.model_id)
        given = request.get("filters") or {}
        filters = SearchFilters(
            languages=tuple(given.get("languages") or ()),
            paths=tuple(given.get("paths") or ()),
            kind=given.get("kind"),
            roots=tuple(given.get("roots") or ()),
            base=request.get("cwd") or "/",
        )
        hits = index.search(str(request["query"]), embedder, int(request["k"]), filters, mode=mode)
        kept, notes = inside_roots(hits)
        return {"ok": True, "hits": [dataclasses.asdict(hit) for hit in kept], "notes": notes}
