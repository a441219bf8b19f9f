"""The local API Gateway's HTTP front: a threading HTTP server on loopback that hands each request
to `Gateway`, and serves the OpenAPI document and a Swagger UI beside the API's routes."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from heartbeat_cli.local.gateway import Gateway, HttpRequest, HttpResponse
from heartbeat_cli.local.ports import port_error

log = logging.getLogger("heartbeat.local")

OPENAPI_PATH = "/v1/openapi.json"
DOCS_PATH = "/docs"
_SWAGGER_FILES = {"swagger-ui-bundle.min.js": "text/javascript", "swagger-ui.min.css": "text/css"}
_DOCS_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Heartbeat API</title>
<link rel="stylesheet" href="/docs/swagger-ui.min.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.min.js"></script>
<script>SwaggerUIBundle({url: "%s", dom_id: "#swagger-ui", persistAuthorization: true});</script>
</body></html>
"""


def swagger_asset(name: str) -> bytes | None:
    """Swagger UI's files, as Powertools ships them (no CDN needed offline)."""
    if name not in _SWAGGER_FILES:
        return None
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as swagger_ui

    path = Path(swagger_ui.__file__).parent / name
    return path.read_bytes() if path.exists() else None


class LocalPages:
    """The pages the local stack serves itself: the OpenAPI document and the Swagger UI."""

    def __init__(self, openapi: Callable[[], str]) -> None:
        self._openapi = openapi
        self._openapi_text: str | None = None

    def answer(self, method: str, path: str) -> HttpResponse | None:
        if method not in ("GET", "HEAD"):
            return None
        if path == OPENAPI_PATH:
            if self._openapi_text is None:
                self._openapi_text = self._openapi()
            return HttpResponse(200, [("content-type", "application/json")], self._openapi_text.encode())
        if path in (DOCS_PATH, DOCS_PATH + "/"):
            page = (_DOCS_PAGE % OPENAPI_PATH).encode()
            return HttpResponse(200, [("content-type", "text/html; charset=utf-8")], page)
        if path.startswith(DOCS_PATH + "/"):
            name = path[len(DOCS_PATH) + 1 :]
            asset = swagger_asset(name)
            if asset is not None:
                return HttpResponse(200, [("content-type", _SWAGGER_FILES[name])], asset)
        return None


class ApiServer:
    def __init__(
        self, gateway: Gateway, pages: LocalPages, port: int = 3000, host: str = "127.0.0.1"
    ) -> None:
        handler = _handler_class(gateway, pages)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise port_error(exc, port, "the API", "--port") from exc
        self._server.daemon_threads = True
        self._host = host
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="api-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def _handler_class(gateway: Gateway, pages: LocalPages) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "heartbeat-local"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.partition("?")[0]
            try:
                response = pages.answer(self.command, path) or gateway.handle(
                    HttpRequest(
                        self.command, self.path, list(self.headers.items()), body, self.client_address[0]
                    )
                )
            # The server's one boundary: a bug in the local gateway answers 500 (and is logged)
            # instead of dropping the connection.
            except Exception:  # noqa: BLE001
                log.exception("the local API gateway failed")
                response = HttpResponse.message(500, "Internal Server Error")
            self.send_response(response.status)
            for name, value in response.headers:
                if name != "content-length":
                    self.send_header(name, value)
            self.send_header("content-length", str(len(response.body)))
            self.send_header("apigw-requestid", self.headers.get("x-request-id", "local"))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, CONNECT, PROPFIND...): the gateway's 404 Not Found, as on
            # API Gateway, not http.server's 501 HTML page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            log.info("%s %s", self.address_string(), format % args)

    return Handler


def openapi_document(resolver: Any) -> str:
    """The OpenAPI document Powertools generates from the api function's routes."""
    text: str = resolver.get_openapi_json_schema(title="Heartbeat API", version="1.0.0")
    json.loads(text)  # it is JSON, or this raises before a client sees it
    return text
