"""What a search filter means, evaluated against the index: the one place that decides.

- `lang:` and `kind:` compare with each chunk's language and kind (names normalised by
  `gte_search.query`);
- `root:` names a root by its absolute path, a path relative to the current directory, or its
  folder name;
- `path:` is a gitignore-style glob, matched against a file's path relative to its root, and
  also against the path relative to the current directory and the absolute path, so a path
  copied from the tool's own output works as a filter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pathspec
import sqlite_utils

from gte_search.query import SearchFilters


def root_matches(root: str, names: tuple[str, ...]) -> bool:
    if not names:
        return True
    return any(
        name in (root, Path(root).name) or str(Path(name).expanduser().resolve()) == root
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


def matching_chunk_ids(db: sqlite_utils.Database, filters: SearchFilters) -> np.ndarray:
    """Ids of the chunks that pass `filters` (paths and roots judged once per file)."""
    spec = pathspec.GitIgnoreSpec.from_lines(filters.paths) if filters.paths else None
    cwd = os.getcwd()
    files = [
        file_id
        for file_id, path, root in db.execute(
            "SELECT f.id, f.path, r.path FROM files f JOIN roots r ON r.id = f.root_id "
            "WHERE f.skip_reason IS NULL"
        )
        if root_matches(root, filters.roots)
        and (spec is None or _path_matches(spec, root, path, cwd))
    ]
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
