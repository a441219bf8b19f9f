"""/v1/mcp-servers routes: parse, check the scope, call the logic, shape the answer. Answers carry
header names only, never their values."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import ConfigRead, ConfigWrite
from heartbeat.api.deps import ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.models.mcp_server import McpServerCreate, mcp_server_to_api


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver (see `heartbeat.api.routes.memory.router`)."""
    router = APIGatewayHttpRouter()

    @router.post(
        "/v1/mcp-servers",
        summary="Add (or replace) a remote MCP server (201; 200 when it replaces one)",
        **documented(
            "config.write",
            s.McpServerAnswer,
            status=201,
            also={200: "A server of that name existed: its url and headers are replaced"},
        ),
    )
    # No return annotations: Powertools would validate them as models.
    def create_mcp_server(body: McpServerCreate, tenant: ConfigWrite, services: ServicesDep):
        saved = services.mcp_servers.put(tenant, body)
        return json_response(201 if saved.created else 200, {"mcp_server": mcp_server_to_api(saved.server)})

    @router.get(
        "/v1/mcp-servers",
        summary="List the tenant's MCP servers",
        **documented("config.read", s.McpServerList),
    )
    def list_mcp_servers(tenant: ConfigRead, services: ServicesDep):
        servers = services.mcp_servers.list_servers(tenant)
        return json_response(200, {"mcp_servers": [mcp_server_to_api(s) for s in servers]})

    @router.get(
        "/v1/mcp-servers/<name>",
        summary="Read an MCP server",
        **documented("config.read", s.McpServerAnswer, errors=(404,)),
    )
    def get_mcp_server(name: str, tenant: ConfigRead, services: ServicesDep):
        server = services.mcp_servers.get(tenant, name)
        return json_response(200, {"mcp_server": mcp_server_to_api(server)})

    @router.delete(
        "/v1/mcp-servers/<name>",
        summary="Delete an MCP server no task names",
        **documented("config.write", s.McpServerDeleted, errors=(404, 409)),
    )
    def delete_mcp_server(name: str, tenant: ConfigWrite, services: ServicesDep):
        services.mcp_servers.delete(tenant, name)
        return json_response(200, {"ok": True, "name": name})

    @router.get(
        "/v1/mcp-servers/<name>/tools",
        summary="Connect to an MCP server now and list its tools",
        **documented("config.read", s.McpToolList, errors=(404,)),
    )
    def list_mcp_server_tools(name: str, tenant: ConfigRead, services: ServicesDep):
        tools = services.mcp_servers.tools(tenant, name)
        return json_response(200, {"tools": tools})

    return router
