"""MCP server logic: create (or replace), read, list, delete, and a connectivity test that lists a
server's tools. Knows nothing of HTTP.

- A URL must be http(s) without credentials; where the deployment refuses private targets, one
  whose host resolves to a private address is a 400 now rather than a failed run later.
- POST of an existing name replaces its URL and headers (how header values are rotated): created
  answers 201, replaced 200; `created_at` is kept.
- Deleting a server that tasks name is a 409 that lists them (remove it from their `tools` first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from heartbeat.errors import ConflictError, InvalidRequestError
from heartbeat.models.mcp_server import McpServer, McpServerCreate
from heartbeat.models.tools import mcp_servers_named
from heartbeat.timeutil import iso, utcnow

if TYPE_CHECKING:
    from heartbeat.dal.mcp_servers import McpServersStore
    from heartbeat.models.task import Task


@dataclass(frozen=True)
class SavedServer:
    server: McpServer
    created: bool


class McpServerService:
    def __init__(
        self,
        store: McpServersStore,
        tasks: Callable[[str], list[Task]],
        *,
        allow_private: bool,
        clock: Callable[[], datetime] = utcnow,
        resolver: Callable[..., Any] | None = None,
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._allow_private = allow_private
        self._clock = clock
        self._resolver = resolver

    def put(self, tenant_id: str, request: McpServerCreate) -> SavedServer:
        self._check_url(request.url)
        now = iso(self._clock())
        existing = self._store.find(tenant_id, request.name)
        server = McpServer(
            tenant_id=tenant_id,
            name=request.name,
            url=request.url,
            header_names=tuple(request.headers),
            created_at=existing.created_at if existing else now,
            updated_at=now,
        )
        return SavedServer(self._store.put(server, dict(request.headers)), created=existing is None)

    def get(self, tenant_id: str, name: str) -> McpServer:
        return self._store.get(tenant_id, name)

    def list_servers(self, tenant_id: str) -> list[McpServer]:
        return self._store.list(tenant_id)

    def delete(self, tenant_id: str, name: str) -> None:
        server = self._store.get(tenant_id, name)
        users = [task for task in self._tasks(tenant_id) if name in mcp_servers_named(task.tools)]
        if users:
            listed = ", ".join(f"{task.id} ({task.name})" for task in users[:20])
            more = f" and {len(users) - 20} more" if len(users) > 20 else ""
            raise ConflictError(
                f"MCP server '{name}' is named in the tools of {len(users)} task(s): {listed}{more}; "
                "remove it from their tools first",
                param="name",
            )
        self._store.delete(server)

    def tools(self, tenant_id: str, name: str) -> list[dict[str, Any]]:
        """Connect now and list the server's tools (a user's connectivity test)."""
        from heartbeat.tools.mcp import McpEndpoint, McpRuntime

        server = self._store.get(tenant_id, name)
        endpoint = McpEndpoint(server.name, server.url, self._store.headers(server))
        with McpRuntime(allow_private=self._allow_private, resolver=self._resolver) as runtime:
            listing = runtime.connect([endpoint])
        return [
            {"name": tool.name, "description": tool.description, "input_schema": dict(tool.input_schema)}
            for tool in listing
        ]

    def check_named(self, tenant_id: str, names: list[str]) -> None:
        """For tasks: every server a toolset names must be one of this tenant's."""
        missing = [name for name in names if self._store.find(tenant_id, name) is None]
        if missing:
            raise InvalidRequestError(
                f"tools names MCP server(s) {', '.join(repr(m) for m in missing)}, which this tenant does "
                "not have: create them with POST /v1/mcp-servers first",
                param="tools",
            )

    def _check_url(self, url: str) -> None:
        from heartbeat.outbound.guard import OutboundRefusedError, check_url, parse_url

        try:
            if self._allow_private:
                parse_url(url)
            else:
                check_url(url, allow_private=False, resolver=self._resolver)
        except OutboundRefusedError as exc:
            raise InvalidRequestError(f"url is refused: {exc.message}", param="url") from None
