"""The status line under the preview: what is indexed, which model searches, how fast."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from gte_search.hits import inert
from gte_search.index import IndexStatus
from gte_search.tui.screens import short_path


def model_name(model_id: str) -> str:
    """A hub id as is; a local model folder by its name (its full path is long and private)."""
    return Path(model_id).name if model_id.startswith(("/", ".", "~")) else model_id


def status_line(
    info: IndexStatus | None,
    index_dir: Path,
    model_note: str,
    latency: float | None,
    width: int,
) -> Text:
    """The most that fits in `width` columns: the model and the latency are kept longest,
    then the roots; the file count goes first, then the chunk count."""
    if info is None:
        return Text(inert(f"no index at {short_path(str(index_dir))}"))
    roots = ", ".join(Path(root).name for root in info.roots) or "no roots"
    tail = [model_note] + ([f"{latency * 1000:.0f} ms"] if latency is not None else [])
    for parts in (
        [roots, _count(info.files, "file"), _count(info.chunks, "chunk"), *tail],
        [roots, _count(info.chunks, "chunk"), *tail],
        [roots, *tail],
        tail,
    ):
        line = " · ".join(parts)
        if len(line) <= width:
            break
    return Text(inert(line))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


EXAMPLES = ("how are retries handled", "lang:python parse the config file", "kind:doc install")


def search_hint(searched: bool, filters: str) -> Text:
    """What the preview pane says with no hit to show: example queries to start from, or,
    after a search that found nothing, what to loosen."""
    hint = Text()
    if searched:
        hint.append("No results.", style="bold")
        if filters:
            hint.append(inert(f" Nothing indexed matches the filters {filters}; remove one,"))
            hint.append(" or check it with: gte-search status")
        else:
            hint.append(" Try other or fewer words")
        hint.append(". For example:\n")
    else:
        hint.append("Type what you are looking for, in words or names. For example:\n")
    for example in EXAMPLES:
        hint.append(f"\n    {example}", style="bold")
    return hint
