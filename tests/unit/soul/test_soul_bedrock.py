"""`bedrock/<model-id>` over the Converse API, with botocore's Stubber (exact request parameters,
real response shapes, validated against botocore's service model) and an adaptive fake in the
client's event hooks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from fakes import bedrock as fb
from fakes.tools import Archive, FailingTool

from heartbeat.soul.agent import AgentLimits, AgentResult, run_agent
from heartbeat.soul.resolve import ProviderClients, SoulSettings, resolve_model
from heartbeat.soul.retry import RetryPolicy
from heartbeat.soul.types import Message, Model, ModelError, ModelRequest, Usage

CLAUDE = "bedrock/" + fb.MODEL_ID
SYSTEM = "You are the Soul.\n<core_memory>\n" + "Ada likes concise answers. " * 400 + "\n</core_memory>"
CACHE_POINT = {"cachePoint": {"type": "default"}}


def model_for(client: Any, name: str = CLAUDE, providers: str | None = None) -> Model:
    env = {"HEARTBEAT_PROVIDERS": providers} if providers else {}
    return resolve_model(name, SoulSettings.from_env(env), clients=ProviderClients(bedrock_runtime=client))


def run(
    model: Model, prompt: str, tools: list | None = None, sleeps: list[float] | None = None, **kw
) -> AgentResult:
    return run_agent(
        model,
        system=kw.pop("system", SYSTEM),
        prompt=prompt,
        history=kw.pop("history", ()),
        tools=tools if tools is not None else Archive().tools(),
        limits=AgentLimits(max_output_tokens=700),
        remaining_ms=lambda: 300_000,
        retry=RetryPolicy(
            max_attempts=3, sleep=(sleeps if sleeps is not None else []).append, random=lambda: 0.5
        ),
    )


def tool_config(with_cache_point: bool = True) -> dict[str, Any]:
    tools: list[dict[str, Any]] = [
        {
            "toolSpec": {
                "name": t.spec.name,
                "description": t.spec.description,
                "inputSchema": {"json": dict(t.spec.parameters)},
            }
        }
        for t in Archive().tools()
    ]
    return {"tools": tools + ([CACHE_POINT] if with_cache_point else [])}


def test_the_converse_request_has_system_tools_and_cache_points_after_each():
    client = fb.client()
    with Stubber(client) as stub:
        stub.add_response(
            "converse",
            fb.text_response("Done.", input_tokens=12, output_tokens=3, cache_write=1500),
            expected_params={
                "modelId": fb.MODEL_ID,
                "messages": [{"role": "user", "content": [{"text": "Summarise the week."}]}],
                "system": [{"text": SYSTEM}, CACHE_POINT],
                "inferenceConfig": {"maxTokens": 700},
                "toolConfig": tool_config(),
            },
        )
        result = run(model_for(client), "Summarise the week.")
        stub.assert_no_pending_responses()
    assert result.output == "Done."
    assert result.usage == Usage(input_tokens=12, output_tokens=3, cache_write_tokens=1500)


def test_a_tool_use_round_trip_in_converse_shapes():
    client = fb.client()
    archive = Archive()
    with Stubber(client) as stub:
        stub.add_response(
            "converse",
            fb.tool_use_response(
                [("tooluse_1", "archival_memory_insert", {"content": "the offsite is in Porto"})],
                text="Storing.",
            ),
        )
        stub.add_response(
            "converse",
            fb.text_response("Stored.", cache_read=1500),
            expected_params={
                "modelId": fb.MODEL_ID,
                "messages": [
                    {"role": "user", "content": [{"text": "Remember the offsite is in Porto."}]},
                    {
                        "role": "assistant",
                        "content": [
                            {"text": "Storing."},
                            {
                                "toolUse": {
                                    "toolUseId": "tooluse_1",
                                    "name": "archival_memory_insert",
                                    "input": {"content": "the offsite is in Porto"},
                                }
                            },
                        ],
                    },
                    {
                        "role": "user",
                        "content": [
                            {
                                "toolResult": {
                                    "toolUseId": "tooluse_1",
                                    "content": [{"text": "Stored archival passage psg_1."}],
                                    "status": "success",
                                }
                            }
                        ],
                    },
                ],
                "system": [{"text": SYSTEM}, CACHE_POINT],
                "inferenceConfig": {"maxTokens": 700},
                "toolConfig": tool_config(),
            },
        )
        result = run(model_for(client), "Remember the offsite is in Porto.", tools=archive.tools())
        stub.assert_no_pending_responses()
    assert archive.passages == ["the offsite is in Porto"]
    assert result.output == "Stored." and result.tool_calls == 1
    assert result.usage.cache_read_tokens == 1500


def test_a_failed_tool_goes_back_with_status_error():
    client = fb.client()
    fake = fb.FakeBedrock(client)
    fake.enqueue(fb.tool_use_response([("tooluse_9", "flaky_lookup", {})]), fb.text_response("moving on"))
    run(model_for(client), "Look it up.", tools=[FailingTool()])
    assert fake.requests[1]["messages"][2]["content"] == [
        {
            "toolResult": {
                "toolUseId": "tooluse_9",
                "content": [{"text": "the lookup service said no"}],
                "status": "error",
            }
        }
    ]


def test_models_without_prompt_caching_get_no_cache_points_unless_configured():
    client = fb.client()
    fake = fb.FakeBedrock(client)
    run(model_for(client, "bedrock/meta.llama3-3-70b-instruct-v1:0"), "hi")
    assert fake.requests[-1]["system"] == [{"text": SYSTEM}]
    assert CACHE_POINT not in fake.requests[-1]["toolConfig"]["tools"]

    forced = model_for(
        client,
        "bedrock/meta.llama3-3-70b-instruct-v1:0",
        '{"bedrock": {"kind": "bedrock", "prompt_caching": true}}',
    )
    run(forced, "hi")
    assert fake.requests[-1]["system"][-1] == CACHE_POINT


def test_a_task_runs_end_to_end_and_its_second_run_reads_the_cache():
    client = fb.client()
    fb.FakeBedrock(client)
    archive = Archive()

    first = run(model_for(client), "Remember that invoices go out on the 1st.", tools=archive.tools())
    second = run(model_for(client), "Remember that invoices go out on the 1st.", tools=archive.tools())

    assert archive.passages == ["invoices go out on the 1st"] * 2
    assert "Stored in archival memory" in first.output
    assert (
        first.usage.cache_write_tokens > 1024
        and first.usage.cache_read_tokens == first.usage.cache_write_tokens
    )
    assert (
        second.usage.cache_write_tokens == 0
        and second.usage.cache_read_tokens == 2 * first.usage.cache_write_tokens
    )


def test_a_pinned_conversation_replays_tool_turns_that_converse_accepts():
    client = fb.client()
    fake = fb.FakeBedrock(client)
    first = run(model_for(client), "Remember that the boiler was serviced.")
    second = run(model_for(client), "Anything else?", history=first.new_messages)
    assert "Conversation: 4 earlier messages" in second.output
    assert [m["role"] for m in fake.requests[-1]["messages"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 429),
        ("ServiceUnavailableException", 503),
        ("ModelTimeoutException", 408),
        ("InternalServerException", 500),
        ("ModelNotReadyException", 429),
    ],
)
def test_throttling_and_unavailability_are_retried(code, status):
    client = fb.client()
    sleeps: list[float] = []
    with Stubber(client) as stub:
        stub.add_client_error("converse", code, "slow down", http_status_code=status)
        stub.add_response("converse", fb.text_response("ok"))
        assert run(model_for(client), "hi", sleeps=sleeps).output == "ok"
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDeniedException", 403, "the executor's role may not invoke"),
        (
            "ValidationException",
            400,
            "Bedrock rejected the request as invalid (ValidationException): bad input",
        ),
        ("ResourceNotFoundException", 404, "Bedrock does not know model"),
    ],
)
def test_access_validation_and_unknown_models_are_terminal(code, status, expected):
    client = fb.client()
    with Stubber(client) as stub:
        stub.add_client_error("converse", code, "bad input", http_status_code=status)
        with pytest.raises(ModelError) as caught:
            run(model_for(client), "hi", sleeps=[])
        stub.assert_no_pending_responses()
    assert not caught.value.transient
    assert expected in str(caught.value)


def test_a_read_timeout_is_transient():
    client = fb.client()

    def time_out(**kwargs: Any) -> None:
        raise ReadTimeoutError(
            endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse"
        )

    client.meta.events.register("before-send.bedrock-runtime.Converse", time_out)
    model = model_for(client)
    with pytest.raises(ModelError) as caught:
        model.complete(ModelRequest(system="s", messages=(Message(role="user", content="hi"),)))
    assert caught.value.transient and "ReadTimeoutError" in str(caught.value)


def test_blank_text_beside_a_tool_call_is_not_sent_to_converse():
    from fakes.tools import blank_text_beside_a_tool_call

    client = fb.client()
    fake = fb.FakeBedrock(client)
    result = run(model_for(client), "Anything else?", history=blank_text_beside_a_tool_call("t1"))
    assert result.output  # Converse accepted the replayed turns
    assistant = fake.requests[-1]["messages"][1]
    assert assistant["role"] == "assistant" and [list(b) for b in assistant["content"]] == [["toolUse"]]
