"""Real servers on loopback for the tools' tests: a status page (plain HTTP) and an MCP server built
with the official SDK (`MCPServer`, FastMCP's name in mcp 2) over Streamable HTTP, behind a bearer
header check like a tenant's real server."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

STATUS_HTML = b"""<!doctype html>
<html><head><title>Example Status</title><style>body{color:red}</style>
<script>var secret = "not text";</script></head>
<body><h1>API: degraded performance</h1>
<p>Elevated error rates on <a href="/api">the API</a> since 21:40 UTC.</p>
<ul><li>Web: operational</li><li>Workers: operational</li></ul></body></html>"""


class _StatusHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if self.path == "/status":
            body, kind = STATUS_HTML, "text/html; charset=utf-8"
        elif self.path == "/big":
            body, kind = ("<p>" + "word " * 10_000 + "</p>").encode(), "text/html"
        elif self.path == "/json":
            body, kind = b'{"ok": true}', "application/json"
        elif self.path == "/redirect-away":
            self.send_response(302)
            self.send_header("location", "http://elsewhere.test/status")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        else:
            body, kind = b"not found", "text/plain"
            self.send_response(404)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@contextlib.contextmanager
def status_page() -> Iterator[str]:
    """A status page on 127.0.0.1: yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StatusHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class McpTestServer:
    url: str
    token: str
    authorizations: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@contextlib.contextmanager
def mcp_server(token: str = "mcp-secret-token-123") -> Iterator[McpTestServer]:
    """An MCP server on 127.0.0.1 that answers only requests with `Authorization: Bearer <token>`."""
    import uvicorn
    from mcp.server.mcpserver import MCPServer

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    state = McpTestServer(url=f"http://127.0.0.1:{port}/mcp", token=token)
    server = MCPServer("deploys")

    @server.tool()
    def deploy_status(service: str) -> str:
        """The deployment status of one service."""
        state.calls.append(("deploy_status", {"service": service}))
        return f"{service}: version 42 rolling out, 3 of 5 instances healthy"

    @server.tool()
    def broken() -> str:
        """Always fails."""
        state.calls.append(("broken", {}))
        raise ValueError("the deploy database is down")

    @server.tool()
    def slow(seconds: float) -> str:
        """Sleeps, then answers."""
        time.sleep(seconds)
        return "done"

    app = server.streamable_http_app()

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            state.authorizations.append(auth)
            if auth != f"Bearer {token}":
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    config = uvicorn.Config(guarded, log_level="error", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the MCP test server did not start")
        time.sleep(0.02)
    try:
        yield state
    finally:
        uv.should_exit = True
        thread.join(10)
        sock.close()
