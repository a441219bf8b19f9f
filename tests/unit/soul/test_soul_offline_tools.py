"""The offline model's deterministic use of section 8's tools."""

from __future__ import annotations

import json

from heartbeat.soul.providers.offline import OfflineModel
from heartbeat.soul.types import Message, ModelRequest, ToolSpec

SPEC = {"type": "object", "properties": {}}
TOOLS = tuple(ToolSpec(n, "", SPEC) for n in ("web_fetch", "notify", "report_failure", "deploys__status"))


def first_step(prompt: str, tools=TOOLS):
    return OfflineModel().complete(ModelRequest(system="", messages=(Message("user", prompt),), tools=tools))


def test_a_prompt_with_a_url_fetches_it_and_answers_with_its_title_and_first_line():
    prompt = "Check https://status.example.com/ for anomalies."
    step = first_step(prompt)
    [call] = step.tool_calls
    assert (call.name, dict(call.arguments)) == ("web_fetch", {"url": "https://status.example.com/"})
    result = json.dumps({"status": 200, "title": "Example Status", "text": "\n# API: degraded\nmore"})
    final = OfflineModel().complete(
        ModelRequest(
            system="",
            messages=(
                Message("user", prompt),
                Message("assistant", "", tool_calls=step.tool_calls),
                Message("tool", result, tool_call_id=call.id),
            ),
            tools=TOOLS,
        )
    )
    assert 'Fetched https://status.example.com/: 200 "Example Status": API: degraded' in final.text


def test_call_notify_and_fail_lines_become_calls_in_prompt_order():
    step = first_step(
        'call deploys__status {"service": "api"}\nnotify: the API is slow\nfail because the data is missing'
    )
    assert [(c.name, dict(c.arguments)) for c in step.tool_calls] == [
        ("deploys__status", {"service": "api"}),
        ("notify", {"title": "the API is slow", "message": "the API is slow", "severity": "warning"}),
        ("report_failure", {"reason": "the data is missing"}),
    ]


def test_a_tool_the_task_does_not_offer_is_not_called_and_the_answer_says_so():
    step = first_step("Look at https://example.com/x", tools=(ToolSpec("notify", "", SPEC),))
    assert step.tool_calls == ()
    assert "web_fetch is not available, so it was not called." in step.text


def test_urls_inside_call_lines_are_arguments_not_fetches():
    step = first_step('call deploys__status {"url": "https://example.com/"}')
    assert [c.name for c in step.tool_calls] == ["deploys__status"]
