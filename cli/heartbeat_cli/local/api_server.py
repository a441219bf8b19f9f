"""The local API Gateway's HTTP front: a threading HTTP server on loopback that hands each request
to `Gateway`. The OpenAPI document, Swagger UI and the console are the api function's own routes
(template.yaml, without the authorizer), so the local stack serves exactly what AWS serves."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from heartbeat_cli.local.gateway import Gateway, HttpRequest, HttpResponse
from heartbeat_cli.local.ports import port_error

log = logging.getLogger("heartbeat.local")


class ApiServer:
    def __init__(self, gateway: Gateway, port: int = 3000, host: str = "127.0.0.1") -> None:
        handler = _handler_class(gateway)
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


def _handler_class(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "heartbeat-local"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                response = gateway.handle(
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
