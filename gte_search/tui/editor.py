"""The command line that opens a file at a line in the user's editor, in that editor's syntax."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

FALLBACK_EDITOR = "vi"
# Editors that take `+N FILE` (vi and its family, nano, emacs, micro, kakoune, gedit, ...).
_PLUS_LINE = {
    "vi", "vim", "nvim", "gvim", "mvim", "view", "vis", "ex", "nano", "pico", "emacs",
    "emacsclient", "micro", "kak", "mcedit", "joe", "jed", "ne", "gedit", "kate",
}  # fmt: skip
# Editors that take `FILE:N`.
_COLON_LINE = {"hx", "helix", "subl", "sublime_text", "zed", "lapce"}
# VS Code and its forks take `-g FILE:N`.
_GOTO_FLAG = {"code", "code-insiders", "codium", "vscodium", "cursor", "windsurf"}


def user_editor(environ: Mapping[str, str] | None = None) -> list[str]:
    """$VISUAL, else $EDITOR, else vi, split like a shell would (`code --wait` is two words)."""
    environ = os.environ if environ is None else environ
    value = environ.get("VISUAL") or environ.get("EDITOR") or FALLBACK_EDITOR
    return shlex.split(value) or [FALLBACK_EDITOR]


def editor_command(editor: list[str], path: Path, line: int) -> list[str]:
    """`editor` opening `path` at `line`. `path` should be absolute so that it can never be
    read as an option. An editor we do not know gets the file alone."""
    name = Path(editor[0]).name.lower().removesuffix(".exe")
    if name in _PLUS_LINE:
        return [*editor, f"+{line}", str(path)]
    if name in _COLON_LINE:
        return [*editor, f"{path}:{line}"]
    if name in _GOTO_FLAG:
        return [*editor, "-g", f"{path}:{line}"]
    return [*editor, str(path)]


class EditorError(Exception):
    """The editor cannot be started for this hit; the message says why, in one line."""


def open_command(path: Path, line: int, environ: Mapping[str, str] | None = None) -> list[str]:
    """The user's editor command for `path` at `line`, checked before the terminal is handed
    over: a file deleted since indexing or an editor that is not installed is an `EditorError`,
    not a blank screen."""
    if not path.is_file():
        raise EditorError(f"{path} no longer exists (deleted since indexing? ctrl+r re-indexes)")
    editor = user_editor(environ)
    if shutil.which(editor[0]) is None:
        raise EditorError(f"cannot run {editor[0]}: not found (set $VISUAL or $EDITOR)")
    return editor_command(editor, path, line)


def run_editor(command: list[str]) -> str | None:
    """Run the editor and wait for it; the reason when it could not start. This never raises,
    so the caller's `suspend()` always gets to give the terminal back to the TUI."""
    try:
        subprocess.run(command, check=False)
    except OSError as error:
        return f"cannot run {command[0]}: {error.strerror or error}"
    return None
