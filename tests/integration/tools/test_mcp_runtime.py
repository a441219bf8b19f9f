"""The MCP runtime against the real MCP server on loopback: timeouts and refusals."""

from __future__ import annotations

import time

import pytest

from heartbeat.soul.types import ToolError
from heartbeat.tools.mcp import McpConnectError, McpEndpoint, McpRuntime


def test_a_call_that_outlasts_its_timeout_is_a_tool_error(mcp):
    endpoint = McpEndpoint("deploys", mcp.url, {"Authorization": f"Bearer {mcp.token}"})
    with McpRuntime(allow_private=True, call_timeout_s=0.5) as runtime:
        runtime.connect([endpoint])
        started = time.monotonic()
        with pytest.raises(ToolError, match="deploys__slow (did not answer in 0.5 s|failed: .*timed out)"):
            runtime.call("deploys", "slow", {"seconds": 3})
        assert time.monotonic() - started < 2.9
        assert runtime.call("deploys", "deploy_status", {"service": "db"}).startswith("db: version 42")


def test_a_server_on_a_private_address_is_refused_before_connecting(mcp):
    endpoint = McpEndpoint("deploys", mcp.url, {"Authorization": f"Bearer {mcp.token}"})
    seen = len(mcp.authorizations)
    with McpRuntime(allow_private=False) as runtime, pytest.raises(McpConnectError) as refused:
        runtime.connect([endpoint])
    assert "MCP server 'deploys' could not be reached" in refused.value.message
    assert "a loopback address" in refused.value.message
    assert len(mcp.authorizations) == seen


def test_a_tool_the_task_names_that_the_server_lacks_fails_the_connection(mcp):
    endpoint = McpEndpoint("deploys", mcp.url, {"Authorization": f"Bearer {mcp.token}"}, frozenset({"nope"}))
    with (
        McpRuntime(allow_private=True) as runtime,
        pytest.raises(McpConnectError, match="no tool named 'nope'"),
    ):
        runtime.connect([endpoint])
