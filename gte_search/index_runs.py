"""Index runs a server starts in the background: `gte-search index` (known roots only) in a
child process, so searching never waits for it and the index's write lock works as it does
between any two processes. Its output is relayed to our stderr, never our stdout."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

log = logging.getLogger("gte_search.index_runs")
# How long a run stopped with Ctrl-C's signal gets to commit and exit before it is killed.
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class RunState:
    pid: int
    started: float  # time.time()
    exit_code: int | None  # None while running; 0 done, 1 some files unreadable, else failed
    last_line: str  # the run's last line of output: its report, or why it failed


class IndexRuns:
    """At most one background run at a time, started by this process."""

    def __init__(self, directory: Path, *, trust_remote_code: bool = False) -> None:
        self.directory = directory
        self.trust_remote_code = trust_remote_code
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._state: RunState | None = None

    def state(self) -> RunState | None:
        with self._lock:
            return self._state

    def start(self) -> RunState:
        """Start a run of `gte-search index` with no paths: it updates every known root."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                raise RuntimeError(f"index run {self._process.pid} is still running")
            # --wait: a search that rebuilt the vector file may hold the lock for a moment.
            index = ["index", "--wait", "--index", str(self.directory)]
            command = [sys.executable, "-m", "gte_search", *index]
            if self.trust_remote_code:
                command.append("--trust-remote-code")
            # stdin is not ours to share: it carries a protocol.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
            self._process = process
            self._state = RunState(process.pid, time.time(), None, "")
        threading.Thread(target=self._relay, args=(process,), daemon=True).start()
        log.info("index run started (process %d)", process.pid)
        state = self.state()
        assert state is not None
        return state

    def _relay(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            text = line.rstrip()
            if text:
                print(f"gte-search: index run {process.pid}: {text}", file=sys.stderr, flush=True)
                self._update(process, last_line=text)
        self._update(process, exit_code=process.wait())

    def _update(
        self, process: subprocess.Popen[str], *, last_line: str = "", exit_code: int | None = None
    ) -> None:
        with self._lock:
            if self._state is None or self._state.pid != process.pid:
                return
            if last_line:
                self._state = replace(self._state, last_line=last_line)
            if exit_code is not None:
                self._state = replace(self._state, exit_code=exit_code)

    def stop(self) -> None:
        """Interrupt a running run the way Ctrl-C does (it keeps what it committed)."""
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
