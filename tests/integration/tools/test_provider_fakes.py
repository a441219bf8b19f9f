"""The monitoring task against each provider's fake: the fake receives the tools' JSON Schemas in
its own wire format and answers with tool calls for them (its offline agent follows DESIGN.md
section 8's rules), which the executor runs against the real status page and MCP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import bedrock as fb
from fakes.anthropic import FakeAnthropic
from fakes.openai import FakeOpenAI

from heartbeat.tools.base import json_schema
from heartbeat.tools.notify import NotifyArguments
from heartbeat.tools.web import WebFetchArguments
from support.tools_stack import make_stack

KEY = "sk-fake-provider-key-for-tool-tests-0123456789"
PROMPT = 'Check {page}/status.\ncall deploys__deploy_status {{"service": "web"}}\nnotify: web deploy is slow'


@pytest.fixture
def provider(request, aws, monkeypatch) -> Iterator[tuple[Any, str, Any]]:
    """(stack, model name, a function giving the tools the fake received per request)."""
    kind = request.param
    if kind == "openai":
        with FakeOpenAI(api_key=KEY) as fake:
            monkeypatch.setenv("OPENAI_API_KEY", KEY)
            providers = {
                "openai": {"kind": "openai", "base_url": fake.base_url, "api_key_env": "OPENAI_API_KEY"}
            }
            stack = make_stack(aws, HEARTBEAT_PROVIDERS=json.dumps(providers), OPENAI_API_KEY=KEY)
            yield (
                stack,
                "openai/gpt-4.1-mini",
                lambda: [
                    {t["function"]["name"]: t["function"]["parameters"] for t in r.body["tools"]}
                    for r in fake.requests
                ],
            )
    elif kind == "anthropic":
        with FakeAnthropic(api_key=KEY) as fake:
            monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
            providers = {
                "anthropic": {"kind": "anthropic", "base_url": fake.url, "api_key_env": "ANTHROPIC_API_KEY"}
            }
            stack = make_stack(aws, HEARTBEAT_PROVIDERS=json.dumps(providers), ANTHROPIC_API_KEY=KEY)
            yield (
                stack,
                "anthropic/claude-sonnet-4-5",
                lambda: [{t["name"]: t["input_schema"] for t in r.body["tools"]} for r in fake.requests],
            )
    else:
        client = fb.client()
        fake = fb.FakeBedrock(client)
        stack = make_stack(aws, bedrock_runtime=client)
        yield (
            stack,
            "bedrock/" + fb.MODEL_ID,
            lambda: [
                {
                    t["toolSpec"]["name"]: t["toolSpec"]["inputSchema"]["json"]
                    for t in r["toolConfig"]["tools"]
                    if "toolSpec" in t
                }
                for r in fake.requests
            ],
        )


@pytest.mark.parametrize("provider", ["openai", "anthropic", "bedrock"], indirect=True)
def test_each_provider_gets_the_tool_schemas_and_its_tool_calls_run(provider, page, mcp):
    stack, model, tools_sent = provider
    status, answer = stack.api.call(
        "POST",
        "/v1/mcp-servers",
        body={"name": "deploys", "url": mcp.url, "headers": {"Authorization": f"Bearer {mcp.token}"}},
    )
    assert status == 201, answer
    task = stack.create_task(
        prompt=PROMPT.format(page=page), tools=["web", "notify", "mcp:deploys"], model=model
    )

    run = stack.run(task["id"])

    assert run.status == "ok", run.error
    first = tools_sent()[0]
    assert set(first) == {
        "notify",
        "web_fetch",
        "deploys__deploy_status",
        "deploys__broken",
        "deploys__slow",
        "report_failure",
    }
    assert first["notify"] == json_schema(NotifyArguments)
    assert first["web_fetch"] == json_schema(WebFetchArguments)
    assert first["deploys__deploy_status"]["properties"]["service"]["type"] == "string"
    assert first["report_failure"]["required"] == ["reason"]
    assert [(c["name"], c["ok"]) for c in run.tool_calls or []] == [
        ("web_fetch", True),
        ("deploys__deploy_status", True),
        ("notify", True),
    ]
    assert "Fetched " in run.output and '"Example Status"' in run.output
    assert "web: version 42 rolling out" in run.output
    assert run.notifications and run.notifications[0]["message"] == "web deploy is slow"
    assert mcp.token not in json.dumps(run.tool_calls) + (run.output or "")
