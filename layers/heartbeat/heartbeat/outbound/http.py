"""A blocking HTTP(S) client for requests made on a tenant's behalf, on `http.client`.

Every hop (the first request and each redirect) goes through `guard.check_url`, and the socket is
opened to one of the addresses that check resolved, with the URL's host as the TLS server name and
Host header, so a name cannot re-resolve to another address between check and connect. The whole
exchange shares one deadline (`timeout_s`, redirects included), the body read stops at `max_bytes`
(`truncated` says so), and at most `max_redirects` redirects are followed. A redirect to another
origin drops the caller's `authorization`, `cookie` and `proxy-authorization` headers. Proxies in the
environment are ignored (`http.client` never reads them).

Transport failures and refusals raise `OutboundError` (its subclass `OutboundRefusedError` when the
guard refused a hop); any HTTP status, 4xx and 5xx included, is a response.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin

from heartbeat.errors import HeartbeatError
from heartbeat.outbound.guard import OutboundRefusedError, Resolver, Target, check_url
from heartbeat.tls import default_context

USER_AGENT = "heartbeat/0.1 (+https://github.com/heartbeat)"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_REDIRECTS = (301, 302, 303, 307, 308)
_CROSS_ORIGIN_DROPPED = ("authorization", "cookie", "proxy-authorization")
_CHUNK = 64 * 1024


class OutboundError(HeartbeatError):
    """The request could not be completed: timeout, connection failure, TLS, too many redirects."""


@dataclass(frozen=True)
class OutboundResponse:
    status: int
    headers: Mapping[str, str]
    """Header names in lower case (repeated headers joined with ', ')."""
    body: bytes
    url: str
    """The URL that answered (after redirects)."""
    truncated: bool = False
    """True when the body was longer than `max_bytes` and was cut there."""
    redirects: tuple[str, ...] = field(default=())

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address, whatever the host name would resolve to now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect_any(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=default_context())
        self._addresses = target.addresses

    def connect(self) -> None:
        sock = _connect_any(self._addresses, self.port, self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        except BaseException:
            sock.close()
            raise


def _connect_any(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as error:
            last = error
    raise last or OSError("no address to connect to")


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout_s: float = 10.0,
    max_bytes: int = 2 * 1024 * 1024,
    max_redirects: int = 5,
    allow_private: bool = False,
    resolver: Resolver | None = None,
    check_hop: Callable[[Target], None] | None = None,
) -> OutboundResponse:
    """Send one request (following redirects) to a URL the guard allows; see the module docstring.
    `check_hop`, when given, sees every checked hop before it is connected to and may raise
    `OutboundRefusedError` (web_fetch's `web_allow` patterns use it)."""
    method = method.upper()
    if method not in METHODS:
        raise OutboundError(f"method {method!r} is not one of {', '.join(METHODS)}", param="method")
    deadline = time.monotonic() + timeout_s
    sent_headers = {k.lower(): v for k, v in (headers or {}).items()}
    sent_headers.setdefault("user-agent", USER_AGENT)
    sent_headers.setdefault("accept-encoding", "identity")
    current_url, current_method, current_body = url, method, body
    visited: list[str] = []
    target = check_url(current_url, allow_private=allow_private, resolver=resolver)
    if check_hop is not None:
        check_hop(target)
    while True:
        status, response_headers, data, truncated = _exchange(
            target, current_method, sent_headers, current_body, deadline=deadline, max_bytes=max_bytes
        )
        location = response_headers.get("location")
        if status not in _REDIRECTS or not location:
            return OutboundResponse(
                status=status,
                headers=response_headers,
                body=data,
                url=current_url,
                truncated=truncated,
                redirects=tuple(visited),
            )
        if len(visited) >= max_redirects:
            raise OutboundError(f"more than {max_redirects} redirects (last to {_redacted(location)})")
        visited.append(current_url)
        next_url = urljoin(current_url, location)
        try:
            next_target = check_url(next_url, allow_private=allow_private, resolver=resolver)
            if check_hop is not None:
                check_hop(next_target)
        except OutboundRefusedError as error:
            raise OutboundRefusedError(f"redirect refused: {error.message}") from None
        if next_target.origin != target.origin:
            for name in _CROSS_ORIGIN_DROPPED:
                sent_headers.pop(name, None)
        if status == 303 or (status in (301, 302) and current_method == "POST"):
            current_method = "GET" if current_method != "HEAD" else "HEAD"
            current_body = None
            sent_headers.pop("content-type", None)
        current_url, target = next_url, next_target


def _exchange(
    target: Target,
    method: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    deadline: float,
    max_bytes: int,
) -> tuple[int, dict[str, str], bytes, bool]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundError("timed out")
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, remaining)
    else:
        connection = _PinnedHTTPConnection(target, remaining)
    all_headers = {"host": target.host_header, **headers}
    try:
        connection.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
        for name, value in all_headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("content-length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        response_headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            response_headers[key] = f"{response_headers[key]}, {value}" if key in response_headers else value
        chunks: list[bytes] = []
        size = 0
        truncated = False
        if method != "HEAD":
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OutboundError("timed out reading the response")
                if connection.sock is not None:
                    connection.sock.settimeout(left)
                chunk = response.read(min(_CHUNK, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    truncated = True
                    break
        data = b"".join(chunks)[:max_bytes]
        return response.status, response_headers, data, truncated
    except TimeoutError:
        raise OutboundError("timed out") from None
    except ssl.SSLError as error:
        raise OutboundError(f"TLS failed: {error.reason or error}") from None
    except (OSError, http.client.HTTPException) as error:
        raise OutboundError(f"connection to {target.host} failed: {type(error).__name__}: {error}") from None
    finally:
        connection.close()


def _redacted(url: str) -> str:
    """A URL for a message: scheme, host and path only (no query, which may carry tokens)."""
    return url.split("?", 1)[0][:200]
