"""`gte-search mcp`: serve the index to coding agents and editors over MCP (stdio)."""

from __future__ import annotations

from pathlib import Path

import click

from gte_search.cli_common import index_option, trust_option, user_errors
from gte_search.config import default_index_dir


@click.command()
@trust_option
@index_option
def mcp(trust_remote_code: bool, index_dir: Path | None) -> None:
    """Serve the index as MCP tools (search, read, status, index) on stdin/stdout.

    For a coding agent's or an editor's MCP configuration; see README-mcp.md. The model loads
    on the first query that needs it; nothing but protocol is written to stdout.
    """
    from gte_search.mcp_server import serve

    with user_errors():
        serve(index_dir or default_index_dir(), trust_remote_code=trust_remote_code)
