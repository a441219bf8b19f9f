"""The agent loop: tool round trips, recoverable tool failures, and the three bounds (steps, tokens,
time), with a scripted model and real in-memory tools."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fakes.tools import Archive, FailingTool

from heartbeat.soul.agent import AgentLimitError, AgentLimits, run_agent
from heartbeat.soul.retry import RetryPolicy
from heartbeat.soul.types import (
    RAW_ARGUMENTS_KEY,
    Message,
    ModelError,
    ModelRequest,
    ModelResponse,
    ToolCall,
    ToolSpec,
    Usage,
)

Step = ModelResponse | ModelError | Callable[[ModelRequest], ModelResponse]


@dataclass
class ScriptedModel:
    """Answers each call with the next scripted step (the last one repeats)."""

    steps: list[Step]
    name: str = "scripted/test"
    requests: list[ModelRequest] = field(default_factory=list)
    on_call: Callable[[], None] | None = None

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if self.on_call:
            self.on_call()
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, ModelError):
            raise step
        if callable(step):
            return step(request)
        return step


def answer(text: str, tokens: int = 10) -> ModelResponse:
    return ModelResponse(text=text, usage=Usage(input_tokens=tokens, output_tokens=tokens))


def call(name: str, arguments: Mapping[str, Any], call_id: str = "c1", tokens: int = 10) -> ModelResponse:
    return ModelResponse(
        text="",
        tool_calls=(ToolCall(call_id, name, arguments),),
        stop_reason="tool_use",
        usage=Usage(input_tokens=tokens, output_tokens=tokens),
    )


@dataclass
class Clock:
    remaining: int = 60_000

    def remaining_ms(self) -> int:
        return self.remaining


def no_sleep_policy(sleeps: list[float] | None = None) -> RetryPolicy:
    record = sleeps if sleeps is not None else []
    return RetryPolicy(sleep=record.append, random=lambda: 0.5)


def run(model: ScriptedModel, tools: list[Any] | None = None, limits: AgentLimits | None = None, **kw: Any):
    return run_agent(
        model,
        system=kw.pop("system", "SYSTEM"),
        prompt=kw.pop("prompt", "Do the task."),
        history=kw.pop("history", ()),
        tools=tools or [],
        limits=limits or AgentLimits(),
        remaining_ms=kw.pop("remaining_ms", Clock().remaining_ms),
        retry=kw.pop("retry", no_sleep_policy()),
    )


def test_an_answer_without_tools_is_the_output_and_the_transcript_gets_both_turns():
    model = ScriptedModel([answer("All done.", tokens=7)])
    history = (Message(role="user", content="earlier"), Message(role="assistant", content="earlier answer"))

    result = run(model, prompt="Summarise.", history=history, limits=AgentLimits(max_output_tokens=321))

    assert result.output == "All done."
    assert result.steps == 1 and result.tool_calls == 0
    assert result.usage == Usage(input_tokens=7, output_tokens=7)
    assert result.new_messages == (
        Message(role="user", content="Summarise."),
        Message(role="assistant", content="All done."),
    )
    [request] = model.requests
    assert request.system == "SYSTEM"
    assert request.messages == (*history, Message(role="user", content="Summarise."))
    assert request.max_tokens == 321


def test_a_tool_call_runs_the_tool_and_feeds_the_result_back():
    archive = Archive()
    model = ScriptedModel(
        [
            call("archival_memory_insert", {"content": "deploys moved to Friday"}, tokens=5),
            answer("Stored it.", tokens=3),
        ]
    )

    result = run(model, tools=archive.tools(), prompt="Remember: deploys moved to Friday.")

    assert archive.passages == ["deploys moved to Friday"]
    assert result.output == "Stored it."
    assert (result.steps, result.tool_calls) == (2, 1)
    assert result.usage == Usage(input_tokens=8, output_tokens=8)
    second = model.requests[1]
    assert second.messages[-2].tool_calls == (
        ToolCall("c1", "archival_memory_insert", {"content": "deploys moved to Friday"}),
    )
    assert second.messages[-1] == Message(
        role="tool", content="Stored archival passage psg_1.", tool_call_id="c1", is_error=False
    )
    assert [m.role for m in result.new_messages] == ["user", "assistant", "tool", "assistant"]
    assert {spec.name for spec in second.tools} == {"archival_memory_insert", "archival_memory_search"}


def test_a_tool_error_goes_back_to_the_model_which_can_recover():
    failing = FailingTool(message="the lookup service said no")
    model = ScriptedModel(
        [call("flaky_lookup", {}), answer("I could not look it up, so here is my best answer.")]
    )

    result = run(model, tools=[failing])

    assert failing.calls == 1
    tool_message = model.requests[1].messages[-1]
    assert tool_message.is_error and tool_message.content == "the lookup service said no"
    assert result.output.startswith("I could not look it up")


def test_an_unknown_tool_is_an_error_message_naming_the_real_tools():
    archive = Archive()
    model = ScriptedModel([call("delete_everything", {}), answer("ok")])

    run(model, tools=archive.tools())

    message = model.requests[1].messages[-1]
    assert message.is_error
    assert "no tool named 'delete_everything'" in message.content
    assert "archival_memory_insert, archival_memory_search" in message.content
    assert archive.calls == []


def test_arguments_that_were_not_json_are_an_error_and_the_tool_is_not_called():
    archive = Archive()
    model = ScriptedModel(
        [call("archival_memory_insert", {RAW_ARGUMENTS_KEY: '{"content": "unterminated'}), answer("ok")]
    )

    run(model, tools=archive.tools())

    message = model.requests[1].messages[-1]
    assert message.is_error and "not a JSON object" in message.content
    assert archive.calls == []


def test_a_long_tool_result_is_cut_before_the_model_sees_it():
    @dataclass
    class Verbose:
        spec: ToolSpec = ToolSpec("dump", "dumps", {"type": "object", "properties": {}})

        def __call__(self, arguments: Mapping[str, Any]) -> str:
            return "x" * 5000

    model = ScriptedModel([call("dump", {}), answer("ok")])
    run(model, tools=[Verbose()], limits=AgentLimits(max_tool_result_chars=100))

    content = model.requests[1].messages[-1].content
    assert content.startswith("x" * 100) and "5000 characters, 100 shown" in content
    assert len(content) < 200


def test_a_tool_that_fails_unexpectedly_fails_the_run():
    @dataclass
    class Broken:
        spec: ToolSpec = ToolSpec("broken", "breaks", {"type": "object", "properties": {}})

        def __call__(self, arguments: Mapping[str, Any]) -> str:
            raise RuntimeError("DynamoDB is down")

    with pytest.raises(RuntimeError, match="DynamoDB is down"):
        run(ScriptedModel([call("broken", {})]), tools=[Broken()])


def test_the_step_limit_ends_a_run_that_never_answers():
    archive = Archive()
    model = ScriptedModel([call("archival_memory_search", {"query": "again"}, tokens=4)])

    with pytest.raises(AgentLimitError) as caught:
        run(model, tools=archive.tools(), limits=AgentLimits(max_steps=3))

    error = caught.value
    assert error.limit == "steps" and not error.transient
    assert len(model.requests) == 3
    assert "max_steps=3" in str(error)
    assert error.usage == Usage(input_tokens=12, output_tokens=12)
    assert (error.steps, error.tool_calls) == (3, 2)  # the last call's tools were not run
    assert len(archive.calls) == 2


def test_the_token_budget_stops_the_next_call_but_keeps_an_answer_already_given():
    archive = Archive()
    looping = ScriptedModel([call("archival_memory_search", {"query": "x"}, tokens=300)])
    with pytest.raises(AgentLimitError) as caught:
        run(looping, tools=archive.tools(), limits=AgentLimits(max_tokens_per_run=1000))
    assert caught.value.limit == "tokens"
    assert len(looping.requests) == 2  # 600 tokens after the first call, 1200 after the second
    assert caught.value.usage.total_tokens == 1200
    assert "limits.max_tokens=1000" in str(caught.value)

    answering = ScriptedModel([answer("a long answer", tokens=5000)])
    result = run(answering, limits=AgentLimits(max_tokens_per_run=1000))
    assert result.output == "a long answer"


def test_no_model_call_starts_without_time_for_it():
    model = ScriptedModel([answer("never")])
    with pytest.raises(AgentLimitError) as caught:
        run(
            model,
            limits=AgentLimits(safety_margin_ms=5_000),
            remaining_ms=Clock(remaining=4_000).remaining_ms,
        )
    assert caught.value.limit == "time"
    assert model.requests == []
    assert caught.value.steps == 0
    assert "ran out of time before model call 1" in str(caught.value)


def test_the_run_stops_between_steps_when_the_lambda_is_nearly_out_of_time():
    clock = Clock(remaining=30_000)

    def spend() -> None:
        clock.remaining -= 12_000

    archive = Archive()
    model = ScriptedModel([call("archival_memory_search", {"query": "x"})], on_call=spend)

    with pytest.raises(AgentLimitError) as caught:
        run(
            model,
            tools=archive.tools(),
            limits=AgentLimits(safety_margin_ms=10_000),
            remaining_ms=clock.remaining_ms,
        )

    # 18 s left after the first call (8 s over the margin): its tool and a second call run; 6 s left
    # after that, under the margin, so the second call's tool does not start.
    assert caught.value.limit == "time"
    assert len(model.requests) == 2
    assert len(archive.calls) == 1
    assert "before tool 'archival_memory_search' of step 2" in str(caught.value)
    assert caught.value.usage.total_tokens == 40


def test_each_model_call_is_given_the_time_the_run_has_left():
    model = ScriptedModel([answer("ok")])
    run(model, limits=AgentLimits(safety_margin_ms=10_000), remaining_ms=Clock(remaining=45_000).remaining_ms)
    assert model.requests[0].timeout_s == pytest.approx(35.0)


def test_a_model_call_that_hangs_is_cut_off_before_the_lambda_times_out():
    release = threading.Event()

    def hang(request: ModelRequest) -> ModelResponse:
        release.wait(10)
        return answer("too late")

    deadline = time.monotonic() + 0.3
    model = ScriptedModel([hang])
    started = time.monotonic()
    try:
        with pytest.raises(AgentLimitError) as caught:
            run(
                model,
                limits=AgentLimits(safety_margin_ms=100),
                remaining_ms=lambda: int((deadline - time.monotonic()) * 1000) + 100,
            )
    finally:
        release.set()
    assert caught.value.limit == "time"
    assert time.monotonic() - started < 2
    assert "did not finish" in str(caught.value)


def test_a_provider_timeout_that_fires_as_the_run_runs_out_is_the_time_limit_not_a_provider_error():
    clock = Clock(remaining=30_000)

    def read_timeout(request: ModelRequest) -> ModelResponse:
        clock.remaining = 0  # the provider's read timeout is the time the run had left
        raise ModelError(f"openai: no answer within {request.timeout_s} s (timeout)", transient=True)

    with pytest.raises(AgentLimitError) as caught:
        run(
            ScriptedModel([read_timeout]),
            limits=AgentLimits(safety_margin_ms=0),
            remaining_ms=clock.remaining_ms,
        )
    assert caught.value.limit == "time"
    assert isinstance(caught.value.__cause__, ModelError) and "(timeout)" in str(caught.value.__cause__)


def test_transient_errors_are_retried_inside_the_run_honouring_retry_after():
    sleeps: list[float] = []
    model = ScriptedModel(
        [
            ModelError("overloaded", transient=True, status=529, retry_after=3.0),
            ModelError("rate limited", transient=True, status=429),
            answer("finally"),
        ]
    )

    result = run(model, retry=no_sleep_policy(sleeps))

    assert result.output == "finally"
    assert len(model.requests) == 3
    assert result.steps == 1
    assert sleeps[0] == 3.0  # retry-after is a floor on the jittered delay
    assert sleeps[1] == pytest.approx(0.5 * 2.0)  # attempt 2: random 0.5 x min(20, 1 * 2)


def test_a_terminal_error_is_not_retried_and_carries_the_tokens_spent():
    archive = Archive()
    model = ScriptedModel(
        [
            call("archival_memory_search", {"query": "x"}, tokens=50),
            ModelError("bad key", transient=False, status=401),
        ]
    )

    with pytest.raises(ModelError) as caught:
        run(model, tools=archive.tools())

    assert len(model.requests) == 2
    assert caught.value.status == 401 and not caught.value.transient
    assert caught.value.usage == Usage(input_tokens=50, output_tokens=50)


def test_transient_errors_that_persist_fail_the_run_with_a_clear_message():
    model = ScriptedModel([ModelError("anthropic overloaded (HTTP 529)", transient=True, status=529)])
    with pytest.raises(ModelError) as caught:
        run(model, retry=RetryPolicy(max_attempts=3, sleep=lambda s: None, random=lambda: 0.0))
    assert len(model.requests) == 3
    assert "gave up after 3 attempts" in str(caught.value)
    assert caught.value.transient


def test_duplicate_tool_names_are_a_programming_error():
    archive = Archive()
    with pytest.raises(ValueError, match="two tools"):
        run(ScriptedModel([answer("x")]), tools=[*archive.tools(), *archive.tools()])


def test_a_transcript_cut_between_a_call_and_its_result_is_repaired_before_it_is_sent():
    cut = (
        Message(role="user", content="earlier task"),
        Message(
            role="assistant",
            content="",
            tool_calls=(ToolCall("a", "archival_memory_search", {"query": "x"}),),
        ),
        Message(role="tool", content="stray answer", tool_call_id="zzz"),
    )
    model = ScriptedModel([answer("ok")])

    run(model, history=cut)

    sent = model.requests[0].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "user"]
    assert sent[2] == Message(
        role="tool", content="no result: the run ended before this tool ran", tool_call_id="a", is_error=True
    )


def test_a_well_formed_history_is_sent_unchanged():
    archive = Archive()
    first = run(
        ScriptedModel([call("archival_memory_insert", {"content": "x"}), answer("ok")]), tools=archive.tools()
    )
    model = ScriptedModel([answer("again")])
    run(model, history=first.new_messages)
    assert model.requests[0].messages[:-1] == first.new_messages


def test_an_empty_answer_fails_the_run_so_no_empty_turn_is_ever_stored():
    model = ScriptedModel([ModelResponse(text="  \n", stop_reason="end_turn")])
    with pytest.raises(ModelError) as raised:
        run(model)
    assert not isinstance(raised.value, AgentLimitError)
    assert raised.value.transient is True  # counts once: the next run tries again
    assert "scripted/test returned an empty answer (stop reason: end_turn)" in str(raised.value)


def test_an_answer_cut_off_before_any_text_is_the_output_token_limit():
    model = ScriptedModel([ModelResponse(text="", stop_reason="max_tokens", usage=Usage(output_tokens=4096))])
    with pytest.raises(AgentLimitError) as raised:
        run(model, limits=AgentLimits(max_output_tokens=4096))
    assert raised.value.limit == "tokens" and raised.value.usage.output_tokens == 4096
    assert "without writing an answer: raise HEARTBEAT_AGENT_MAX_OUTPUT_TOKENS" in str(raised.value)


def test_an_empty_answer_already_in_a_history_is_dropped_with_its_question():
    history = [
        Message(role="user", content="first question"),
        Message(role="assistant", content=""),
        Message(role="user", content="second question"),
        Message(role="assistant", content="second answer"),
    ]
    model = ScriptedModel([answer("third answer")])
    run(model, history=history, prompt="third question")
    sent = [(m.role, m.content) for m in model.requests[0].messages]
    assert sent == [
        ("user", "second question"),
        ("assistant", "second answer"),
        ("user", "third question"),
    ]
