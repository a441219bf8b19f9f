"""The guard for httpx2 clients (the MCP SDK speaks httpx2): a transport whose every TCP connection,
redirects and reconnections included, goes through `guard.resolve` and opens to a checked address.

httpcore2 passes the URL's host to the network backend's `connect_tcp` and keeps it as the TLS
server name, so swapping the host for a checked address at that one point pins the connection
without touching certificate checks. Imported only by code that uses httpx2 (MCP runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio.to_thread
import httpcore2
import httpx2

from heartbeat.outbound.guard import OutboundRefusedError, Resolver, resolve


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None) -> None:
        self._inner = httpcore2.AnyIOBackend()
        self._allow_private = allow_private
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        name = host.strip("[]").rstrip(".").lower()
        addresses = await anyio.to_thread.run_sync(
            lambda: resolve(name, port, allow_private=self._allow_private, resolver=self._resolver)
        )
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as error:
                last = error
        raise last or httpcore2.ConnectError(f"no address for {name}")

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore2.AsyncNetworkStream:
        raise OutboundRefusedError("unix sockets cannot be reached")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """`httpx2.AsyncHTTPTransport` with the system CA store, no proxies, and the guarded backend."""

    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None) -> None:
        super().__init__(trust_env=False)
        ssl_context = self._pool._ssl_context  # the context super() built (system CA store)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl_context,
            network_backend=GuardedBackend(allow_private=allow_private, resolver=resolver),
        )


def guarded_client(
    *,
    allow_private: bool,
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
    resolver: Resolver | None = None,
) -> httpx2.AsyncClient:
    """An httpx2 client whose connections the guard checks (no redirects followed by httpx2 itself)."""
    return httpx2.AsyncClient(
        transport=GuardedTransport(allow_private=allow_private, resolver=resolver),
        headers=headers,
        timeout=httpx2.Timeout(timeout_s),
        trust_env=False,
        follow_redirects=False,
    )
