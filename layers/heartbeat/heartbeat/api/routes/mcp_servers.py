"""/v1/mcp-servers routes: parse, check the scope, call the logic, shape the answer. Answers carry
header names only, never their values."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.responses import json_response
from heartbeat.models.mcp_server import McpServerCreate, mcp_server_to_api

router = APIGatewayHttpRouter()


def _services() -> Services:
    services: Services = router.context["services"]
    return services


def _tenant(scope: str) -> str:
    return require(principal_from_event(router.current_event), scope).tenant_id


@router.post("/v1/mcp-servers", summary="Add (or replace) a remote MCP server")
def create_mcp_server(body: McpServerCreate):
    saved = _services().mcp_servers.put(_tenant("config.write"), body)
    return json_response(201 if saved.created else 200, {"mcp_server": mcp_server_to_api(saved.server)})


@router.get("/v1/mcp-servers", summary="List the tenant's MCP servers")
def list_mcp_servers():
    servers = _services().mcp_servers.list_servers(_tenant("config.read"))
    return json_response(200, {"mcp_servers": [mcp_server_to_api(s) for s in servers]})


@router.get("/v1/mcp-servers/<name>", summary="Read an MCP server")
def get_mcp_server(name: str):
    server = _services().mcp_servers.get(_tenant("config.read"), name)
    return json_response(200, {"mcp_server": mcp_server_to_api(server)})


@router.delete("/v1/mcp-servers/<name>", summary="Delete an MCP server no task names")
def delete_mcp_server(name: str):
    _services().mcp_servers.delete(_tenant("config.write"), name)
    return json_response(200, {"ok": True, "name": name})


@router.get("/v1/mcp-servers/<name>/tools", summary="Connect to an MCP server now and list its tools")
def list_mcp_server_tools(name: str):
    tools = _services().mcp_servers.tools(_tenant("config.read"), name)
    return json_response(200, {"tools": tools})
