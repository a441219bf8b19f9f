"""The registry builds a run's toolset from its task's `tools`; tool names and schemas are what
every provider accepts; calls are recorded without their arguments."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from heartbeat.models.tools import check_web_allow, host_allowed
from heartbeat.soul.types import ToolError
from heartbeat.tools.failure import ReportedFailure
from heartbeat.tools.mcp import McpToolInfo, exposed_name, mcp_tools
from heartbeat.tools.registry import ToolsetRequest, build_toolset

PROVIDER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def names(tools: list[str], **kwargs) -> list[str]:
    return [
        t.spec.name
        for t in build_toolset(ToolsetRequest(tools=tools, **kwargs), memory=None, allow_private=False).tools
    ]


def test_report_failure_is_always_there_and_comes_last():
    assert names([]) == ["report_failure"]
    assert names(["notify"]) == ["notify", "report_failure"]
    assert names(["web", "notify"]) == ["notify", "web_fetch", "report_failure"]


def test_every_built_in_tool_has_an_object_schema_from_its_argument_model():
    toolset = build_toolset(ToolsetRequest(tools=["web", "notify"]), memory=None, allow_private=False)
    for tool in toolset.tools:
        schema = tool.spec.parameters
        assert schema["type"] == "object" and schema["additionalProperties"] is False
        assert "title" not in schema
        assert PROVIDER_NAME.match(tool.spec.name)
    web = next(t for t in toolset.tools if t.spec.name == "web_fetch").spec.parameters
    assert web["required"] == ["url"]
    assert web["properties"]["method"]["enum"] == ["GET", "HEAD", "POST"]


def test_notify_records_an_agent_notification_and_a_tool_call_without_arguments():
    toolset = build_toolset(ToolsetRequest(tools=["notify"]), memory=None, allow_private=False)
    notify = toolset.tools[0]

    reply = notify({"title": "API down", "message": "token=abc123 in the logs", "severity": "critical"})

    assert reply == "Notification sent (critical): API down"
    [note] = toolset.notifications
    assert (note["type"], note["title"], note["severity"]) == ("agent.notification", "API down", "critical")
    [call] = toolset.log.calls
    assert call["name"] == "notify" and call["ok"] is True and call["error"] is None
    assert "abc123" not in str(call)


def test_bad_arguments_are_a_tool_error_and_are_recorded_as_failed():
    toolset = build_toolset(ToolsetRequest(tools=["notify"]), memory=None, allow_private=False)
    with pytest.raises(ToolError, match="severity"):
        toolset.tools[0]({"title": "t", "message": "m", "severity": "loud"})
    assert toolset.log.calls[0]["ok"] is False


def test_a_run_may_notify_at_most_five_times():
    toolset = build_toolset(ToolsetRequest(tools=["notify"]), memory=None, allow_private=False)
    for index in range(5):
        toolset.tools[0]({"title": f"t{index}", "message": "m"})
    with pytest.raises(ToolError, match="already sent 5"):
        toolset.tools[0]({"title": "t6", "message": "m"})


def test_report_failure_ends_the_run_with_the_reason():
    toolset = build_toolset(ToolsetRequest(tools=[]), memory=None, allow_private=False)
    with pytest.raises(ReportedFailure) as failure:
        toolset.tools[-1]({"reason": "the status page answered 503 three times"})
    assert str(failure.value) == "the status page answered 503 three times"
    assert failure.value.transient is False
    assert toolset.log.calls == [
        {"name": "report_failure", "ok": True, "ms": toolset.log.calls[0]["ms"], "error": None}
    ]


@pytest.mark.parametrize(
    ("server", "tool"),
    [("deploys", "status"), ("my-server", "get.thing/v2"), ("s", "x" * 100), ("a" * 32, "b" * 40)],
)
def test_mcp_tool_names_are_sanitised_to_what_every_provider_accepts(server, tool):
    name = exposed_name(server, tool)
    assert PROVIDER_NAME.match(name)
    assert name.startswith(re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")[:40])


def test_long_mcp_names_that_share_a_prefix_stay_apart():
    assert exposed_name("s", "x" * 70 + "a") != exposed_name("s", "x" * 70 + "b")
    tools = mcp_tools(
        runtime=None,  # type: ignore[arg-type]
        listing=[McpToolInfo("s", "a.b", "", {}), McpToolInfo("s", "a/b", "", {})],
    )
    assert len({t.spec.name for t in tools}) == 2


@pytest.mark.parametrize(
    ("host", "patterns", "allowed"),
    [
        ("status.example.com", ["status.example.com"], True),
        ("Status.Example.COM.", ["status.example.com"], True),
        ("api.status.example.com", ["status.example.com"], False),
        ("a.example.org", ["*.example.org"], True),
        ("a.b.example.org", ["*.example.org"], True),
        ("example.org", ["*.example.org"], False),
        ("evil-example.org", ["*.example.org"], False),
        ("anything.test", [], True),
    ],
)
def test_web_allow_patterns_match_hosts_and_subdomains(host, patterns, allowed):
    assert host_allowed(host, check_web_allow(patterns)) is allowed


def test_a_toolset_without_mcp_imports_no_mcp_code():
    code = (
        "import sys\n"
        "from heartbeat.tools.registry import ToolsetRequest, build_toolset\n"
        "t = build_toolset(ToolsetRequest(tools=['memory', 'notify', 'web']), memory=None, allow_private=False)\n"
        "t.tools[0]({'title': 'x', 'message': 'y'})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'httpx2', 'httpcore2', 'anyio', 'html2text'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_system_prompt_says_when_to_report_failure():
    from heartbeat.soul.prompt import build_system_prompt

    prompt = build_system_prompt([])
    assert "call report_failure with the reason instead of answering" in prompt
    assert "a problem you were asked to look for (an outage, an anomaly) is a result" in prompt
