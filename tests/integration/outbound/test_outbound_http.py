"""The outbound HTTP client against a real HTTP server on loopback: it connects to the address the
guard checked, re-checks every redirect, and bounds redirects, bytes and time."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from heartbeat.outbound.guard import OutboundRefusedError
from heartbeat.outbound.http import OutboundError, request


class Handler(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _record(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        Handler.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body,
            }
        )
        return body

    def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            with contextlib.suppress(BrokenPipeError):  # the client gave up (the deadline test)
                self.wfile.write(body)

    def do_GET(self) -> None:
        self._record()
        port = self.server.server_address[1]
        if self.path == "/status":
            self._answer(200, b"all systems go", {"content-type": "text/plain"})
        elif self.path.startswith("/redirect/"):
            hops = int(self.path.rsplit("/", 1)[1])
            self._answer(302, headers={"location": f"/redirect/{hops - 1}" if hops else "/status"})
        elif self.path == "/to-other-origin":
            self._answer(302, headers={"location": f"http://localhost:{port}/status"})
        elif self.path == "/to-credentials":
            self._answer(302, headers={"location": f"http://user:pw@127.0.0.1:{port}/status"})
        elif self.path == "/to-file":
            self._answer(301, headers={"location": "file:///etc/passwd"})
        elif self.path == "/big":
            self._answer(200, b"x" * 50_000, {"content-type": "text/plain"})
        elif self.path == "/slow":
            time.sleep(1.5)
            self._answer(200, b"late")
        else:
            self._answer(404, b"no such page")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        body = self._record()
        if self.path == "/see-other":
            self._answer(303, headers={"location": "/status"})
        else:
            self._answer(201, b"got " + body, {"content-type": "text/plain"})


@pytest.fixture
def server() -> Iterator[str]:
    Handler.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_get_answers_status_type_and_body(server: str) -> None:
    response = request("GET", f"{server}/status", allow_private=True)
    assert (response.status, response.content_type, response.body) == (200, "text/plain", b"all systems go")
    assert not response.truncated


def test_a_loopback_server_is_refused_unless_private_targets_are_allowed(server: str) -> None:
    with pytest.raises(OutboundRefusedError, match="loopback"):
        request("GET", f"{server}/status")
    assert Handler.seen == []


def test_a_post_sends_its_body_and_headers(server: str) -> None:
    response = request(
        "POST", f"{server}/echo", body=b"hello", headers={"X-Token": "abc"}, allow_private=True
    )
    assert (response.status, response.body) == (201, b"got hello")
    assert Handler.seen[0]["headers"]["x-token"] == "abc"


def test_a_head_reads_no_body(server: str) -> None:
    response = request("HEAD", f"{server}/status", allow_private=True)
    assert (response.status, response.body) == (200, b"")


def test_the_connection_goes_to_the_checked_address_whatever_the_name_resolves_to_later(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "10.9.9.9", "10.9.9.9"])
    calls: list[str] = []

    def rebinding(host: str, port_: int, *args: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port_))]

    response = request(
        "GET", f"http://status.example.test:{port}/status", allow_private=True, resolver=rebinding
    )
    assert response.body == b"all systems go"
    assert calls == ["status.example.test"]  # resolved once, connected to that answer
    assert Handler.seen[0]["headers"]["host"] == f"status.example.test:{port}"


def test_redirects_are_followed_up_to_five(server: str) -> None:
    response = request("GET", f"{server}/redirect/4", allow_private=True)
    assert response.body == b"all systems go"
    assert len(response.redirects) == 5
    with pytest.raises(OutboundError, match="more than 5 redirects"):
        request("GET", f"{server}/redirect/5", allow_private=True)


@pytest.mark.parametrize(("path", "why"), [("/to-credentials", "credentials"), ("/to-file", "http")])
def test_every_redirect_is_checked_again(server: str, path: str, why: str) -> None:
    with pytest.raises(OutboundRefusedError, match=f"redirect refused.*{why}"):
        request("GET", f"{server}{path}", allow_private=True)


def test_a_redirect_to_another_origin_drops_credentials_headers(server: str) -> None:
    response = request(
        "GET",
        f"{server}/to-other-origin",
        headers={"Authorization": "Bearer s3cret", "X-Keep": "1"},
        allow_private=True,
    )
    assert response.status == 200
    first, second = Handler.seen
    assert first["headers"]["authorization"] == "Bearer s3cret"
    assert "authorization" not in second["headers"]
    assert second["headers"]["x-keep"] == "1"


def test_a_303_after_a_post_becomes_a_get_without_the_body(server: str) -> None:
    response = request("POST", f"{server}/see-other", body=b"payload", allow_private=True)
    assert response.body == b"all systems go"
    assert [hit["method"] for hit in Handler.seen] == ["POST", "GET"]
    assert Handler.seen[1]["body"] == b""


def test_reads_stop_at_the_byte_limit_and_say_so(server: str) -> None:
    response = request("GET", f"{server}/big", max_bytes=10_000, allow_private=True)
    assert len(response.body) == 10_000
    assert response.truncated


def test_the_whole_exchange_has_one_deadline(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundError, match="timed out"):
        request("GET", f"{server}/slow", timeout_s=0.3, allow_private=True)
    assert time.monotonic() - started < 1.2


def test_a_closed_port_is_a_connection_error(server: str) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(OutboundError, match="connection to 127.0.0.1 failed"):
        request("GET", f"http://127.0.0.1:{port}/", allow_private=True)


def test_the_httpx2_transport_applies_the_same_guard(server: str) -> None:
    import anyio

    from heartbeat.outbound.transport import guarded_client

    async def fetch(allow_private: bool) -> tuple[int, bytes]:
        async with guarded_client(allow_private=allow_private) as client:
            response = await client.get(f"{server}/status")
            return response.status_code, response.content

    assert anyio.run(fetch, True) == (200, b"all systems go")
    with pytest.raises(OutboundRefusedError, match="loopback"):
        anyio.run(fetch, False)
    assert len(Handler.seen) == 1
