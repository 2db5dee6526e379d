"""The installed `gte-search` TUI in a real terminal: tmux runs it, the test types and reads
the screen the way a user would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gte_search.tui.results import MARKER
from tests.conftest import build_index

EXECUTABLE = shutil.which("gte-search", path=str(Path(sys.executable).parent))


def ensure_tmux() -> str:
    """tmux from Debian's packages, installed here when missing and we may install."""
    found = shutil.which("tmux")
    if found:
        return found
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "tmux"],
            capture_output=True,
            timeout=300,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("tmux")
        if found:
            return found
    pytest.skip("tmux is not installed and could not be installed with apt-get (needs root)")


class Terminal:
    def __init__(self, tmux: str) -> None:
        self.command = [tmux, "-u", "-L", f"gte-search-test-{uuid.uuid4().hex[:8]}"]

    def tmux(self, *args: str) -> str:
        done = subprocess.run([*self.command, *args], capture_output=True, text=True, timeout=30)
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "tui")

    def screen_with_escapes(self) -> str:
        return self.tmux("capture-pane", "-e", "-p", "-t", "tui")

    def wait_for(self, *texts: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {texts} on screen:\n{screen}")
            time.sleep(0.5)


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    term = Terminal(ensure_tmux())
    yield term
    term.tmux("kill-server")


def test_installed_tui_in_tmux(
    terminal: Terminal, tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    assert EXECUTABLE, "the gte-search command is not installed next to this Python"
    index_dir = tmp_path / "index"
    build_index(index_dir, [small_repo], tiny_model)
    command = f"HF_HUB_OFFLINE=1 {EXECUTABLE} tui --index {index_dir}"
    terminal.tmux("new-session", "-d", "-s", "tui", "-x", "120", "-y", "36", command)
    terminal.wait_for("tiny-bert on cpu", "2 files")  # the model has loaded
    terminal.tmux("send-keys", "-t", "tui", "-l", "path:pkg/retry.py compute backoff")
    screen = terminal.wait_for("filters path:pkg/retry.py", "pkg/retry.py:4-6", "ms")
    assert "compute_backoff" in screen
    # Move to the compute_backoff hit; the preview shows its file with line numbers.
    for _ in range(3):
        if "pkg/retry.py:4-6  code" in terminal.screen():
            break
        terminal.tmux("send-keys", "-t", "tui", "Down")
        time.sleep(1)
    screen = terminal.wait_for("pkg/retry.py:4-6  code", "4 def compute_backoff(att")
    assert '5     """Exponential' in screen
    terminal.tmux("send-keys", "-t", "tui", "C-q")


def start_tui(terminal: Terminal, index_dir: Path, environment: str, size: str = "120x36") -> None:
    assert EXECUTABLE, "the gte-search command is not installed next to this Python"
    width, height = size.split("x")
    command = f"env -u VISUAL {environment} HF_HUB_OFFLINE=1 {EXECUTABLE} tui --index {index_dir}"
    terminal.tmux("new-session", "-d", "-s", "tui", "-x", width, "-y", height, command)
    terminal.wait_for("tiny-bert on cpu")


def test_an_editor_that_cannot_start_leaves_a_working_tui(
    terminal: Terminal, tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    # Issue 15.1: the OSError was raised inside app.suspend(), which then never resumed the
    # app: a blank screen that ignored every key. "badedit" is on PATH but cannot be executed,
    # so it fails inside the real suspend. (An editor that is not installed at all, "vimm", is
    # now caught before suspending: test_tui.py covers it.)
    editor = "badedit"
    index_dir = tmp_path / "index"
    build_index(index_dir, [small_repo], tiny_model)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "badedit").write_text("not a program\n")
    (tmp_path / "bin" / "badedit").chmod(0o755)
    start_tui(terminal, index_dir, f"PATH={tmp_path / 'bin'}:$PATH EDITOR={editor}")
    terminal.tmux("send-keys", "-t", "tui", "-l", "compute backoff")
    terminal.wait_for("pkg/retry.py:4-6")
    terminal.tmux("send-keys", "-t", "tui", "Enter")
    terminal.wait_for(f"cannot run {editor}:", timeout=20)
    terminal.tmux("send-keys", "-t", "tui", "-l", " kind:doc")
    terminal.wait_for("filters kind:doc", "docs/guide.md", timeout=20)
    terminal.tmux("send-keys", "-t", "tui", "C-q")
    deadline = time.monotonic() + 20
    while "tui" in terminal.tmux("list-sessions", "-F", "#{session_name}"):
        assert time.monotonic() < deadline, "ctrl+q did not quit"
        time.sleep(0.2)


def colour_codes(screen: str) -> set[str]:
    """The SGR parameters in `screen` that set a colour (3x/4x/9x/10x, 38;..., 48;...)."""
    found = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", screen):
        for param in params.split(";"):
            colour = param in ("38", "48") or (param != "" and int(param) // 10 in (3, 4, 9, 10))
            if colour and param not in ("39", "49"):  # 39, 49: the terminal's default colours
                found.add(param)
    return found


def test_no_color_draws_no_colours(
    terminal: Terminal, tmp_path: Path, small_repo: Path, tiny_model: Path
) -> None:
    # Issue 15.2: under NO_COLOR every text was drawn black (38;2;0;0;0) on black (48;2;0;0;0).
    index_dir = tmp_path / "index"
    build_index(index_dir, [small_repo], tiny_model)
    start_tui(terminal, index_dir, "COLORTERM=truecolor NO_COLOR=1")
    terminal.tmux("send-keys", "-t", "tui", "-l", "compute backoff")
    terminal.wait_for("pkg/retry.py:4-6", "def compute_backoff")
    screen = terminal.screen_with_escapes()
    assert "compute_backoff" in screen
    assert colour_codes(screen) == set()
    # Issue 15.4: the selected row is marked, and drawn in reverse video for want of colours.
    selected = next(line for line in screen.splitlines() if f"{MARKER} 1" in line)
    assert selected.startswith("\x1b[7m")
