"""The toolset of one run: every tool the Soul may call while running one task, from its task's
`tools` (DESIGN.md section 8). The runner asks this one place for a run's tools (`run_toolset`).

`build_toolset` gives the tools in a stable order: the memory tools (`memory`), `notify`,
`web_fetch` (`web`), the MCP servers' tools (`mcp:<server>`, `mcp:<server>/<tool>`), and
`report_failure`, which every run has. Each tool is wrapped so the run record lists its calls as
`{"name", "ok", "ms", "error"}` (never the arguments). The MCP SDK is imported only when the task
names a server. Close the toolset when the run ends (it holds the MCP sessions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from heartbeat.models.tools import DEFAULT_TOOLS, mcp_entry
from heartbeat.soul.types import Tool, ToolError, ToolSpec

if TYPE_CHECKING:
    from heartbeat.memory.store import MemoryStore
    from heartbeat.tools.mcp import McpEndpoint, McpRuntime

logger = logging.getLogger(__name__)

MAX_RECORDED_ERROR = 200


@dataclass
class ToolCallLog:
    """The tool calls of one run, for its record."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def record(self, name: str, ok: bool, ms: int, error: str | None) -> None:
        self.calls.append({"name": name, "ok": ok, "ms": ms, "error": error})


@dataclass(frozen=True)
class RecordedTool:
    inner: Tool
    log: ToolCallLog

    @property
    def spec(self) -> ToolSpec:
        return self.inner.spec

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        from heartbeat.tools.failure import ReportedFailure

        started = time.monotonic()
        ok, error = True, None
        try:
            return self.inner(arguments)
        except ToolError as exc:
            ok, error = False, _short(str(exc) or "failed")
            raise
        except ReportedFailure:
            raise
        except BaseException as exc:
            ok, error = False, _short(f"{type(exc).__name__}: the run failed here")
            raise
        finally:
            self.log.record(self.inner.spec.name, ok, int((time.monotonic() - started) * 1000), error)


def _short(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_RECORDED_ERROR else message[: MAX_RECORDED_ERROR - 1] + "…"


@dataclass(frozen=True)
class ToolsetRequest:
    tools: Sequence[str]
    web_allow: Sequence[str] = ()
    run_id: str | None = None
    task_id: str | None = None


@dataclass
class Toolset:
    tools: list[Tool]
    log: ToolCallLog
    notifications: list[dict[str, Any]]
    runtime: McpRuntime | None = None

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None

    def __enter__(self) -> Toolset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def mcp_endpoints_for(
    tools: Sequence[str], load: Callable[[str], tuple[str, Mapping[str, str]]]
) -> list[McpEndpoint]:
    """The endpoints a toolset names: `load(server)` gives its (url, headers)."""
    from heartbeat.tools.mcp import McpEndpoint

    wanted: dict[str, set[str] | None] = {}
    for entry in tools:
        parsed = mcp_entry(entry)
        if parsed is None:
            continue
        server, tool = parsed
        if tool is None:
            wanted[server] = None
        elif server not in wanted:
            wanted[server] = {tool}
        elif wanted[server] is not None:
            wanted[server].add(tool)  # type: ignore[union-attr]
    endpoints = []
    for server, only in wanted.items():
        url, headers = load(server)
        endpoints.append(McpEndpoint(server, url, headers, frozenset(only) if only is not None else None))
    return endpoints


def build_toolset(
    request: ToolsetRequest,
    *,
    memory: MemoryStore | None,
    allow_private: bool,
    load_mcp_server: Callable[[str], tuple[str, Mapping[str, str]]] | None = None,
    resolver: Callable[..., Any] | None = None,
) -> Toolset:
    """The run's tools. Raises `McpConnectError` (naming the server) when an MCP server the task
    names cannot be reached."""
    from heartbeat.tools.failure import report_failure_tool

    log = ToolCallLog()
    notifications: list[dict[str, Any]] = []
    tools: list[Tool] = []
    names = list(request.tools)
    if "memory" in names and memory is not None:
        from heartbeat.tools.memory import memory_tools

        tools.extend(memory_tools(memory, run_id=request.run_id, task_id=request.task_id))
    if "notify" in names:
        from heartbeat.tools.notify import Notifications, notify_tool

        box = Notifications(notifications)
        tools.append(notify_tool(box))
    if "web" in names:
        from heartbeat.tools.web import WebSettings, web_fetch_tool

        tools.append(
            web_fetch_tool(
                WebSettings(
                    allow_private=allow_private, web_allow=tuple(request.web_allow), resolver=resolver
                )
            )
        )
    toolset = Toolset(tools=[], log=log, notifications=notifications)
    if any(mcp_entry(name) for name in names):
        if load_mcp_server is None:
            raise ValueError("the task names MCP servers but no loader was given")
        from heartbeat.tools.mcp import McpRuntime, mcp_tools

        endpoints = mcp_endpoints_for(names, load_mcp_server)
        runtime = McpRuntime(allow_private=allow_private, resolver=resolver)
        toolset.runtime = runtime
        try:
            listing = runtime.connect(endpoints)
        except BaseException:
            runtime.close()
            raise
        tools.extend(mcp_tools(runtime, listing))
    tools.append(report_failure_tool())
    toolset.tools = [RecordedTool(tool, log) for tool in tools]
    return toolset


def run_toolset(
    memory: MemoryStore,
    *,
    run_id: str,
    task_id: str,
    tools: Sequence[str] = DEFAULT_TOOLS,
    web_allow: Sequence[str] = (),
    allow_private: bool = False,
    load_mcp_server: Callable[[str], tuple[str, Mapping[str, str]]] | None = None,
    resolver: Callable[..., Any] | None = None,
) -> Toolset:
    """The tools of run `run_id` of task `task_id` (the task's `tools` and `web_allow`), bound to
    `memory`'s tenant; `load_mcp_server(name)` gives a server's (url, headers). Close it when the
    run ends."""
    return build_toolset(
        ToolsetRequest(tools=tools, web_allow=web_allow, run_id=run_id, task_id=task_id),
        memory=memory,
        allow_private=allow_private,
        load_mcp_server=load_mcp_server,
        resolver=resolver,
    )
