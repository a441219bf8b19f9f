"""Tenants' remote MCP servers: configuration (routes in `heartbeat.api.routes.mcp_servers`), stored
by `heartbeat.dal.mcp_servers`, connected to by `heartbeat.tools.mcp`."""
