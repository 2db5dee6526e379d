"""The service's optional HTTP listener, for editors that cannot speak to a Unix socket.

Only on a loopback address given explicitly (`--http 127.0.0.1:PORT`), and only for requests
that carry the run's token (`Authorization: Bearer TOKEN`, TOKEN from INDEX/serve.token):
any other local user, or a web page in a browser, gets 401. The bodies are the socket
protocol's JSON objects (see `gte_search.service`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from gte_search.config import SettingError

if TYPE_CHECKING:
    from gte_search.service import Service

MAX_BODY_BYTES = 1 << 20
OPS = ("search", "status")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    service: Service
    token: str


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_POST(self) -> None:
        expected = f"Bearer {self.server.token}".encode()
        given = (self.headers.get("Authorization") or "").encode()
        if not hmac.compare_digest(given, expected):
            self._send(401, {"ok": False, "error": "missing or wrong token", "user_error": True})
            return
        op = self.path.strip("/")
        if op not in OPS:
            self._send(404, {"ok": False, "error": f"no such endpoint: {self.path}"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 <= length <= MAX_BODY_BYTES:
            self._send(413, {"ok": False, "error": "request too large"})
            return
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            request = None
        if not isinstance(request, dict):
            self._send(400, {"ok": False, "error": "the body is one JSON object"})
            return
        request["op"] = op
        self._send(200, self.server.service.answer(request))

    def do_GET(self) -> None:
        self._send(405, {"ok": False, "error": "use POST"})

    def _send(self, code: int, answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client left

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the service logs updates, not every request


def parse_address(address: str) -> tuple[str, int]:
    """HOST:PORT (or [V6]:PORT) on a loopback address; anything else is refused."""
    host, sep, port = address.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise SettingError(f"--http takes HOST:PORT, such as 127.0.0.1:7070, not {address!r}")
    try:
        loopback = ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        loopback = host == "::1"
    if not loopback:
        raise SettingError(f"--http listens on loopback addresses only, not {host}")
    return host, int(port)


def make_http_server(address: str, service: Service, token: str) -> _HttpServer:
    host, port = parse_address(address)

    class Server(_HttpServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    server = Server((host, port), _Handler)
    server.service = service
    server.token = token
    return server
