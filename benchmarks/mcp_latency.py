"""How long an agent waits on `gte-search mcp`: start to the tool list, the first lexical
search (no model), the first hybrid search (loads the model, unless a `gte-search serve` on
the same index answers it) and a warm one.

    python benchmarks/mcp_latency.py --index DIR ["query"]

Speaks raw JSON-RPC lines over the server's pipes, as a client does, and checks that every
line the server wrote to stdout is protocol.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, index: Path) -> None:
        command = [sys.executable, "-m", "gte_search", "mcp", "--index", str(index)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPOSITORY
        )
        self.next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, *, notify: bool = False):
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            self.next_id += 1
            message["id"] = self.next_id
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        if notify:
            return None
        reply = json.loads(self.process.stdout.readline())
        assert reply.get("id") == self.next_id, reply
        return reply["result"]

    def search(self, query: str, mode: str) -> float:
        started = time.perf_counter()
        result = self.send(
            "tools/call", {"name": "search", "arguments": {"query": query, "mode": mode}}
        )
        assert not result.get("isError"), result
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("query", nargs="?", default="parse cookies from a Cookie header")
    args = parser.parse_args()
    started = time.perf_counter()
    server = Server(args.index)
    client = {"name": "bench", "version": "0"}
    server.send(
        "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
    )
    server.send("notifications/initialized", notify=True)
    tools = server.send("tools/list")["tools"]
    print(f"start to tools/list ({len(tools)} tools): {time.perf_counter() - started:.2f}s")
    print(f"first lexical search:  {server.search(args.query, 'lexical'):.3f}s")
    first = server.search(args.query, "hybrid")
    print(f"first hybrid search:   {first:.3f}s (loads the model, or asks a running serve)")
    warm = [server.search(args.query, "hybrid") for _ in range(5)]
    print(f"warm hybrid search:    {min(warm):.3f}s (best of 5)")
    assert server.process.stdin is not None and server.process.stdout is not None
    server.process.stdin.close()
    rest = server.process.stdout.read()
    server.process.wait(30)
    assert not rest.strip(), f"stdout carried more than protocol: {rest[:200]!r}"


if __name__ == "__main__":
    main()
