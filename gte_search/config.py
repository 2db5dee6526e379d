"""Defaults and the environment variables that override them (flags override both)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

DEFAULT_MODEL = "thenlper/gte-small"
MODEL_ENV = "GTE_SEARCH_MODEL"
PRECISION_ENV = "GTE_SEARCH_PRECISION"
INDEX_ENV = "GTE_SEARCH_INDEX"
MODE_ENV = "GTE_SEARCH_MODE"


def default_index_dir() -> Path:
    return Path(platformdirs.user_data_dir("gte-search", appauthor=False)) / "index"
