"""Turn a file on disk into text, or into the reason it is not worth indexing."""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_MAX_FILE_BYTES = 1_000_000
# Generated and minified files are made of enormous lines; they drown real code in search
# results. A file is one of them when lines over MAX_LINE_CHARS hold most of its characters
# and are not a rare exception among its lines: one long line (an embedded blob, a data
# table) among ordinary code does not make a file minified, and its definitions are kept.
MAX_LINE_CHARS = 2_500
MINIFIED_CHAR_SHARE = 0.5
MINIFIED_LINE_SHARE = 0.1
BINARY_SNIFF_BYTES = 8_192
# The reason given for a file that was walked but gone when it was read.
VANISHED = "vanished during the run"

SkipKind = Literal[
    "vanished",
    "empty",
    "binary",
    "too_large",
    "minified",
    "unreadable",
    "not_regular",
    "symlink",
]


@dataclass(frozen=True)
class SourceText:
    text: str
    content_hash: str
    # The file's stat when it was opened: a change made while it is read shows as a newer
    # mtime on the next run, so the change is never mistaken for already indexed.
    size: int = -1
    mtime_ns: int = 0


@dataclass(frozen=True)
class Skipped:
    kind: SkipKind
    reason: str  # for people: "too large (over 1,000,000 bytes)"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def decode(data: bytes) -> str:
    """Decode bytes the way an editor would: BOMs honoured, invalid UTF-8 replaced, not fatal."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def skip_reason(data: bytes) -> Skipped | None:
    """Why these bytes should not be indexed, or None when they are ordinary text."""
    if not data.strip():
        return Skipped("empty", "empty")
    is_utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not is_utf16 and b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return Skipped("binary", "binary")
    return None


def is_minified(text: str) -> bool:
    """Whether long lines hold most of `text` and are at least a tenth of its lines."""
    if len(text) <= MAX_LINE_CHARS:
        return False
    lines = [line for line in text.split("\n") if line.strip()]
    long_lines = [line for line in lines if len(line) > MAX_LINE_CHARS]
    mostly_long = sum(map(len, long_lines)) > MINIFIED_CHAR_SHARE * len(text)
    return mostly_long and len(long_lines) >= MINIFIED_LINE_SHARE * len(lines)


def read_source(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> SourceText | Skipped:
    """The text of a regular file. The walk saw a regular file, but by now it may be gone,
    or replaced by a symlink (not followed, O_NOFOLLOW) or a FIFO (O_NONBLOCK: no hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return Skipped("vanished", VANISHED)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return Skipped("symlink", "symlink (not followed)")
        return Skipped("unreadable", f"unreadable: {error.strerror or error}")
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return Skipped("not_regular", "not a regular file")
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return Skipped("unreadable", f"unreadable: {error.strerror or error}")
    if len(data) > max_bytes:
        return Skipped("too_large", f"too large (over {max_bytes:,} bytes)")
    skipped = skip_reason(data)
    if skipped:
        return skipped
    text = decode(data).replace("\r\n", "\n").replace("\r", "\n")
    if is_minified(text):
        reason = f"minified or generated (mostly lines over {MAX_LINE_CHARS:,} characters)"
        return Skipped("minified", reason)
    return SourceText(text, content_hash(data), info.st_size, info.st_mtime_ns)
