"""A monitoring task fetches a status page, calls a tenant's MCP tool and flags what it found,
end to end through the API and the executor with the offline model."""

from __future__ import annotations

import json
import logging

import pytest

from support.servers import McpTestServer
from support.tools_stack import make_stack


def add_server(
    stack, mcp: McpTestServer, name: str = "deploys", tenant: str = "tenant-a", token: str | None = None
):
    return stack.api.call(
        "POST",
        "/v1/mcp-servers",
        body={"name": name, "url": mcp.url, "headers": {"Authorization": f"Bearer {token or mcp.token}"}},
        tenant=tenant,
    )


MONITOR_PROMPT = (
    "Check {page}/status for anomalies.\n"
    'call deploys__deploy_status {{"service": "api"}}\n'
    "notify: API is degraded while version 42 rolls out"
)


def test_a_monitoring_task_fetches_calls_its_mcp_tool_and_notifies(stack, page, mcp, caplog):
    caplog.set_level(logging.INFO)
    status, created = add_server(stack, mcp)
    assert status == 201, created
    task = stack.create_task(prompt=MONITOR_PROMPT.format(page=page), tools=["web", "notify", "mcp:deploys"])

    run = stack.run(task["id"])

    assert run.status == "ok", run.error
    assert f'Fetched {page}/status: 200 "Example Status": API: degraded performance' in run.output
    assert "deploys__deploy_status: api: version 42 rolling out, 3 of 5 instances healthy" in run.output
    assert mcp.calls[-1] == ("deploy_status", {"service": "api"})
    [answered] = stack.runs_api(task["id"])
    assert [(c["name"], c["ok"]) for c in answered["tool_calls"]] == [
        ("web_fetch", True),
        ("deploys__deploy_status", True),
        ("notify", True),
    ]
    assert all(isinstance(c["ms"], int) and c["error"] is None for c in answered["tool_calls"])
    [notification] = answered["notifications"]
    assert notification["severity"] == "warning"
    assert notification["message"] == "API is degraded while version 42 rolls out"
    # The header value went to the MCP server, and nowhere else.
    assert f"Bearer {mcp.token}" in mcp.authorizations
    assert mcp.token not in json.dumps(created)
    assert mcp.token not in json.dumps(answered)
    assert mcp.token not in caplog.text


def test_an_mcp_tool_error_goes_back_to_the_model_and_the_run_still_answers(stack, mcp):
    add_server(stack, mcp)
    task = stack.create_task(prompt="call deploys__broken {}", tools=["mcp:deploys"])

    run = stack.run(task["id"])

    assert run.status == "ok"
    assert "deploys__broken failed: deploys__broken answered with an error" in run.output
    assert "Error executing tool broken" in run.output  # what the SDK's server says of an exception
    [call] = stack.runs_api(task["id"])[0]["tool_calls"]
    assert call["name"] == "deploys__broken" and call["ok"] is False and "broken" in call["error"]


def test_a_task_limited_to_one_mcp_tool_sees_only_that_one(stack, mcp):
    add_server(stack, mcp)
    task = stack.create_task(prompt="call deploys__broken {}", tools=["mcp:deploys/deploy_status"])
    calls_before = len(mcp.calls)

    run = stack.run(task["id"])

    assert "deploys__broken is not available, so it was not called." in run.output
    assert len(mcp.calls) == calls_before


def test_a_run_whose_agent_reports_failure_is_an_error_with_its_reason(stack):
    task = stack.create_task(prompt="fail because the status page is unreachable")

    run = stack.run(task["id"])

    assert run.status == "error"
    assert run.error == "the status page is unreachable"
    status, answer = stack.api.call("GET", f"/v1/tasks/{task['id']}")
    assert answer["task"]["state"]["last_error"] == "the status page is unreachable"
    assert answer["task"]["state"]["consecutive_errors"] == 1
    assert answer["task"]["enabled"] is True  # one failed run, not an error retrying cannot fix
    [answered] = stack.runs_api(task["id"])
    assert answered["tool_calls"] == [
        {"name": "report_failure", "ok": True, "ms": answered["tool_calls"][0]["ms"], "error": None}
    ]


def test_an_mcp_server_that_refuses_the_run_fails_it_naming_the_server(stack, mcp, caplog):
    caplog.set_level(logging.INFO)
    add_server(stack, mcp, token="wrong-token-value-456")
    task = stack.create_task(prompt="call deploys__deploy_status {}", tools=["mcp:deploys"])

    run = stack.run(task["id"])

    assert run.status == "error"
    assert "MCP server 'deploys' could not be reached" in run.error
    assert "401" in run.error
    assert "wrong-token-value-456" not in run.error
    assert "wrong-token-value-456" not in caplog.text


def test_an_mcp_server_that_is_down_fails_the_run_naming_the_server(stack):
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    stack.api.call("POST", "/v1/mcp-servers", body={"name": "gone", "url": f"http://127.0.0.1:{port}/mcp"})
    task = stack.create_task(prompt="call gone__x {}", tools=["mcp:gone"])

    run = stack.run(task["id"])

    assert run.status == "error"
    assert run.error.startswith("MCP server 'gone' could not be reached")


def test_the_tools_route_connects_and_lists_the_servers_tools(stack, mcp):
    add_server(stack, mcp)

    status, answer = stack.api.call("GET", "/v1/mcp-servers/deploys/tools")

    assert status == 200, answer
    tools = {tool["name"]: tool for tool in answer["tools"]}
    assert set(tools) == {"deploy_status", "broken", "slow"}
    assert tools["deploy_status"]["description"] == "The deployment status of one service."
    assert tools["deploy_status"]["input_schema"]["properties"]["service"]["type"] == "string"


def test_the_tools_route_of_a_refusing_server_is_a_clear_error(stack, mcp):
    add_server(stack, mcp, token="wrong")

    status, answer = stack.api.call("GET", "/v1/mcp-servers/deploys/tools")

    assert status == 500
    assert "MCP server 'deploys' could not be reached" in answer["error"]["message"]
    assert "401" in answer["error"]["message"]


@pytest.mark.parametrize("tools", [["web"], ["web", "memory"]])
def test_web_allow_narrows_web_fetch_to_its_hosts(stack, page, tools):
    task = stack.create_task(prompt=f"Look at {page}/status", tools=tools, web_allow=["status.example.com"])

    run = stack.run(task["id"])

    assert run.status == "ok"
    assert "web_fetch failed" in run.output or "web_fetch refused" in run.output
    assert "not in this task's web_allow" in run.output


def test_a_deployment_that_refuses_private_targets_refuses_the_fetch_and_the_server(aws, page, mcp):
    stack = make_stack(aws, ALLOW_PRIVATE_NETWORK_TARGETS="false")
    task = stack.create_task(prompt=f"Look at {page}/status", tools=["web"])

    run = stack.run(task["id"])

    assert run.status == "ok"
    assert f"web_fetch refused {page}/status" in run.output
    assert "a loopback address" in run.output
    status, answer = add_server(stack, mcp)
    assert status == 400
    assert answer["error"]["param"] == "url"
    assert "a loopback address" in answer["error"]["message"]
