"""Talk to a running `gte-search serve` over its Unix socket (see `gte_search.service` for the
protocol). Light on purpose: a `gte-search search` that finds a service never imports torch,
FAISS or numpy, which is the whole point of the service.

Every function here answers None (or raises `ServiceUnavailable`) when no service answers, so
callers fall back to searching in-process without a word.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gte_search.hits import SearchHit
from gte_search.query import SearchFilters

SOCKET_NAME = "serve.sock"
INFO_NAME = "serve.pid"
TOKEN_NAME = "serve.token"
# `off` makes every command search in-process even when a service runs (benchmarks, tests).
SERVICE_ENV = "GTE_SEARCH_SERVICE"
# A search waits this long for a service that is still loading its model; a hung service
# then costs one fallback, not a hung shell.
REQUEST_TIMEOUT = 60.0
# sun_path holds 108 bytes on Linux, 104 on macOS; longer paths go through /proc/self/fd.
_SUN_PATH_MAX = 100


class ServiceUnavailable(Exception):
    """No service answered, or it answered with something that is not a result."""


class ServiceUserError(Exception):
    """The service refused the request for a reason the user can fix (the same message the
    in-process search would give)."""


@contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """An address `bind`/`connect` accept for `path`, however deep the index lies."""
    text = str(path)
    if len(os.fsencode(text)) <= _SUN_PATH_MAX:
        yield text
        return
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        short = f"/proc/self/fd/{folder}/{path.name}"
        if not os.path.isdir(f"/proc/self/fd/{folder}"):
            raise OSError(f"the index path is too long for a socket: {path}")
        yield short
    finally:
        os.close(folder)


def service_disabled() -> bool:
    return os.environ.get(SERVICE_ENV, "").lower() in ("off", "0", "no", "false")


class ServiceClient:
    """One connection to a service; requests go one at a time, in order."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.reader = connection.makefile("rb")

    @classmethod
    def connect(cls, index_dir: Path, timeout: float = REQUEST_TIMEOUT) -> ServiceClient | None:
        """A connection to the service of `index_dir`, or None when none is listening."""
        path = index_dir / SOCKET_NAME
        if service_disabled() or not path.exists():
            return None
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            with socket_address(path) as address:
                connection.connect(address)
        except OSError:  # refused: a stale socket left by a killed service
            connection.close()
            return None
        return cls(connection)

    def close(self) -> None:
        self.reader.close()
        self.connection.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request, return its answer; `ServiceUserError` for a refusal the user
        caused, `ServiceUnavailable` for anything else that went wrong."""
        try:
            self.connection.sendall(json.dumps(message).encode() + b"\n")
            line = self.reader.readline()
        except OSError as error:
            raise ServiceUnavailable(str(error)) from error
        try:
            answer = json.loads(line)
        except ValueError as error:
            raise ServiceUnavailable("the service closed the connection") from error
        if not isinstance(answer, dict):
            raise ServiceUnavailable("the service answered nonsense")
        if answer.get("ok") is True:
            return answer
        if answer.get("user_error"):
            raise ServiceUserError(str(answer.get("error")))
        raise ServiceUnavailable(str(answer.get("error")))

    def search(
        self, text: str, k: int, filters: SearchFilters, mode: str
    ) -> tuple[list[SearchHit], list[str]]:
        """The hits of an already parsed query, and the notes to show (dropped results)."""
        answer = self.request(search_request(text, k, filters, mode))
        hits = [SearchHit(**hit) for hit in answer["hits"]]
        return hits, [str(line) for line in answer.get("notes", [])]

    def info(self) -> dict[str, Any]:
        """The service's pid, start time and counters."""
        service: dict[str, Any] = self.request({"op": "status"})["service"]
        return service


def search_request(text: str, k: int, filters: SearchFilters, mode: str) -> dict[str, Any]:
    return {
        "op": "search",
        "query": text,
        "k": k,
        "mode": mode,
        "filters": {
            "languages": list(filters.languages),
            "paths": list(filters.paths),
            "kind": filters.kind,
            "roots": list(filters.roots),
        },
        # Path and root filters are read relative to the client's directory, as in-process.
        "cwd": filters.base or os.getcwd(),
    }


def service_info(index_dir: Path) -> dict[str, Any] | None:
    """What `status` shows about the service of `index_dir`: None when none answers."""
    client = ServiceClient.connect(index_dir, timeout=5.0)
    if client is None:
        return None
    with client:
        try:
            return client.info()
        except (ServiceUnavailable, ServiceUserError):
            return None


def describe_uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def describe_service(info: dict[str, Any] | None) -> str:
    if info is None:
        return "not running"
    uptime = describe_uptime(time.time() - float(info["started"]))
    return f"running (pid {info['pid']}, up {uptime})"
