"""What an index run and an index report to their callers: problems a user can cause, how a
run went, and what an index holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gte_search.store import IndexModel, SkippedFile
from indexer.walk import WalkProblem


class IndexProblem(Exception):
    """A user-facing problem with an index: missing, unreadable, or built with another model."""


class IndexInterrupted(KeyboardInterrupt):
    """Ctrl-C during an update: what was committed stays, and `report` says how far it got."""

    def __init__(self, report: IndexReport) -> None:
        super().__init__()
        self.report = report


@dataclass
class IndexReport:
    model_id: str
    files_added: int = 0
    files_changed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_skipped: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    seconds: float = 0.0
    files_total: int = 0  # walked files, for "N of M" when a run is interrupted
    # Chunks stored (searchable by their words) whose vectors this run has not computed yet;
    # non-zero only for a run interrupted while embedding. The next run embeds them.
    chunks_pending: int = 0
    problems: list[WalkProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    # Seconds per stage: walk, parse (read + chunk, overlapped with embedding in a background
    # thread), embed, store (SQLite), faiss (add, remove, save, rebuild).
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def chunks(self) -> int:
        return self.chunks_embedded + self.chunks_reused

    @property
    def files_indexed(self) -> int:
        return self.files_added + self.files_changed

    @property
    def files_done(self) -> int:
        return self.files_indexed + self.files_unchanged + self.files_skipped

    @property
    def up_to_date(self) -> bool:
        """Nothing was added, changed or removed: the index already matched the files."""
        return not (self.files_indexed or self.files_removed or self.chunks_embedded)


class IndexLocked(IndexProblem):
    """Another process is updating the index (see `SearchIndex.writing`)."""


@dataclass(frozen=True)
class IndexStatus:
    directory: Path
    roots: list[str]
    files: int
    chunks: int
    skipped: list[SkippedFile]
    model: IndexModel | None
    size_bytes: int
    interrupted: list[str]  # roots whose last update did not finish
    embedded: int  # chunks with their vector; the others are searchable by their words only

    @property
    def pending(self) -> int:
        """Chunks stored whose vectors are still to come (the next update embeds them)."""
        return self.chunks - self.embedded
