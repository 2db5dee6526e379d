"""The index's SQLite database: schema, writes and reads. Nothing outside it writes SQL."""

import sys


def _import_sqlite_utils_without_pandas() -> None:
    """sqlite_utils imports pandas when it is installed, only to map pandas timestamps to a
    column type, which the index never stores: 0.2-0.5 s of every search's start (python
    -X importtime). Hide pandas for that one import, unless something has loaded it."""
    if "pandas" in sys.modules or "sqlite_utils" in sys.modules:
        return
    sys.modules["pandas"] = None  # type: ignore[assignment]  # makes `import pandas` fail
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del sys.modules["pandas"]


_import_sqlite_utils_without_pandas()

# These import sqlite_utils too, so they come after it.

from gte_search.store.database import Store, StoreError  # noqa: E402
from gte_search.store.records import (  # noqa: E402
    TRANSIENT_SKIP_KINDS,
    FileState,
    IndexCounts,
    IndexModel,
    PendingChunk,
    SkipKind,
    SkippedFile,
    StoredChunk,
)

__all__ = [
    "TRANSIENT_SKIP_KINDS",
    "FileState",
    "IndexCounts",
    "IndexModel",
    "PendingChunk",
    "SkipKind",
    "SkippedFile",
    "Store",
    "StoreError",
    "StoredChunk",
]
