"""`openai/<model>` and OpenAI-compatible servers against a fake Chat Completions API on 127.0.0.1:
the request on the wire, tool_calls round trips, cached-token usage, and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fakes.openai import FakeOpenAI, error_reply, text_reply, tool_calls_reply
from fakes.tools import Archive, FailingTool

from heartbeat.soul.agent import AgentLimits, AgentResult, run_agent
from heartbeat.soul.resolve import SoulSettings, resolve_model
from heartbeat.soul.retry import RetryPolicy
from heartbeat.soul.types import Model, ModelError, Usage

KEY = "sk-proj-fake-openai-key-for-tests-abcdefghijklmnop"
SYSTEM = "You are the Soul.\n<core_memory>\n" + "Ada likes concise answers. " * 400 + "\n</core_memory>"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY, models={"gpt-4.1-mini"}, reject_max_tokens=True) as server:
        yield server


@pytest.fixture
def ollama() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=None) as server:
        yield server


def openai_model(fake: FakeOpenAI, name: str = "openai/gpt-4.1-mini", key: str = KEY) -> Model:
    providers = {
        "openai": {
            "kind": "openai",
            "base_url": fake.base_url,
            "api_key_env": "OPENAI_API_KEY",
            "max_tokens_param": "max_completion_tokens",
            "timeout_s": 5,
        }
    }
    settings = SoulSettings.from_env({"HEARTBEAT_PROVIDERS": json.dumps(providers)})
    return resolve_model(name, settings, env={"OPENAI_API_KEY": key})


def ollama_model(fake: FakeOpenAI, name: str = "ollama/llama3.2") -> Model:
    providers = {"ollama": {"kind": "openai", "base_url": fake.base_url}}
    return resolve_model(name, SoulSettings.from_env({"HEARTBEAT_PROVIDERS": json.dumps(providers)}), env={})


def run(
    model: Model, prompt: str, tools: list | None = None, sleeps: list[float] | None = None, **kw
) -> AgentResult:
    return run_agent(
        model,
        system=kw.pop("system", SYSTEM),
        prompt=prompt,
        history=kw.pop("history", ()),
        tools=tools if tools is not None else Archive().tools(),
        limits=AgentLimits(max_output_tokens=512),
        remaining_ms=lambda: 300_000,
        retry=RetryPolicy(
            max_attempts=kw.pop("attempts", 4),
            sleep=(sleeps if sleeps is not None else []).append,
            random=lambda: 0.5,
        ),
    )


def test_the_request_carries_the_bearer_key_system_message_tools_and_output_limit(fake):
    fake.enqueue(text_reply("Done."))

    assert run(openai_model(fake), "Summarise the week.").output == "Done."

    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == "gpt-4.1-mini"
    assert body["max_completion_tokens"] == 512 and "max_tokens" not in body
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Summarise the week."},
    ]
    assert body["tools"][0] == {
        "type": "function",
        "function": {
            "name": "archival_memory_insert",
            "description": "Store a passage in long-term archival memory.",
            "parameters": Archive().tools()[0].spec.parameters,
        },
    }


def test_a_task_runs_end_to_end_with_tool_calls(fake):
    archive = Archive(passages=["the offsite is in Porto"])

    result = run(openai_model(fake), "Recall the offsite", tools=archive.tools())

    assert archive.calls == [("archival_memory_search", {"query": "the offsite"})]
    assert 'Found in archival memory for "the offsite": 1) the offsite is in Porto' in result.output
    messages = fake.requests[1].body["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_offline-1-1",
                "type": "function",
                "function": {"name": "archival_memory_search", "arguments": '{"query": "the offsite"}'},
            }
        ],
    }
    assert messages[3]["role"] == "tool" and messages[3]["tool_call_id"] == "call_offline-1-1"
    assert json.loads(messages[3]["content"])["results"] == [{"text": "the offsite is in Porto"}]


def test_an_openai_compatible_server_gets_no_key_and_max_tokens(ollama):
    archive = Archive()

    result = run(ollama_model(ollama), "Remember that ollama works offline.", tools=archive.tools())

    assert archive.passages == ["ollama works offline"]
    assert result.tool_calls == 1
    first = ollama.requests[0]
    assert "authorization" not in first.headers
    assert first.body["model"] == "llama3.2"
    assert first.body["max_tokens"] == 512 and "max_completion_tokens" not in first.body


def test_failed_tools_are_marked_in_the_tool_message(fake):
    fake.enqueue(tool_calls_reply([("call_1", "flaky_lookup", {})]), text_reply("moving on"))
    run(openai_model(fake), "Look it up.", tools=[FailingTool()])
    assert fake.requests[1].body["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "Error: the lookup service said no",
    }


def test_arguments_that_are_not_json_are_replayed_as_sent_and_the_model_is_told(fake):
    archive = Archive()
    fake.enqueue(
        tool_calls_reply([("call_1", "archival_memory_insert", '{"content": "oops')]), text_reply("sorry")
    )

    result = run(openai_model(fake), "Store it", tools=archive.tools())

    assert result.output == "sorry" and archive.calls == []
    messages = fake.requests[1].body["messages"]
    assert messages[2]["tool_calls"][0]["function"]["arguments"] == '{"content": "oops'
    assert messages[3]["content"].startswith(
        "Error: the arguments for archival_memory_insert were not a JSON object"
    )


def test_cached_tokens_are_reported_apart_from_uncached_input(fake):
    fake.enqueue(text_reply("x", prompt_tokens=2000, completion_tokens=30, cached_tokens=1536))
    assert run(openai_model(fake), "hi").usage == Usage(
        input_tokens=464, output_tokens=30, cache_read_tokens=1536
    )

    first = run(openai_model(fake), "Summarise.")
    second = run(openai_model(fake), "Summarise.")
    assert first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens > 1024  # the unchanged prefix was served from OpenAI's cache


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after-ms": "1500"}, 1.5), ({"retry-after": "4"}, 4.0), ({}, 0.5)],
)
def test_rate_limits_are_retried_honouring_retry_after(fake, headers, expected):
    fake.enqueue(
        error_reply(
            429,
            "Rate limit reached for gpt-4.1-mini",
            error_type="tokens",
            code="rate_limit_exceeded",
            headers=headers,
        )
    )
    sleeps: list[float] = []
    assert run(openai_model(fake), "hi", sleeps=sleeps).output.startswith("[offline/heartbeat]")
    assert sleeps == [expected]


def test_server_errors_are_transient(fake):
    fake.enqueue(error_reply(503, "The engine is currently overloaded", error_type="server_error"))
    sleeps: list[float] = []
    run(openai_model(fake), "hi", sleeps=sleeps)
    assert len(sleeps) == 1 and len(fake.requests) == 2


def test_insufficient_quota_is_terminal(fake):
    fake.enqueue(
        error_reply(
            429, "You exceeded your current quota", error_type="insufficient_quota", code="insufficient_quota"
        )
    )
    with pytest.raises(ModelError) as caught:
        run(openai_model(fake), "hi")
    assert not caught.value.transient and "out of credit" in str(caught.value)
    assert len(fake.requests) == 1


def test_a_bad_key_is_terminal_and_no_part_of_either_key_shows(fake):
    wrong = "sk-proj-the-wrong-key-zzzzzzzzzzzzzzzzzzzzzz"
    with pytest.raises(ModelError) as caught:
        run(openai_model(fake, key=wrong), "hi")
    message = str(caught.value)
    assert caught.value.status == 401 and not caught.value.transient
    assert (
        message
        == "openai rejected the API key (HTTP 401 invalid_request_error): check the key in the environment variable OPENAI_API_KEY"
    )
    assert wrong[-4:] not in message and KEY not in message


def test_an_unknown_model_is_terminal(fake, ollama):
    with pytest.raises(ModelError, match="does not know model 'gpt-nope'"):
        run(openai_model(fake, name="openai/gpt-nope"), "hi")

    ollama.enqueue(error_reply(404, "model 'llama9' not found"))
    with pytest.raises(ModelError) as caught:
        run(ollama_model(ollama, "ollama/llama9"), "hi")
    assert str(caught.value).startswith("ollama does not know model 'llama9' (HTTP 404")


def test_the_wrong_output_limit_field_is_a_terminal_invalid_request(fake):
    providers = {
        "openai": {
            "kind": "openai",
            "base_url": fake.base_url,
            "api_key_env": "OPENAI_API_KEY",
            "max_tokens_param": "max_tokens",
        }
    }
    model = resolve_model(
        "openai/gpt-4.1-mini",
        SoulSettings.from_env({"HEARTBEAT_PROVIDERS": json.dumps(providers)}),
        env={"OPENAI_API_KEY": KEY},
    )
    with pytest.raises(ModelError) as caught:
        run(model, "hi")
    assert not caught.value.transient and "Use 'max_completion_tokens' instead" in str(caught.value)


def test_an_assistant_turn_without_tool_calls_never_has_null_content(fake):
    from heartbeat.soul.types import Message, ModelRequest

    model = openai_model(fake)
    request = ModelRequest(
        system="s",
        messages=(
            Message(role="user", content="q"),
            Message(role="assistant", content=""),
            Message(role="user", content="again"),
        ),
        tools=(),
        max_tokens=16,
    )
    body = model.build_body(request)
    assert body["messages"][2] == {"role": "assistant", "content": ""}
