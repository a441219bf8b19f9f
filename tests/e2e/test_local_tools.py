"""The README's monitoring example against the local stack: a status page and an MCP server on
loopback, the task, its run; and `--no-private-targets`, which keeps the deployed rule locally."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.servers import mcp_server, status_page

from .conftest import create_key, http, wait_for

pytestmark = pytest.mark.e2e


def finished_run(url: str, key: str, task_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        status, answer = http("GET", f"{url}/v1/tasks/{task_id}/runs", key)
        runs = [r for r in answer["runs"] if r["status"] in ("ok", "error")] if status == 200 else []
        return runs[0] if runs else None

    run = wait_for(done, timeout=60)
    assert run is not None, "the run did not finish"
    return run


def test_the_readmes_monitoring_example_runs_end_to_end(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    url = start_stack(data_dir).api_url
    with status_page() as page, mcp_server(token="example-token") as mcp:
        status, server = http(
            "POST",
            f"{url}/v1/mcp-servers",
            key,
            {"name": "deploys", "url": mcp.url, "headers": {"Authorization": "Bearer example-token"}},
        )
        assert status == 201, server
        assert server["mcp_server"]["header_names"] == ["Authorization"]
        status, tools = http("GET", f"{url}/v1/mcp-servers/deploys/tools", key)
        assert status == 200 and "deploy_status" in [t["name"] for t in tools["tools"]]
        prompt = (
            f"Check {page}/status and the API's deployment.\n"
            'call deploys__deploy_status {"service": "api"}\n'
            "notify: API degraded during the version 42 rollout"
        )
        status, created = http(
            "POST",
            f"{url}/v1/tasks",
            key,
            {
                "name": "watch-status",
                "prompt": prompt,
                "schedule": "*/15 * * * *",
                "tools": ["web", "notify", "mcp:deploys"],
            },
        )
        assert status == 201, created
        task_id = created["task"]["id"]
        status, _ = http("POST", f"{url}/v1/tasks/{task_id}/run", key)
        assert status == 202

        run = finished_run(url, key, task_id)

    assert run["status"] == "ok", run["error"]
    assert '"Example Status": API: degraded performance' in run["output"]
    assert "deploys__deploy_status: api: version 42 rolling out" in run["output"]
    assert [c["name"] for c in run["tool_calls"]] == ["web_fetch", "deploys__deploy_status", "notify"]
    assert run["notifications"][0]["severity"] == "warning"
    assert "example-token" not in json.dumps(run)


PRIVATE_HOSTS = [
    "127.0.0.1",
    "localhost",
    "2130706433",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "127.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "169.254.169.254",
    "[fd00:ec2::254]",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
]


def test_no_private_targets_refuses_every_address_form_locally(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    url = start_stack(data_dir, private_targets=False).api_url

    for host in PRIVATE_HOSTS:
        body = {"name": "internal", "url": f"http://{host}:8080/mcp"}
        status, answer = http("POST", f"{url}/v1/mcp-servers", key, body)
        assert status == 400, (host, answer)
        assert answer["error"]["param"] == "url"
        assert "AllowPrivateNetworkTargets" in answer["error"]["message"], host


def test_no_private_targets_refuses_a_fetch_of_a_loopback_page(data_dir: Path, start_stack: Any) -> None:
    key = create_key(data_dir)
    url = start_stack(data_dir, private_targets=False).api_url
    with status_page() as page:
        status, created = http(
            "POST",
            f"{url}/v1/tasks",
            key,
            {"name": "t", "prompt": f"Check {page}/status", "schedule": "0 9 * * *", "tools": ["web"]},
        )
        assert status == 201, created
        http("POST", f"{url}/v1/tasks/{created['task']['id']}/run", key)
        run = finished_run(url, key, created["task"]["id"])
    assert run["status"] == "ok"
    assert "web_fetch refused" in run["output"] and "a loopback address" in run["output"]
    assert run["tool_calls"][0]["ok"] is False
