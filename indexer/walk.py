"""Walk a root directory the way git would see it: .gitignore files (nested too) honoured."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass
from pathlib import Path

import pathspec

# Folders no one wants searched: VCS metadata, dependencies, virtualenvs, caches, build output.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "bower_components",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".eggs",
        "build",
        "dist",
        "target",
        ".next",
        ".gradle",
        ".idea",
        ".vscode",
    }
)
IGNORE_FILES = (".gitignore", ".ignore")


@dataclass(frozen=True)
class WalkedFile:
    """A regular file found under a root. `path` is relative to the root, '/'-separated."""

    root: Path
    path: str
    size: int
    mtime_ns: int

    @property
    def absolute(self) -> Path:
        return self.root / self.path


@dataclass(frozen=True)
class WalkProblem:
    """Something under the root that was not walked: an unreadable folder (`unreadable`), or a
    symlink, left alone on purpose."""

    path: str
    reason: str
    unreadable: bool = True


def _symlink_reason(link: Path, root: Path) -> str:
    """Why a symlink is not followed, in the words `status --skipped` shows."""
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return "broken symlink"
    except (RuntimeError, OSError) as error:  # RuntimeError: a loop, on Python < 3.13
        if isinstance(error, RuntimeError) or error.errno == errno.ELOOP:
            return "symlink loop"
        return f"symlink to an unreadable target: {error.strerror}"
    if not target.is_relative_to(root):
        return "symlink pointing outside the root (not followed)"
    return "symlink (not followed; its target is indexed where it lies)"


@dataclass(frozen=True)
class _IgnoreRules:
    base: str  # folder holding the ignore file, relative to the root ('' for the root itself)
    spec: pathspec.GitIgnoreSpec

    def verdict(self, rel_path: str, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a negation, None: no rule here speaks of it."""
        local = rel_path[len(self.base) + 1 :] if self.base else rel_path
        return self.spec.check_file(local + "/" if is_dir else local).include


def _is_ignored(rules: list[_IgnoreRules], rel_path: str, is_dir: bool) -> bool:
    ignored = False
    # Deeper ignore files come later in the list and override shallower ones, as in git.
    for rule in rules:
        verdict = rule.verdict(rel_path, is_dir)
        if verdict is not None:
            ignored = verdict
    return ignored


