"""A tenant's MCP servers as the Soul's tools, over Streamable HTTP with the official `mcp` SDK.

`McpRuntime` runs the SDK's async sessions on an event loop in one background thread, so the sync
agent loop can call them: at run start it connects to every server the task names (through the
outbound guard's httpx2 transport, with the server's header values), lists their tools, and
exposes each as `<server>__<tool>` (at most 64 characters, `[A-Za-z0-9_-]` only). A server that
cannot be reached fails the run with a message naming it (`McpConnectError`); a tool call that
fails, times out or answers `isError` goes back to the model as a tool error. Header values never
appear in a message, a log line or the run record.

Importing this module imports no MCP code: the SDK (about 2.6 s of cold import) is imported when a
runtime connects, so runs without MCP tools never pay for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from heartbeat.errors import DependencyError
from heartbeat.soul.types import ToolError, ToolSpec

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
CALL_TIMEOUT_S = 30.0
MAX_TOOL_NAME = 64
MAX_TOOLS_PER_SERVER = 128
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class McpConnectError(DependencyError):
    """An MCP server could not be reached or listed; the message names the server, never a header."""


@dataclass(frozen=True)
class McpEndpoint:
    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    only: frozenset[str] | None = None
    """The tools the task allows (`mcp:<server>/<tool>`); None: all of them."""


@dataclass(frozen=True)
class McpToolInfo:
    server: str
    name: str
    description: str
    input_schema: Mapping[str, Any]


def exposed_name(server: str, tool: str) -> str:
    """`<server>__<tool>`, sanitised to what every provider accepts: `[A-Za-z0-9_-]{1,64}`. A name
    that had to be cut keeps a short hash of the original, so two long names stay apart."""
    name = _UNSAFE.sub("_", f"{server}__{tool}")
    if len(name) <= MAX_TOOL_NAME:
        return name
    digest = hashlib.sha256(f"{server}/{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_TOOL_NAME - 9]}_{digest}"


def _describe(exc: BaseException) -> str:
    """A short message for a failure deep in the SDK (task groups wrap it in exception groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(message).split())[:300]


def _sdk_errors() -> tuple[type[BaseException], ...]:
    """What a session or a call can raise through the SDK: transport, protocol and guard errors
    (task groups wrap them in exception groups). Anything else is a bug and fails the run."""
    import anyio
    import httpx2
    from mcp.shared.exceptions import MCPError

    from heartbeat.errors import HeartbeatError

    return (
        HeartbeatError,
        MCPError,
        httpx2.HTTPError,
        anyio.BrokenResourceError,
        anyio.ClosedResourceError,
        anyio.EndOfStream,
        OSError,
        RuntimeError,
        ValueError,
        BaseExceptionGroup,
    )


