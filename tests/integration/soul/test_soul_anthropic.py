"""`anthropic/<model>` against a fake Messages API on 127.0.0.1: the request on the wire, tool use
round trips, prompt caching and usage, and every class of error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.anthropic import FakeAnthropic, error_reply, text_reply, tool_use_reply
from fakes.server import Reply
from fakes.tools import Archive, FailingTool

from heartbeat.soul.agent import AgentLimits, AgentResult, run_agent
from heartbeat.soul.resolve import SoulSettings, resolve_model
from heartbeat.soul.retry import RetryPolicy
from heartbeat.soul.types import Message, Model, ModelError, ModelRequest, Usage

KEY = "sk-ant-api03-fake-key-for-tests-0000000000000000"
MODEL = "anthropic/claude-sonnet-4-5"
SYSTEM = "You are the Soul.\n<core_memory>\n" + "Ada likes concise answers. " * 400 + "\n</core_memory>"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(api_key=KEY, models={"claude-sonnet-4-5"}) as server:
        yield server


def model_for(fake: FakeAnthropic, name: str = MODEL, key: str = KEY, timeout_s: float = 5) -> Model:
    settings = SoulSettings.from_env(
        {
            "HEARTBEAT_PROVIDERS": (
                f'{{"anthropic": {{"kind": "anthropic", "base_url": "{fake.url}", '
                f'"api_key_env": "ANTHROPIC_API_KEY", "timeout_s": {timeout_s}}}}}'
            )
        }
    )
    return resolve_model(name, settings, env={"ANTHROPIC_API_KEY": key})


def run(
    model: Model, prompt: str, tools: list | None = None, sleeps: list[float] | None = None, **kw
) -> AgentResult:
    return run_agent(
        model,
        system=kw.pop("system", SYSTEM),
        prompt=prompt,
        history=kw.pop("history", ()),
        tools=tools if tools is not None else Archive().tools(),
        limits=kw.pop("limits", AgentLimits(max_output_tokens=1024)),
        remaining_ms=lambda: 300_000,
        retry=RetryPolicy(
            max_attempts=kw.pop("attempts", 4),
            sleep=(sleeps if sleeps is not None else []).append,
            random=lambda: 0.5,
        ),
    )


def test_the_request_carries_the_key_version_system_tools_and_cache_markers(fake):
    fake.enqueue(text_reply("Done."))
    archive = Archive()

    result = run(model_for(fake), "Summarise the week.", tools=archive.tools())

    assert result.output == "Done."
    [request] = fake.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    body = request.body
    assert body["model"] == "claude-sonnet-4-5"
    assert body["max_tokens"] == 1024
    assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert [t["name"] for t in body["tools"]] == ["archival_memory_insert", "archival_memory_search"]
    assert body["tools"][0]["input_schema"]["required"] == ["content"]
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Summarise the week."}]}
    ]


def test_a_task_runs_end_to_end_with_a_tool_call(fake):
    archive = Archive()

    result = run(model_for(fake), "Remember that the offsite is in Porto.", tools=archive.tools())

    assert archive.passages == ["the offsite is in Porto"]
    assert "Stored in archival memory" in result.output
    assert (result.steps, result.tool_calls) == (2, 1)
    second = fake.requests[1].body["messages"]
    assert second[1] == {
        "role": "assistant",
        "content": [
            {
                "type": "tool_use",
                "id": "toolu_offline-1-1",
                "name": "archival_memory_insert",
                "input": {"content": "the offsite is in Porto"},
            }
        ],
    }
    assert second[2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_offline-1-1",
                "content": "Stored archival passage psg_1.",
            }
        ],
    }


def test_a_failed_tool_goes_back_as_an_error_tool_result(fake):
    fake.enqueue(
        tool_use_reply([("toolu_01", "flaky_lookup", {})], text="Let me look."),
        text_reply("It failed; moving on."),
    )

    result = run(model_for(fake), "Look it up.", tools=[FailingTool()])

    assert result.output == "It failed; moving on."
    messages = fake.requests[1].body["messages"]
    assert messages[1]["content"] == [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "toolu_01", "name": "flaky_lookup", "input": {}},
    ]
    assert messages[2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_01",
            "content": "the lookup service said no",
            "is_error": True,
        }
    ]


def test_a_pinned_conversation_replays_earlier_tool_turns_as_the_api_expects(fake):
    first = run(model_for(fake), "Remember that the boiler was serviced.")
    second = run(model_for(fake), "Anything else?", history=first.new_messages)

    assert "Conversation: 4 earlier messages" in second.output
    roles = [m["role"] for m in fake.requests[-1].body["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user"]  # alternating, as the fake enforces


def test_usage_and_cache_tokens_come_back_and_an_unchanged_task_reuses_the_cache(fake):
    first = run(model_for(fake), "Remember that invoices go out on the 1st.")
    # Step 1 wrote the stable prefix (tools + system) to the cache; step 2 read it back.
    assert first.usage.cache_write_tokens > 1024
    assert first.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert first.usage.input_tokens > 0 and first.usage.output_tokens > 0

    second = run(model_for(fake), "Remember that invoices go out on the 1st.")
    assert second.usage.cache_write_tokens == 0
    assert second.usage.cache_read_tokens == 2 * first.usage.cache_write_tokens


def test_usage_fields_map_one_to_one(fake):
    fake.enqueue(text_reply("x", input_tokens=11, output_tokens=22, cache_read=33, cache_write=44))
    result = run(model_for(fake), "hi")
    assert result.usage == Usage(
        input_tokens=11, output_tokens=22, cache_read_tokens=33, cache_write_tokens=44
    )


@pytest.mark.parametrize(
    ("reply", "retry_after"),
    [
        (error_reply(529, "overloaded_error", "Overloaded", retry_after="2"), 2.0),
        (
            error_reply(
                429,
                "rate_limit_error",
                "Number of request tokens has exceeded your rate limit",
                retry_after="7",
            ),
            7.0,
        ),
        (error_reply(500, "api_error", "Internal server error"), None),
        (Reply(502, b"<html>Bad Gateway</html>"), None),
    ],
)
def test_transient_errors_are_retried_honouring_retry_after(fake, reply, retry_after):
    fake.enqueue(reply)
    sleeps: list[float] = []

    result = run(model_for(fake), "hi", sleeps=sleeps)

    assert result.output.startswith("[offline/heartbeat]")
    assert len(fake.requests) == 2
    assert sleeps == [retry_after if retry_after is not None else 0.5]


def test_transient_errors_that_persist_end_the_run_with_the_status(fake):
    fake.enqueue(*[error_reply(529, "overloaded_error", "Overloaded") for _ in range(3)])
    with pytest.raises(ModelError) as caught:
        run(model_for(fake), "hi", attempts=3)
    assert caught.value.transient and caught.value.status == 529
    assert (
        str(caught.value)
        == "anthropic overloaded (HTTP 529 overloaded_error): Overloaded (gave up after 3 attempts)"
    )


def test_a_spend_limit_429_is_terminal(fake):
    fake.enqueue(
        error_reply(
            429,
            "rate_limit_error",
            "You have reached your specified API usage limits.",
            details={"error_code": "enforced_spend_limit_reached"},
        )
    )
    with pytest.raises(ModelError) as caught:
        run(model_for(fake), "hi", sleeps=[])
    assert not caught.value.transient
    assert "out of credit or over its spend limit" in str(caught.value)
    assert len(fake.requests) == 1


def test_a_bad_key_is_terminal_and_the_message_says_where_the_key_is_without_showing_it(fake):
    wrong = "sk-ant-api03-the-wrong-key-999999999999999"
    with pytest.raises(ModelError) as caught:
        run(model_for(fake, key=wrong), "hi")
    assert not caught.value.transient and caught.value.status == 401
    assert str(caught.value) == (
        "anthropic rejected the API key (HTTP 401 authentication_error): "
        "check the key in the environment variable ANTHROPIC_API_KEY"
    )
    assert wrong not in repr(caught.value) and KEY not in repr(caught.value)
    assert len(fake.requests) == 1


def test_an_unknown_model_is_terminal(fake):
    with pytest.raises(ModelError) as caught:
        run(model_for(fake, name="anthropic/claude-nope"), "hi")
    assert not caught.value.transient and caught.value.status == 404
    assert "does not know model 'claude-nope'" in str(caught.value)
    assert "check the task's model name" in str(caught.value)


def test_an_invalid_request_is_terminal_with_the_providers_reason(fake):
    fake.enqueue(
        error_reply(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum")
    )
    with pytest.raises(ModelError) as caught:
        run(model_for(fake), "hi")
    assert not caught.value.transient
    assert str(caught.value) == (
        "anthropic rejected the request as invalid (HTTP 400 invalid_request_error): "
        "prompt is too long: 210000 tokens > 200000 maximum"
    )


def test_a_slow_answer_times_out_as_a_transient_error_and_the_retry_succeeds(fake):
    model = model_for(fake, timeout_s=0.3)
    fake.enqueue(Reply(200, {"never": "sent"}, delay_s=3))
    request = ModelRequest(system="s", messages=(Message(role="user", content="hi"),), max_tokens=10)
    with pytest.raises(ModelError) as caught:
        model.complete(request)
    assert caught.value.transient and "timeout" in str(caught.value)

    fake.enqueue(Reply(200, {"never": "sent"}, delay_s=3))
    assert run(model, "hi").output.startswith("[offline/heartbeat]")


def test_the_calls_timeout_is_capped_by_the_time_the_run_has_left(fake):
    model = model_for(fake, timeout_s=60)
    fake.enqueue(Reply(200, {"never": "sent"}, delay_s=3))
    request = ModelRequest(
        system="s", messages=(Message(role="user", content="hi"),), max_tokens=10, timeout_s=0.2
    )
    with pytest.raises(ModelError, match="timeout"):
        model.complete(request)


def test_an_unreachable_server_is_transient():
    with FakeAnthropic() as gone:
        model = model_for(gone)
    with pytest.raises(ModelError) as caught:
        model.complete(ModelRequest(system="", messages=(Message(role="user", content="hi"),)))
    assert caught.value.transient and "could not reach 127.0.0.1" in str(caught.value)


def test_blank_text_beside_a_tool_call_is_not_sent(fake):
    from fakes.tools import blank_text_beside_a_tool_call

    result = run(model_for(fake), "Anything else?", history=blank_text_beside_a_tool_call("toolu_1"))
    assert result.output  # the fake refuses whitespace-only text blocks, as the API does
    assistant = fake.requests[-1].body["messages"][1]
    assert [block["type"] for block in assistant["content"]] == ["tool_use"]
