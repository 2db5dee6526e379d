"""Defaults, the values each setting may take, and the environment variables that override
them (flags override both). Light on purpose: the CLI builds its choices from here without
importing torch or FAISS."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DEFAULT_MODEL = "thenlper/gte-small"
MODEL_ENV = "GTE_SEARCH_MODEL"
PRECISION_ENV = "GTE_SEARCH_PRECISION"
INDEX_ENV = "GTE_SEARCH_INDEX"
MODE_ENV = "GTE_SEARCH_MODE"
# `index --ray`: local, auto (RAY_ADDRESS) or HOST:PORT of a Ray cluster to embed on.
RAY_ENV = "GTE_SEARCH_RAY"

# Model arithmetic a user may ask for; "auto" picks per device (gte_search.embed).
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "int8", "bf16")
# FAISS index types: exact (flat), inverted lists (ivf), or by size (auto).
VECTOR_INDEX_KINDS: tuple[str, ...] = ("auto", "flat", "ivf")


class SettingError(ValueError):
    """A setting given a value it cannot take (from a flag or an environment variable)."""


def default_index_dir() -> Path:
    return Path(platformdirs.user_data_dir("gte-search", appauthor=False)) / "index"


def precision_setting(flag: str | None) -> str:
    """The precision asked for: the flag, else GTE_SEARCH_PRECISION, else auto. An unknown
    value is an error, never a silent fall back to fp32."""
    value = flag or os.environ.get(PRECISION_ENV) or "auto"
    if value not in PRECISIONS:
        source = "--precision" if flag else PRECISION_ENV
        raise SettingError(f"{source} must be one of {', '.join(PRECISIONS)}, not {value!r}")
    return value
