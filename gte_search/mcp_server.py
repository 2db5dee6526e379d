"""`gte-search mcp`: the index as Model Context Protocol tools for coding agents and editors,
over stdio, on the official `mcp` SDK. Library calls only (`gte_search.index_service`).

Only protocol goes to stdout: the SDK serves the wire from a private copy of the descriptor
and points fd 1 at stderr while it runs, so a library that prints cannot corrupt it.
"""

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field
from typing_extensions import TypedDict

from gte_search.highlight import best_lines
from gte_search.hits import SearchHit, SearchMode, display_path, inert
from gte_search.index import IndexProblem
from gte_search.index_service import IndexService, ReadRefused, read_lines
from gte_search.models import ModelError
from gte_search.query import QueryError, make_filters, parse_query
from gte_search.service_client import ServiceUserError

log = logging.getLogger("gte_search.mcp")
T = TypeVar("T")
MAX_K = 50
# A line of the text rendering longer than this is cut: minified code would flood a context.
RENDER_LINE_CHARS = 200

INSTRUCTIONS = """Semantic and keyword search over the code and docs of the indexed projects.
Use `search` with a natural-language question or identifiers; `read` to see more lines of a
hit's file; `status` to see what is indexed; `index` to bring the index up to date after
files changed (it runs in the background; search keeps answering meanwhile)."""


class Hit(TypedDict):
    """Exactly the keys of `gte-search search --json` (gte_search.hits.SearchHit)."""

    path: str
    root: str
    start_line: int
    end_line: int
    score: float
    kind: Literal["code", "doc"]
    language: str
    symbol: str | None
    text: str


class SearchResult(TypedDict):
    hits: list[Hit]
    index_updating: bool
    trimmed: int  # hits whose text was shortened to fit max_chars
    notes: list[str]


class ReadResult(TypedDict):
    path: str
    root: str
    start_line: int
    end_line: int
    total_lines: int
    truncated: bool
    text: str


def trim_to_budget(hits: list[SearchHit], max_chars: int) -> tuple[list[SearchHit], int]:
    """Shorten hit texts, at line ends where possible, so that together they hold at most
    `max_chars` characters; short texts leave their unused share to the longer ones. Returns
    the hits and how many were shortened."""
    remaining = max_chars
    kept: dict[int, str] = {}
    order = sorted(range(len(hits)), key=lambda i: len(hits[i].text))
    for place, i in enumerate(order):
        share = remaining // (len(order) - place)
        text = hits[i].text
        if len(text) > share:
            cut = text.rfind("\n", 0, share + 1)
            text = text[: cut if cut > 0 else share]
        kept[i] = text
        remaining -= len(text)
    trimmed = sum(kept[i] != hit.text for i, hit in enumerate(hits))
    return [dataclasses.replace(hit, text=kept[i]) for i, hit in enumerate(hits)], trimmed


def render_hits(hits: list[SearchHit], query: str, notes: list[str]) -> str:
    """The compact text for clients that read only text: path:start-end, symbol, best lines."""
    out = [*notes]
    if not hits:
        out.append("no results")
    for rank, hit in enumerate(hits, start=1):
        symbol = f"  {inert(hit.symbol)}" if hit.symbol else ""
        out.append(
            f"{rank}. {inert(display_path(hit))}:{hit.start_line}-{hit.end_line}{symbol}  "
            f"[{hit.kind} {hit.language}] {hit.score:.3f}"
        )
        first, lines = best_lines(hit, query)
        for number, line in enumerate(lines, start=first):
            out.append(f"   {number:>5}  {inert(line[:RENDER_LINE_CHARS])}")
    return "\n".join(out)


