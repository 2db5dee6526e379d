"""What a search filter means, evaluated against the index: the one place that decides.

- `lang:` and `kind:` compare with each chunk's language and kind (names normalised by
  `gte_search.query`);
- `root:` names a root by its absolute path, a path relative to the current directory (or the
  filters' `base`), or its folder name;
- `path:` is a gitignore-style glob, matched against a file's path relative to its root, and
  also against the path relative to the current directory (or `base`) and the absolute path,
  so a path copied from the tool's own output works as a filter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pathspec
import sqlite_utils

from gte_search.query import QueryError, SearchFilters


def root_matches(root: str, names: tuple[str, ...], base: str | None = None) -> bool:
    if not names:
        return True
    return any(
        name in (root, Path(root).name)
        or str((Path(base or os.getcwd()) / Path(name).expanduser()).resolve()) == root
        for name in names
    )


def _path_matches(spec: pathspec.GitIgnoreSpec, root: str, path: str, cwd: str) -> bool:
    absolute = os.path.join(root, path)
    relative = os.path.relpath(absolute, cwd)
    return any(
        spec.match_file(candidate)
        for candidate in (path, absolute.lstrip("/"), relative)
        if not candidate.startswith("..")
    )


def _check_names(db: sqlite_utils.Database, filters: SearchFilters) -> None:
    """A root or language that is not in the index is a mistake worth saying, as `rg -t`
    does, not an empty result."""
    roots = [row[0] for row in db.execute("SELECT path FROM roots ORDER BY path")]
    for name in filters.roots:
        if not any(root_matches(root, (name,), filters.base) for root in roots):
            known = ", ".join(f"{Path(r).name} ({r})" for r in roots) or "none"
            raise QueryError(f"root:{name} is not a root of this index; roots: {known}")
    if filters.languages:
        rows = db.execute("SELECT DISTINCT language FROM chunks WHERE language IS NOT NULL")
        languages = sorted(row[0] for row in rows)
        for name in filters.languages:
            if name not in languages:
                raise QueryError(
                    f"lang:{name} matches no indexed file; languages: {', '.join(languages)}"
                )


def matching_chunk_ids(db: sqlite_utils.Database, filters: SearchFilters) -> np.ndarray:
    """Ids of the chunks that pass `filters` (paths and roots judged once per file).
    Raises `QueryError` for a root or language the index does not have, or a path glob
    that matches none of its files."""
    _check_names(db, filters)
    spec = pathspec.GitIgnoreSpec.from_lines(filters.paths) if filters.paths else None
    cwd = filters.base or os.getcwd()
    files = []
    path_matched = False
    for file_id, path, root in db.execute(
        "SELECT f.id, f.path, r.path FROM files f JOIN roots r ON r.id = f.root_id "
        "WHERE f.skip_reason IS NULL"
    ):
        if spec is not None and not _path_matches(spec, root, path, cwd):
            continue
        path_matched = True
        if root_matches(root, filters.roots, filters.base):
            files.append(file_id)
    if spec is not None and not path_matched:
        globs = " ".join(f"path:{glob}" for glob in filters.paths)
        raise QueryError(
            f"{globs} matches no indexed file (globs match paths relative to a root, to the "
            "current directory, or absolute)"
        )
    if not files:
        return np.empty(0, dtype=np.int64)
    conditions, params = [], []
    if filters.languages:
        conditions.append(f"language IN ({','.join('?' * len(filters.languages))})")
        params += list(filters.languages)
    if filters.kind:
        conditions.append("kind = ?")
        params.append(filters.kind)
    # One JSON parameter, however many files: SQLite limits the number of parameters.
    where = " AND ".join(["file_id IN (SELECT value FROM json_each(?))", *conditions])
    rows = db.execute(f"SELECT id FROM chunks WHERE {where}", [json.dumps(files), *params])
    return np.array([row[0] for row in rows], dtype=np.int64)
