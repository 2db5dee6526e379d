"""Benchmark projects: their query files, fetching their pinned sources, the split, scoring.

A project is one JSON file in benchmarks/projects/:

    {"name": "fmt", "language": "cpp",
     "source": {"git": URL, "revision": SHA} | {"pip": "click==8.1.7"} | {"path": "sample_repos"},
     "include": ["include", "README.md"],          # optional: only these paths are indexed
     "note": "how the annotations were made",
     "queries": [{"id": "fmt-01", "query": "...", "kind": "behaviour",
                  "targets": [{"path": "include/fmt/base.h", "lines": [1641, 1659]}]}]}
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
PROJECTS = REPOSITORY / "benchmarks" / "projects"
KINDS = ("behaviour", "architecture", "symbol", "docs")
CUTOFF = 10
# Rules in a checkout's .ignore carrying this line were written by us and may be rewritten.
IGNORE_MARK = "# written by benchmarks/quality.py from the project's include list"


class BenchmarkError(Exception):
    """A problem the user must fix (a bad project file, a failed fetch): one message."""


@dataclass(frozen=True)
class Target:
    path: str
    lines: tuple[int, int] | None  # None: any chunk of the file

    def matches(self, path: str, start: int, end: int) -> bool:
        if path != self.path:
            return False
        return self.lines is None or (start <= self.lines[1] and self.lines[0] <= end)


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    kind: str
    targets: tuple[Target, ...]

    @property
    def held_out(self) -> bool:
        return is_held_out(self.id)


@dataclass(frozen=True)
class Project:
    name: str
    language: str
    source: dict[str, str]
    include: tuple[str, ...]
    queries: tuple[Query, ...]

    @property
    def folder_name(self) -> str:
        """`<name>-<rev12>` or `<name>-<version>`: a new pin gets a new folder."""
        if "git" in self.source:
            return f"{self.name}-{self.source['revision'][:12]}"
        if "pip" in self.source:
            return f"{self.name}-{self.source['pip'].split('==')[1]}"
        return self.name


def is_held_out(query_id: str) -> bool:
    """A third of the queries, chosen by a hash of the id so the split never moves when
    queries are added or reordered; weights are tuned on the rest."""
    return int(hashlib.sha256(query_id.encode()).hexdigest(), 16) % 3 == 0


def load_project(file: Path) -> Project:
    try:
        data = json.loads(file.read_text())
        queries = tuple(
            Query(
                item["id"],
                item["query"],
                item["kind"],
                tuple(
                    Target(t["path"], (t["lines"][0], t["lines"][1]) if t.get("lines") else None)
                    for t in item["targets"]
                ),
            )
            for item in data["queries"]
        )
        project = Project(
            data["name"], data["language"], data["source"], tuple(data.get("include", ())), queries
        )
    except (KeyError, TypeError, IndexError, json.JSONDecodeError) as error:
        raise BenchmarkError(f"{file}: not a benchmark project file ({error!r})") from error
    problems = [f"{q.id}: unknown kind {q.kind!r}" for q in queries if q.kind not in KINDS]
    problems += [f"{q.id}: no targets" for q in queries if not q.targets]
    ids = [q.id for q in queries]
    problems += [f"duplicate id {i}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    keys = set(project.source)
    if not ({"git", "revision"} <= keys or keys & {"pip", "path"}):
        problems.append(f"source needs git+revision, pip or path, not {project.source}")
    if problems:
        raise BenchmarkError(f"{file}: " + "; ".join(problems))
    return project


def load_projects(folder: Path = PROJECTS, names: Sequence[str] = ()) -> list[Project]:
    """Every project in `folder`, or those named (an unknown name is an error)."""
    projects = [load_project(file) for file in sorted(folder.glob("*.json"))]
    known = {p.name for p in projects}
    unknown = sorted(set(names) - known)
    if unknown:
        raise BenchmarkError(
            f"unknown project {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return [p for p in projects if not names or p.name in names]


# ---- sources ----------------------------------------------------------------------------


def checkout(project: Project, cache: Path) -> Path:
    """The project's source folder, fetched into `cache`/src/ unless already there (so the
    cache can be staged in advance), with its include list applied."""
    if "path" in project.source:
        if project.include:
            raise BenchmarkError(f"{project.name}: include is for fetched sources only")
        return (REPOSITORY / project.source["path"]).resolve()
    folder = cache / "src" / project.folder_name
    if "git" in project.source:
        _git_checkout(project.source["git"], project.source["revision"], folder)
    else:
        _pip_sdist(project.source["pip"], folder)
    _write_include_rules(folder, project.include)
    return folder.resolve()


def _run(command: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True)
    except FileNotFoundError as error:
        raise BenchmarkError(f"{command[0]} is not installed") from error
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or error.stdout).strip().splitlines()
        raise BenchmarkError(
            f"{' '.join(command)} failed: {detail[-1] if detail else ''}"
        ) from error
    return done.stdout.strip()


def _git_checkout(url: str, revision: str, folder: Path) -> None:
    if folder.is_dir():
        head = _run(["git", "-C", str(folder), "rev-parse", "HEAD"])
        if head != revision:
            raise BenchmarkError(f"{folder} is at {head}, not {revision}; delete it to refetch")
        return
    print(f"fetching {url} at {revision[:12]} ...", file=sys.stderr)
    part = folder.with_name(folder.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    part.parent.mkdir(parents=True, exist_ok=True)
    _run(["git", "init", "-q", str(part)])
    try:
        _run(["git", "-C", str(part), "fetch", "-q", "--depth", "1", url, revision])
    except BenchmarkError:
        # Some servers refuse to serve a bare commit id; a full clone always has it.
        shutil.rmtree(part)
        _run(["git", "clone", "-q", "--no-checkout", url, str(part)])
    _run(["git", "-C", str(part), "-c", "advice.detachedHead=false", "checkout", "-q", revision])
    part.rename(folder)


def _pip_sdist(requirement: str, folder: Path) -> None:
    if folder.is_dir():
        return
    print(f"fetching {requirement} ...", file=sys.stderr)
    sdists = folder.parent.parent / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:"]
    _run([*pip, "--no-deps", requirement, "--dest", str(sdists)])
    name, version = requirement.split("==")
    stems = {f"{n}-{version}" for n in (name, name.replace("-", "_"), name.replace("_", "-"))}
    archive = next(
        (f for f in sdists.iterdir() if any(f.name.startswith(s + ".") for s in stems)), None
    )
    if archive is None:
        raise BenchmarkError(f"pip download {requirement} left no sdist in {sdists}")
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(scratch)
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(scratch, filter="data")
        (top,) = Path(scratch).iterdir()  # an sdist holds one folder, name-version/
        top.rename(folder)


def include_rules(include: Sequence[str]) -> list[str]:
    """Gitignore rules that leave only the `include` paths (files or folders) visible: ignore
    everything, then re-open each parent folder level by level, then re-include the path."""
    paths = [path.strip("/") for path in include]
    rules, opened = ["/*"], set()
    for path in sorted(paths, key=lambda p: p.count("/")):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if any("/".join(parts[:d]) in paths for d in range(1, depth + 1)):
                break  # inside an included folder everything is visible already
            if parent not in opened:
                rules += [f"!/{parent}/", f"/{parent}/*"]
                opened.add(parent)
    # Last, as in git the last matching rule wins.
    return rules + [f"!/{path}" for path in paths]


def _write_include_rules(folder: Path, include: Sequence[str]) -> None:
    file = folder / ".ignore"
    own = file.read_text() if file.exists() else ""
    if IGNORE_MARK in own:
        own = own.split(IGNORE_MARK)[0]
    rules = [IGNORE_MARK, *include_rules(include)] if include else []
    text = own + "".join(line + "\n" for line in rules)
    if text != (file.read_text() if file.exists() else ""):
        file.write_text(text)


# ---- scoring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    ndcg: float
    mrr: float
    recall: float


def score(hits: Sequence[tuple[str, int, int]], targets: Sequence[Target]) -> Score:
    """NDCG@10, MRR@10 and Recall@10 of (path, start line, end line) hits, best first.

    A hit is relevant when it overlaps a target not yet found; each target counts once, for
    the first hit that finds it, so five chunks of one function earn no more than one. Gains
    are binary and the ideal ranking finds every target, min(targets, 10) of them, in the
    first places: a query with three targets is perfect only when all three are found.
    """
    found: set[int] = set()
    dcg, first = 0.0, 0
    for rank, (path, start, end) in enumerate(hits[:CUTOFF], start=1):
        new = next(
            (i for i, t in enumerate(targets) if i not in found and t.matches(path, start, end)),
            None,
        )
        if new is None:
            continue
        found.add(new)
        dcg += 1 / math.log2(rank + 1)
        first = first or rank
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(targets), CUTOFF) + 1))
    return Score(dcg / ideal, 1 / first if first else 0.0, len(found) / len(targets))