def build_server(service: IndexService) -> MCPServer:
    server: MCPServer = MCPServer("gte-search", instructions=INSTRUCTIONS, log_level="WARNING")

    async def on_index(function: Callable[..., T], *args: object) -> T:
        return await asyncio.wrap_future(service.call(function, *args))

    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    async def search(
        query: Annotated[
            str,
            Field(
                description="What to find: a question, words or identifiers. Filters may be "
                "written inline too: lang:go path:src/** kind:doc root:NAME."
            ),
        ],
        k: Annotated[int, Field(ge=1, description=f"How many results (at most {MAX_K}).")] = 10,
        mode: Annotated[
            SearchMode,
            Field(
                description="hybrid: vectors and keywords fused (best); semantic: vectors "
                "only; lexical: keywords only (no model needed, fastest)."
            ),
        ] = "hybrid",
        lang: Annotated[
            str | None, Field(description="Only this language: py, go, ts, markdown, ...")
        ] = None,
        path: Annotated[
            str | None, Field(description="Only paths matching this glob, e.g. src/**/*.py")
        ] = None,
        kind: Annotated[
            Literal["code", "doc"] | None, Field(description="Only code or only docs.")
        ] = None,
        root: Annotated[
            str | None, Field(description="Only this indexed root (its path or folder name).")
        ] = None,
        max_chars: Annotated[
            int | None,
            Field(
                ge=0,
                description="Budget for all hit texts together, in characters: longer texts "
                "are cut at line ends so the result fits your context.",
            ),
        ] = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Search the indexed code and docs, best match first. Each hit names its file
        (path, relative to root), its lines and symbol, and holds the chunk's text."""
        notes: list[str] = []
        if k > MAX_K:
            notes.append(f"k capped at {MAX_K}")
            k = MAX_K
        try:
            parsed = parse_query(query)
            filters = make_filters(
                (lang,) if lang else (), (path,) if path else (), kind, (root,) if root else ()
            ).merged(parsed.filters)
            answer = await anyio.to_thread.run_sync(
                service.search_through_serve, parsed.text, k, filters, mode
            )
            if answer is None:
                embedder = None
                if mode != "lexical":
                    embedder = await anyio.to_thread.run_sync(service.embedder)
                answer = await on_index(service.search, parsed.text, embedder, k, filters, mode)
        except (
            IndexProblem,
            ModelError,
            QueryError,
            ServiceUserError,
            ValueError,
            OSError,
        ) as error:
            raise ToolError(str(error)) from error
        hits, trimmed = answer.hits, 0
        if max_chars is not None:
            hits, trimmed = trim_to_budget(hits, max_chars)
            if trimmed:
                notes.append(
                    f"{trimmed} hit texts cut to fit max_chars={max_chars}; "
                    "the read tool shows their full lines"
                )
        notes = [*answer.notes, *notes]
        result: SearchResult = {
            "hits": [Hit(**dataclasses.asdict(hit)) for hit in hits],  # type: ignore[typeddict-item]
            "index_updating": answer.updating_pid is not None,
            "trimmed": trimmed,
            "notes": notes,
        }
        text = render_hits(hits, parsed.text, notes)
        return CallToolResult(
            content=[TextContent(type="text", text=text)], structured_content=dict(result)
        )

    @server.tool(annotations=read_only)
    async def status() -> dict[str, object]:
        """What the index holds: roots, files, chunks, embedded and pending chunks, the model,
        and whether an index run is active."""
        info = await on_index(service.status)
        return dataclasses.asdict(info)

    @server.tool(annotations=read_only)
    async def read(
        path: Annotated[
            str,
            Field(
                description="A file inside an indexed root: a hit's path (relative to its "
                "root), or an absolute path."
            ),
        ],
        start_line: Annotated[int, Field(ge=1, description="First line, 1-based.")] = 1,
        end_line: Annotated[
            int | None, Field(ge=1, description="Last line, inclusive (at most 500 lines).")
        ] = None,
        root: Annotated[
            str | None, Field(description="The root the path is relative to, if several hold it.")
        ] = None,
    ) -> Annotated[CallToolResult, ReadResult]:
        """Read lines of a file inside an indexed root (at most 500 per call). Paths that lead
        out of the roots (.., absolute paths elsewhere, symlinks) are refused."""
        try:
            roots = await on_index(service.roots, root)
            lines = await anyio.to_thread.run_sync(
                lambda: read_lines(roots, path, start_line, end_line, cwd=Path.cwd())
            )
        except (ReadRefused, IndexProblem) as error:
            raise ToolError(str(error)) from error
        result = ReadResult(**dataclasses.asdict(lines))  # type: ignore[typeddict-item]
        more = f" (of {lines.total_lines})" if lines.truncated else ""
        heading = f"{lines.path}:{lines.start_line}-{lines.end_line}{more}"
        return CallToolResult(
            content=[TextContent(type="text", text=f"{heading}\n{lines.text}")],
            structured_content=dict(result),
        )

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False))
    async def index() -> dict[str, object]:
        """Bring the index up to date with its roots (new, changed and deleted files) in the
        background, and return at once: search keeps answering from what is stored, and
        status says when the run is done. Adds no new roots."""
        try:
            run = await on_index(service.start_index_run)
        except IndexProblem as error:
            raise ToolError(str(error)) from error
        return {"started": True, "pid": run.pid, "message": "index run started; see status"}

    return server


def serve(index_dir: Path, *, trust_remote_code: bool = False) -> None:
    """Run the server on stdin/stdout until the client closes it. Raises `IndexProblem` when
    there is no usable index, before the protocol starts."""
    logging.basicConfig(level=logging.WARNING)
    service = IndexService(index_dir, trust_remote_code=trust_remote_code)
    try:
        build_server(service).run("stdio")
    finally:
        service.close()