def _result_text(result: Any) -> tuple[str, bool]:
    """(text for the model, is_error) of a CallToolResult."""
    parts: list[str] = []
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(item.text)
        elif kind == "resource" and getattr(getattr(item, "resource", None), "text", None):
            parts.append(item.resource.text)
        else:
            parts.append(f"[{kind or 'content'} not shown]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False, default=str))
    return "\n".join(parts) or "(no content)", bool(getattr(result, "is_error", False))


class McpRuntime:
    """The MCP sessions of one run (or of one connectivity test). Use as a context manager."""

    def __init__(
        self,
        *,
        allow_private: bool,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        call_timeout_s: float = CALL_TIMEOUT_S,
        resolver: Callable[..., Any] | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._connect_timeout_s = connect_timeout_s
        self._call_timeout_s = call_timeout_s
        self._resolver = resolver
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._owner: concurrent.futures.Future[None] | None = None
        self._stop: asyncio.Event | None = None
        self._sessions: dict[str, Any] = {}

    def __enter__(self) -> McpRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connecting --------------------------------------------------------------------------
    def connect(self, endpoints: list[McpEndpoint]) -> list[McpToolInfo]:
        """Connect to every endpoint and list its tools; `McpConnectError` names the first that fails."""
        if not endpoints:
            return []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="heartbeat-mcp", daemon=True)
        self._thread.start()
        ready: concurrent.futures.Future[list[McpToolInfo]] = concurrent.futures.Future()
        self._owner = asyncio.run_coroutine_threadsafe(self._own(endpoints, ready), self._loop)
        try:
            return ready.result(timeout=self._connect_timeout_s * len(endpoints) + 5)
        except concurrent.futures.TimeoutError:
            raise McpConnectError(
                f"MCP server '{endpoints[0].name}' did not answer in {self._connect_timeout_s:g} s"
            ) from None

    async def _own(
        self, endpoints: list[McpEndpoint], ready: concurrent.futures.Future[list[McpToolInfo]]
    ) -> None:
        """Opens the sessions, keeps them open until `close`, then closes them, all in one task
        (the SDK's task groups must be entered and left by the same task)."""
        self._stop = asyncio.Event()
        current = endpoints[0].name
        try:
            async with AsyncExitStack() as stack:
                listing: list[McpToolInfo] = []
                for endpoint in endpoints:
                    current = endpoint.name
                    listing.extend(
                        await asyncio.wait_for(self._open(stack, endpoint), self._connect_timeout_s)
                    )
                ready.set_result(listing)
                await self._stop.wait()
        except TimeoutError:
            self._fail(ready, f"MCP server '{current}' did not answer in {self._connect_timeout_s:g} s")
        except _sdk_errors() as exc:
            self._fail(ready, f"MCP server '{current}' could not be reached: {_describe(exc)}")
        finally:
            if not ready.done():  # an unexpected error: `connect` must not wait for its timeout
                ready.set_exception(McpConnectError(f"MCP server '{current}' could not be reached"))

    @staticmethod
    def _fail(ready: concurrent.futures.Future[list[McpToolInfo]], message: str) -> None:
        if not ready.done():
            ready.set_exception(McpConnectError(message))
        else:
            logger.warning("MCP session ended: %s", message)

    async def _open(self, stack: AsyncExitStack, endpoint: McpEndpoint) -> list[McpToolInfo]:
        from mcp.client.session import ClientSession
        from mcp.client.streamable_http import streamable_http_client

        from heartbeat.outbound.guard import check_url
        from heartbeat.outbound.transport import guarded_client

        check_url(endpoint.url, allow_private=self._allow_private, resolver=self._resolver)
        statuses: list[int] = []

        async def remember_status(response: Any) -> None:
            if response.status_code >= 400:
                statuses.append(response.status_code)

        client = guarded_client(
            allow_private=self._allow_private,
            headers=dict(endpoint.headers),
            timeout_s=self._call_timeout_s,
            resolver=self._resolver,
        )
        client.event_hooks["response"].append(remember_status)
        await stack.enter_async_context(client)
        try:
            read, write = await stack.enter_async_context(
                streamable_http_client(endpoint.url, http_client=client)
            )
            session = await stack.enter_async_context(ClientSession(read, write))
            await session.initialize()
            tools: list[McpToolInfo] = []
            cursor: str | None = None
            while True:
                from mcp.types import PaginatedRequestParams

                page = await session.list_tools(
                    params=PaginatedRequestParams(cursor=cursor) if cursor else None
                )
                for tool in page.tools:
                    if endpoint.only is None or tool.name in endpoint.only:
                        tools.append(
                            McpToolInfo(
                                server=endpoint.name,
                                name=tool.name,
                                description=tool.description or "",
                                input_schema=dict(tool.input_schema or {"type": "object"}),
                            )
                        )
                cursor = page.next_cursor
                if not cursor or len(tools) >= MAX_TOOLS_PER_SERVER:
                    break
        except _sdk_errors() as exc:
            if statuses:
                raise RuntimeError(f"HTTP {statuses[-1]} from {endpoint.url.split('?', 1)[0]}") from exc
            raise
        if endpoint.only is not None:
            missing = sorted(endpoint.only - {tool.name for tool in tools})
            if missing:
                raise RuntimeError(f"it has no tool named {', '.join(repr(m) for m in missing)}")
        self._sessions[endpoint.name] = session
        return tools

    # -- calling -----------------------------------------------------------------------------
    def call(self, server: str, tool: str, arguments: Mapping[str, Any]) -> str:
        session = self._sessions.get(server)
        if session is None or self._loop is None:
            raise ToolError(f"MCP server '{server}' is not connected")
        future = asyncio.run_coroutine_threadsafe(
            session.call_tool(tool, dict(arguments), read_timeout_seconds=self._call_timeout_s), self._loop
        )
        try:
            result = future.result(timeout=self._call_timeout_s + 2)
        except (TimeoutError, concurrent.futures.TimeoutError):
            future.cancel()
            raise ToolError(f"{server}__{tool} did not answer in {self._call_timeout_s:g} s") from None
        except _sdk_errors() as exc:
            raise ToolError(f"{server}__{tool} failed: {_describe(exc)}") from None
        text, is_error = _result_text(result)
        if is_error:
            raise ToolError(f"{server}__{tool} answered with an error: {text[:2000]}")
        return text

    def close(self) -> None:
        if self._loop is None:
            return
        loop, self._loop = self._loop, None
        if self._stop is not None:
            loop.call_soon_threadsafe(self._stop.set)
        if self._owner is not None:
            closing_errors: tuple[type[BaseException], ...] = (
                *_sdk_errors(),
                concurrent.futures.TimeoutError,
            )
            try:
                self._owner.result(timeout=5)
            except closing_errors as exc:  # closing must not fail the run
                logger.warning("closing MCP sessions: %s", _describe(exc))
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not loop.is_running():
            loop.close()
        self._sessions.clear()


@dataclass(frozen=True)
class McpTool:
    """One MCP tool as the Soul sees it."""

    spec: ToolSpec
    server: str
    tool: str
    runtime: McpRuntime

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        return self.runtime.call(self.server, self.tool, arguments)


def mcp_tools(runtime: McpRuntime, listing: list[McpToolInfo]) -> list[McpTool]:
    tools: list[McpTool] = []
    seen: set[str] = set()
    for info in listing:
        name = exposed_name(info.server, info.name)
        if name in seen:
            name = exposed_name(
                info.server, f"{info.name}_{hashlib.sha256(info.name.encode()).hexdigest()[:6]}"
            )
        seen.add(name)
        schema = dict(info.input_schema)
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        description = f"[MCP server {info.server}] {info.description}".strip()[:1024]
        tools.append(McpTool(ToolSpec(name, description, schema), info.server, info.name, runtime))
    return tools
