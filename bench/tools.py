"""The tools' budgets (DESIGN.md section 8): the executor's cold import stays ≤ 0.3x `import boto3`
with every tool available (the handler imports no tool: a run imports what its toolset uses, on
its first invocation), what the tools add to a run's imports, what the MCP SDK adds to a run that
uses MCP (and only to it: a run without MCP imports no MCP code), and the AWS requests of a run
with tools beside one without.

The run figures use the real API and executor over in-process moto with the offline model, a status
page and an MCP server on loopback (the test suite's, from tests/support); each counts run-now's
API requests and the executor's. The tools add the MCP server's record (GetItem) and its header
values (GetSecretValue); web_fetch and notify cost no AWS request."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.requests import RequestCounter

ROOT = Path(__file__).resolve().parents[1]
BUDGET_RATIO = 0.3
HANDLER = "heartbeat.executor.handler"
# What a run imported before section 8 (first invocation: config, AWS clients, the agent, memory)...
RUN_BASE = (
    "pydantic, boto3, heartbeat.executor.core, heartbeat.executor.runner, heartbeat.soul.agent, "
    "heartbeat.soul.prompt, heartbeat.memory.store, heartbeat.tools.memory"
)
# ...and what a run that uses every tool but MCP adds (html2text: a fetched HTML page).
RUN_TOOLS = (
    "heartbeat.tools.registry, heartbeat.tools.web, heartbeat.tools.notify, heartbeat.tools.failure, "
    "heartbeat.outbound.http, heartbeat.outbound.guard, html2text"
)
MCP_SDK = "mcp.client.session, mcp.client.streamable_http, heartbeat.outbound.transport"
PROBE = "import time; t=time.perf_counter(); import {modules}; print(time.perf_counter()-t)"
NO_MCP_PROBE = """
import sys
from heartbeat.tools.registry import ToolsetRequest, build_toolset
toolset = build_toolset(ToolsetRequest(tools=["memory", "notify", "web"]), memory=None, allow_private=False)
toolset.tools[0]({"title": "t", "message": "m"})
print(sorted(m for m in sys.modules if m.split(".")[0] in ("mcp", "mcp_types", "httpx2", "httpcore2")))
"""


def _time(modules: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=modules)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip().splitlines()[-1])


def imports(rounds: int = 7) -> dict[str, Any]:
    probes = {
        "boto3": "boto3",
        "handler": HANDLER,
        "run": RUN_BASE,
        "run_tools": f"{RUN_BASE}, {RUN_TOOLS}",
        "mcp": f"{RUN_BASE}, {RUN_TOOLS}, {MCP_SDK}",
    }
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(rounds):  # interleaved, so machine noise hits every figure alike
        for name, modules in probes.items():
            samples[name].append(_time(modules))
    median = {name: statistics.median(values) for name, values in samples.items()}
    handler_ratio = median["handler"] / median["boto3"]
    leaked = subprocess.run(
        [sys.executable, "-c", NO_MCP_PROBE], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    return {
        "boto3_import_ms": round(median["boto3"] * 1000, 1),
        "executor_handler_ratio_to_boto3": round(handler_ratio, 2),
        "tools_added_to_a_run_ms": round((median["run_tools"] - median["run"]) * 1000, 1),
        "tools_added_ratio_to_boto3": round((median["run_tools"] - median["run"]) / median["boto3"], 2),
        "mcp_sdk_added_to_an_mcp_run_ms": round((median["mcp"] - median["run_tools"]) * 1000, 1),
        "run_without_mcp_imports_mcp_code": leaked != "[]",
        "_budgets": {
            "executor_handler_ratio_to_boto3": f"<= {BUDGET_RATIO}x "
            + ("ok" if handler_ratio <= BUDGET_RATIO else "OVER"),
            "run_without_mcp_imports_mcp_code": "False " + ("ok" if leaked == "[]" else "OVER"),
        },
    }


def run_requests() -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    sys.path.insert(0, str(ROOT / "tests"))
    from heartbeat_cli.local.resources import StackNames, provision
    from support.servers import mcp_server, status_page
    from support.tools_stack import make_stack

    with mock_aws(), status_page() as page, mcp_server() as mcp:
        names = StackNames()
        clients = {s: boto3.client(s) for s in ("dynamodb", "scheduler", "s3", "sqs")}
        provision(**clients, names=names)

        class Aws:
            dynamodb, scheduler, s3, lambda_ = clients["dynamodb"], clients["scheduler"], clients["s3"], None
            env = names.environment()

        stack = make_stack(Aws)
        stack.api.call(
            "POST",
            "/v1/mcp-servers",
            body={"name": "deploys", "url": mcp.url, "headers": {"Authorization": f"Bearer {mcp.token}"}},
        )
        plain = stack.create_task(prompt="Summarise the day.")
        tooled = stack.create_task(
            prompt=f'Check {page}/status\ncall deploys__deploy_status {{"service": "api"}}\nnotify: api degraded',
            tools=["web", "notify", "mcp:deploys"],
        )
        counter = RequestCounter()
        counter.attach(*clients.values(), stack.secrets)
        figures: dict[str, Any] = {}
        for label, task in (("run_without_tools", plain), ("run_with_web_notify_and_mcp", tooled)):
            stack.run(task["id"])  # warm: the first run of a process pays for its imports
            counter.take()
            run = stack.run(task["id"])
            calls = counter.take()
            figures[label] = {
                "requests": sum(v for k, v in calls.items() if not k.endswith(":CreateSchedule")),
                "by_operation": calls,
                "status": run.status,
                "tool_calls": len(run.tool_calls or []),
            }
    return figures


def measure() -> dict[str, Any]:
    result = imports()
    runs = run_requests()
    result["aws_requests"] = runs
    result["run_without_tools_aws_requests"] = runs["run_without_tools"]["requests"]
    result["run_with_tools_aws_requests"] = runs["run_with_web_notify_and_mcp"]["requests"]
    return result
