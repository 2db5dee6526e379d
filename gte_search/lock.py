"""One writer per index: an advisory lock on a file in the index directory holding its PID.

The lock is an `flock` on the file, not the file's existence, so the kernel releases it when
its holder dies, even by SIGKILL: a lock file left by a dead process is simply taken over.
The PID written inside is only there to name the holder in messages.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

LOCK_NAME = "index.lock"
# How often a waiting indexer retries; short enough to feel immediate at the terminal.
POLL_SECONDS = 0.2


class IndexBusy(Exception):
    """Another process holds the index's write lock."""

    def __init__(self, directory: Path, pid: int | None) -> None:
        holder = f"process {pid}" if pid else "another process"
        super().__init__(
            f"{holder} is updating the index at {directory}; "
            "wait for it to finish, or rerun with --wait"
        )
        self.pid = pid


class IndexLock:
    """The write lock of one index directory. Not re-entrant across processes, but
    `acquire` on an already held lock is a no-op, so library calls can nest."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never blocks."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def acquire(self, *, wait: bool = False) -> None:
        """Take the lock, waiting for its holder when `wait`, else raising `IndexBusy`."""
        while not self.try_acquire():
            if not wait:
                raise IndexBusy(self.directory, self.holder())
            time.sleep(POLL_SECONDS)

    def release(self) -> None:
        if self._fd is None:
            return
        # Empty the file first: a PID left behind would name a process that no longer holds it.
        os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None

    def holder(self) -> int | None:
        """The PID of the process holding the lock, or None when no live process does."""
        if self._fd is not None:
            return os.getpid()
        try:
            text = self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return None
        if not text.isdigit():
            return None
        pid = int(text)
        return pid if _alive(pid) and self._is_locked() else None

    def _is_locked(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    return True