def _read_rules(folder: Path, base: str) -> list[_IgnoreRules]:
    found = []
    for name in IGNORE_FILES:
        try:
            lines = (folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        found.append(_IgnoreRules(base, pathspec.GitIgnoreSpec.from_lines(lines)))
    return found


def walk(
    root: Path,
    *,
    use_ignore_files: bool = True,
    excluded_dirs: frozenset[str] = DEFAULT_EXCLUDED_DIRS,
    excluded_paths: tuple[Path, ...] = (),
) -> Iterator[WalkedFile | WalkProblem]:
    """Yield every indexable regular file under `root`, in a stable (sorted) order.

    Symlinks are not followed: a link can point outside the root or into a loop, and a file
    reached through a link inside the root is reached directly anyway.
    """
    root = root.resolve()
    yield from _walk_folder(root, root, "", [], use_ignore_files, excluded_dirs, excluded_paths)


def _walk_folder(
    root: Path,
    start: Path,
    rel_start: str,
    inherited: list[_IgnoreRules],
    use_ignore_files: bool,
    excluded_dirs: frozenset[str],
    excluded_paths: tuple[Path, ...],
) -> Iterator[WalkedFile | WalkProblem]:
    """`walk` from the folder `start` (`rel_start` under `root`), which is reached with the
    ignore rules `inherited` from the folders above it."""
    skip_real = {p.resolve() for p in excluded_paths}
    stack: list[tuple[Path, str, list[_IgnoreRules]]] = [(start, rel_start, inherited)]
    while stack:
        folder, rel_folder, inherited = stack.pop()
        rules = inherited + _read_rules(folder, rel_folder) if use_ignore_files else inherited
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            yield WalkProblem(rel_folder or ".", f"unreadable directory: {error.strerror}")
            continue
        subfolders = []
        for entry in entries:
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as error:
                yield WalkProblem(rel, f"cannot stat: {error.strerror}")
                continue
            if stat.S_ISLNK(info.st_mode):
                if not _is_ignored(rules, rel, False):
                    reason = _symlink_reason(Path(entry.path), root)
                    yield WalkProblem(rel, reason, unreadable=False)
                continue
            is_dir = stat.S_ISDIR(info.st_mode)
            if is_dir and (entry.name in excluded_dirs or Path(entry.path) in skip_real):
                continue
            if _is_ignored(rules, rel, is_dir):
                continue
            if is_dir:
                subfolders.append((Path(entry.path), rel, rules))
            elif stat.S_ISREG(info.st_mode) and entry.name not in IGNORE_FILES:
                yield WalkedFile(root, rel, info.st_size, info.st_mtime_ns)
        # Reversed so that popping visits folders in name order.
        stack.extend(reversed(subfolders))


def walk_paths(
    root: Path,
    rel_paths: Iterable[str],
    *,
    use_ignore_files: bool = True,
    excluded_dirs: frozenset[str] = DEFAULT_EXCLUDED_DIRS,
    excluded_paths: tuple[Path, ...] = (),
) -> Iterator[WalkedFile | WalkProblem]:
    """What `walk(root)` yields at or under each of `rel_paths` (files or folders, '/'-
    separated), without walking the rest of the root: for a watcher that heard of a few
    changed paths in a large tree. A path that no longer exists yields nothing."""
    root = root.resolve()
    skip_real = {p.resolve() for p in excluded_paths}
    wanted = frozenset(rel.strip("/") for rel in rel_paths) - {""}
    # A path inside another wanted folder is reached by walking that folder.
    tops = sorted(rel for rel in wanted if not is_inside(rel, wanted, strictly=True))
    for rel in tops:
        path = root / rel
        try:
            info = path.lstat()
        except OSError:
            continue
        if any(path == p or path.is_relative_to(p) for p in skip_real):
            continue
        is_dir = stat.S_ISDIR(info.st_mode)
        rules = _rules_reaching(root, rel, is_dir, use_ignore_files, excluded_dirs)
        if rules is None:
            continue
        if stat.S_ISLNK(info.st_mode):
            yield WalkProblem(rel, _symlink_reason(path, root), unreadable=False)
        elif is_dir:
            yield from _walk_folder(
                root, path, rel, rules, use_ignore_files, excluded_dirs, excluded_paths
            )
        elif stat.S_ISREG(info.st_mode) and path.name not in IGNORE_FILES:
            yield WalkedFile(root, rel, info.st_size, info.st_mtime_ns)


def is_inside(rel_path: str, paths: Set[str], *, strictly: bool = False) -> bool:
    """Whether `rel_path` is one of `paths` (unless `strictly`) or lies in a folder among
    them: a set look-up per folder above it, however many paths there are."""
    parts = rel_path.split("/")
    folders = ("/".join(parts[:depth]) for depth in range(1, len(parts)))
    return (not strictly and rel_path in paths) or any(folder in paths for folder in folders)


def is_walked(
    root: Path,
    rel_path: str,
    *,
    is_dir: bool = False,
    use_ignore_files: bool = True,
    excluded_dirs: frozenset[str] = DEFAULT_EXCLUDED_DIRS,
) -> bool:
    """Whether `walk(root)` would reach `rel_path` ('/'-separated, relative to `root`): no
    excluded folder on the way, no ignore rule (read from disk now) leaving it or a folder
    above it out. For watchers, which hear of single paths rather than walking."""
    return _rules_reaching(root, rel_path, is_dir, use_ignore_files, excluded_dirs) is not None


def _rules_reaching(
    root: Path, rel_path: str, is_dir: bool, use_ignore_files: bool, excluded_dirs: frozenset[str]
) -> list[_IgnoreRules] | None:
    """The ignore rules `walk` holds when it reaches `rel_path` (those of the folders above
    it, root first), or None when it never reaches it."""
    rules: list[_IgnoreRules] = []
    folder, base = root, ""
    parts = [part for part in rel_path.split("/") if part]
    for depth, name in enumerate(parts):
        if use_ignore_files:
            rules = rules + _read_rules(folder, base)
        rel = f"{base}/{name}" if base else name
        node_is_dir = is_dir if depth == len(parts) - 1 else True
        if node_is_dir and name in excluded_dirs:
            return None
        if _is_ignored(rules, rel, node_is_dir):
            return None
        folder, base = folder / name, rel
    return rules if parts else None
