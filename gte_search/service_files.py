"""The files a service keeps in its index directory, each private to the user (mode 0600):

- serve.pid: JSON (pid, started, socket, http), `flock`-ed for the service's whole life, so
  a second service refuses to start and a killed one leaves nothing that blocks the next;
- serve.sock: the Unix socket; one left by a killed service is replaced;
- serve.token: the bearer token HTTP clients must send (only with --http).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import socketserver
import stat
from pathlib import Path
from typing import Any

from gte_search.service_client import INFO_NAME, SOCKET_NAME, TOKEN_NAME, socket_address

PRIVATE = 0o600


class ServiceRunning(Exception):
    """Another service already serves this index."""


class ServiceFiles:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.info_path = index_dir / INFO_NAME
        self.socket_path = index_dir / SOCKET_NAME
        self.token_path = index_dir / TOKEN_NAME
        self._fd: int | None = None

    def claim(self) -> None:
        """Become the index's only service, or raise `ServiceRunning` naming the other."""
        if self._fd is not None:
            return
        while True:
            fd = os.open(self.info_path, os.O_RDWR | os.O_CREAT, PRIVATE)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                pid = (read_info(self.index_dir) or {}).get("pid", "unknown")
                raise ServiceRunning(
                    f"a service (pid {pid}) is already running for the index at "
                    f"{self.index_dir}; stop it first (kill {pid})"
                ) from None
            # A service stopping now unlinks the file it locked: ours must still be the one
            # at the path, or another service may claim a new file beside us.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.info_path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                return
            os.close(fd)

    def write_info(self, info: dict[str, Any]) -> None:
        assert self._fd is not None
        data = json.dumps(info).encode() + b"\n"
        # Written before the cut, so that a reader never finds the file empty.
        os.pwrite(self._fd, data, 0)
        os.ftruncate(self._fd, len(data))

    def bind(self, server_class: type[socketserver.UnixStreamServer], *args: Any) -> Any:
        """Bind a server to serve.sock, replacing a stale socket (claim first: while we hold
        serve.pid, no live service owns it), created 0600 and checked to be."""
        assert self._fd is not None, "claim the index first"
        self.socket_path.unlink(missing_ok=True)
        old = os.umask(0o177)
        try:
            with socket_address(self.socket_path) as address:
                server = server_class(address, *args)
        finally:
            os.umask(old)
        os.chmod(self.socket_path, PRIVATE)
        mode = stat.S_IMODE(os.stat(self.socket_path).st_mode)
        if mode != PRIVATE:
            server.server_close()
            raise OSError(f"{self.socket_path} has mode {mode:o}, not 600; not serving")
        return server

    def new_token(self) -> str:
        token = secrets.token_urlsafe(32)
        fd = os.open(self.token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
        try:
            os.fchmod(fd, PRIVATE)  # an older file keeps its mode through O_CREAT
            os.write(fd, token.encode() + b"\n")
        finally:
            os.close(fd)
        return token

    def remove_socket(self) -> None:
        if self._fd is not None:
            self.socket_path.unlink(missing_ok=True)

    def release(self) -> None:
        """Remove everything; the pid file last, while still locked. Nothing when this
        process never claimed the index: the files are another service's."""
        if self._fd is None:
            return
        self.remove_socket()
        self.token_path.unlink(missing_ok=True)
        self.info_path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def read_info(index_dir: Path) -> dict[str, Any] | None:
    try:
        info = json.loads((index_dir / INFO_NAME).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None
