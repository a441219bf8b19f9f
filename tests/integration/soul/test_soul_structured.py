"""Structured answers and per-run limits against the provider fakes on 127.0.0.1, in each
provider's real wire format: OpenAI `response_format: json_schema`, Anthropic's forced answer tool."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fakes.anthropic import FakeAnthropic
from fakes.openai import FakeOpenAI, text_reply
from fakes.tools import Archive

from heartbeat.executor.runner import run_limits
from heartbeat.soul.agent import AgentLimitError, AgentLimits, run_agent
from heartbeat.soul.resolve import SoulSettings, resolve_model
from heartbeat.soul.retry import RetryPolicy
from heartbeat.soul.structured import AnswerSchemaError, check_answer
from heartbeat.soul.types import Model

SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["up", "down"]},
        "checked": {"type": "integer", "minimum": 1},
    },
    "required": ["status", "checked"],
}


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="sk-test-structured-0000000000") as server:
        yield server


@pytest.fixture
def anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key="sk-ant-test-structured-0000") as server:
        yield server


def openai_model(fake: FakeOpenAI) -> Model:
    providers = {
        "openai": {
            "kind": "openai",
            "base_url": fake.base_url,
            "api_key_env": "OPENAI_API_KEY",
            "timeout_s": 5,
        }
    }
    settings = SoulSettings.from_env({"HEARTBEAT_PROVIDERS": json.dumps(providers)})
    return resolve_model("openai/gpt-4.1-mini", settings, env={"OPENAI_API_KEY": fake.api_key or ""})


def anthropic_model(fake: FakeAnthropic) -> Model:
    providers = {
        "anthropic": {
            "kind": "anthropic",
            "base_url": fake.url,
            "api_key_env": "ANTHROPIC_API_KEY",
            "timeout_s": 5,
        }
    }
    settings = SoulSettings.from_env({"HEARTBEAT_PROVIDERS": json.dumps(providers)})
    return resolve_model(
        "anthropic/claude-sonnet-4-5", settings, env={"ANTHROPIC_API_KEY": fake.api_key or ""}
    )


def run(model: Model, prompt: str, *, limits: AgentLimits | None = None, schema=None, tools=None):
    return run_agent(
        model,
        system="You are the Soul.",
        prompt=prompt,
        history=(),
        tools=tools if tools is not None else Archive().tools(),
        limits=limits or AgentLimits(),
        remaining_ms=lambda: 300_000,
        retry=RetryPolicy(max_attempts=1),
        output_schema=schema,
    )


def test_openai_is_asked_for_json_schema_output_and_its_answer_matches(openai):
    result = run(
        openai_model(openai), 'Check the site.\nanswer: {"status": "up", "checked": 3}', schema=SCHEMA
    )
    body = openai.requests[0].body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": False},
    }
    assert json.loads(check_answer(result.output, SCHEMA)) == {"status": "up", "checked": 3}


def test_anthropic_is_made_to_call_the_answer_tool_and_its_input_is_the_answer(anthropic):
    result = run(anthropic_model(anthropic), "Check the site.", schema=SCHEMA)
    body = anthropic.requests[0].body
    assert body["tool_choice"] == {"type": "any"}
    answer_tool = body["tools"][-1]
    assert answer_tool["name"] == "final_answer" and answer_tool["input_schema"]["required"] == [
        "status",
        "checked",
    ]
    # The smallest answer the schema allows, given as the tool's input, is the run's answer.
    assert json.loads(check_answer(result.output, SCHEMA)) == {"status": "up", "checked": 1}
    assert result.tool_calls == 0


def test_anthropic_wraps_a_schema_that_is_not_an_object(anthropic):
    schema = {"type": "array", "items": {"type": "string"}, "minItems": 2}
    result = run(anthropic_model(anthropic), "List two names.", schema=schema)
    assert anthropic.requests[0].body["tools"][-1]["input_schema"]["required"] == ["answer"]
    assert json.loads(result.output) == ["", ""]


def test_an_answer_that_does_not_match_is_refused_with_the_validators_message(openai):
    result = run(openai_model(openai), 'answer: {"status": "sideways", "checked": 3}', schema=SCHEMA)
    with pytest.raises(AnswerSchemaError) as raised:
        check_answer(result.output, SCHEMA)
    assert str(raised.value) == (
        "the final answer does not match the task's output_schema (at status): "
        "'sideways' is not one of ['up', 'down']"
    )
    with pytest.raises(AnswerSchemaError, match="the final answer is not JSON"):
        check_answer("All good!", SCHEMA)


def test_the_steps_limit_stops_a_provider_run_and_names_it(openai):
    limits = run_limits(AgentLimits(), {"max_steps": 1})
    with pytest.raises(AgentLimitError) as raised:
        run(openai_model(openai), "Remember that the deploy is at noon", limits=limits)
    assert raised.value.limit == "steps" and "limits.max_steps=1" in str(raised.value)
    assert len(openai.requests) == 1


def test_the_token_limit_stops_a_provider_run_and_names_it(anthropic):
    limits = run_limits(AgentLimits(), {"max_tokens": 10})
    with pytest.raises(AgentLimitError) as raised:
        run(anthropic_model(anthropic), "Remember that the deploy is at noon", limits=limits)
    assert raised.value.limit == "tokens" and "limits.max_tokens=10" in str(raised.value)
    assert raised.value.usage.total_tokens >= 10


def test_the_timeout_limit_stops_a_provider_run_and_names_it(openai):
    openai.enqueue(replace(text_reply("too late"), delay_s=3.0))
    # The task's limits.timeout_seconds (30-840 s) works the same; the test uses a short one.
    limits = replace(run_limits(AgentLimits(), {"timeout_seconds": 30}), timeout_s=0.3)
    with pytest.raises(AgentLimitError) as raised:
        run(openai_model(openai), "Say hello", limits=limits)
    assert raised.value.limit == "time"
    assert "the run reached its time limit (limits.timeout_seconds=0.3)" in str(raised.value)
