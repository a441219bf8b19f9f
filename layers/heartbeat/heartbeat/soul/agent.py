"""The agent loop: one run of the Soul.

`run_agent` sends the system prompt (instructions and core memory), the earlier turns of a pinned
conversation and the task prompt to the model; runs the tools it calls and sends the results back;
and repeats until the model answers without calling a tool. Every run is bounded three ways:

- steps: at most `max_steps` model calls (the task's `limits.max_steps`);
- tokens: no model call starts once the run has used `max_tokens_per_run` tokens (the task's
  `limits.max_tokens`; all kinds: uncached, cached and written-to-cache input, and output), and
  each call may write at most `max_output_tokens`, so a run spends at most its limit plus one call;
- time: the run's own `timeout_s` (the task's `limits.timeout_seconds`) and the Lambda's remaining
  time, whichever ends first: no model call or tool starts unless more than `safety_margin_ms` of the
  Lambda's time is left (and the timeout has not passed), and each model call is cut off then (it
  runs in a worker thread with a deadline), so the executor always has time to record the failure.

Hitting a bound raises `AgentLimitError` (a terminal `ModelError` saying which bound and how to
raise it). Transient provider errors are retried inside the run (`retry.py`); the error that ends a
run carries the tokens spent so far in `usage`. A tool that raises `ToolError`, a call to a tool
that does not exist, or arguments that are not a JSON object become an `is_error` tool message the
model can recover from; any other exception from a tool fails the run.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from heartbeat.soul.retry import RetryPolicy, call_with_retry
from heartbeat.soul.types import (
    RAW_ARGUMENTS_KEY,
    Message,
    Model,
    ModelError,
    ModelRequest,
    ModelResponse,
    Tool,
    ToolCall,
    ToolError,
    Usage,
)

logger = logging.getLogger(__name__)

LimitKind = Literal["steps", "tokens", "time"]


@dataclass(frozen=True)
class AgentLimits:
    max_steps: int = 8
    """Model calls per run."""
    max_tokens_per_run: int = 200_000
    """No model call starts once the run has used this many tokens (`Usage.total_tokens`)."""
    max_output_tokens: int = 4096
    """The `max_tokens` of each model call."""
    safety_margin_ms: int = 10_000
    """Lambda time kept back for the executor to record the run."""
    max_tool_result_chars: int = 16_000
    """A longer tool result is cut to this many characters before the model sees it."""
    timeout_s: float | None = None
    """The run's own time limit (the task's `limits.timeout_seconds`); None: the Lambda's time only."""

    def __post_init__(self) -> None:
        for name in ("max_steps", "max_tokens_per_run", "max_output_tokens", "max_tool_result_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"AgentLimits.{name} must be at least 1")
        if self.safety_margin_ms < 0:
            raise ValueError("AgentLimits.safety_margin_ms must not be negative")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ValueError("AgentLimits.timeout_s must be positive")


@dataclass(frozen=True)
class AgentResult:
    output: str
    usage: Usage
    new_messages: tuple[Message, ...]
    """The user turn and every assistant and tool turn of this run, in order: what a pinned
    conversation's transcript appends."""
    steps: int
    tool_calls: int
    stop_reason: str = "end_turn"
    """`max_tokens` when the answer was cut at `max_output_tokens`."""


class AgentLimitError(ModelError):
    """The run hit one of its bounds before the model answered. Terminal for this run; `limit` says
    which bound (`steps`, `tokens` or `time`), so the executor can decide how to count it."""

    def __init__(self, message: str, *, limit: LimitKind, usage: Usage, steps: int, tool_calls: int) -> None:
        super().__init__(message, transient=False)
        self.limit: LimitKind = limit
        self.usage = usage
        self.steps = steps
        self.tool_calls = tool_calls


def run_agent(
    model: Model,
    *,
    system: str,
    prompt: str,
    history: Sequence[Message],
    tools: Sequence[Tool],
    limits: AgentLimits,
    remaining_ms: Callable[[], int],
    retry: RetryPolicy | None = None,
    output_schema: Mapping[str, Any] | None = None,
) -> AgentResult:
    """Run the Soul once. `remaining_ms` is the Lambda's `context.get_remaining_time_in_millis`.
    `output_schema` goes to the model with each call (providers with structured output use it);
    checking the answer against it is the caller's (`heartbeat.soul.structured`)."""
    tools_by_name: dict[str, Tool] = {}
    for tool in tools:
        if tool.spec.name in tools_by_name:
            raise ValueError(f"two tools are named {tool.spec.name!r}")
        tools_by_name[tool.spec.name] = tool
    specs = tuple(tool.spec for tool in tools)
    policy = retry or RetryPolicy()

    deadline = time.monotonic() + limits.timeout_s if limits.timeout_s is not None else None

    def timeout_left_ms() -> int | None:
        return None if deadline is None else int((deadline - time.monotonic()) * 1000)

    def budget_ms() -> int:
        lambda_ms = remaining_ms() - limits.safety_margin_ms
        own = timeout_left_ms()
        return lambda_ms if own is None else min(lambda_ms, own)

    def out_of_time() -> str:
        """Which time bound ended the run, and how to raise it."""
        own = timeout_left_ms()
        if own is not None and own <= remaining_ms() - limits.safety_margin_ms:
            return (
                f"the run reached its time limit (limits.timeout_seconds={limits.timeout_s:g}): "
                "raise the task's limits.timeout_seconds (at most 840), or simplify the task"
            )
        return "the Lambda would have timed out: raise the executor's timeout, or simplify the task"

    user_turn = Message(role="user", content=prompt)
    new_messages: list[Message] = [user_turn]
    conversation: list[Message] = [*well_formed(history), user_turn]
    usage = Usage()
    steps = 0
    tool_call_count = 0

    def limit_error(limit: LimitKind, message: str) -> AgentLimitError:
        return AgentLimitError(message, limit=limit, usage=usage, steps=steps, tool_calls=tool_call_count)

    try:
        while True:
            if usage.total_tokens >= limits.max_tokens_per_run:
                raise limit_error(
                    "tokens",
                    f"the run used {usage.total_tokens} tokens in {steps} model calls without a final answer "
                    f"(its token limit, limits.max_tokens={limits.max_tokens_per_run}): shorten the prompt or "
                    "core memory, or raise the task's limits.max_tokens",
                )
            if budget_ms() <= 0:
                raise limit_error(
                    "time", f"the run ran out of time before model call {steps + 1}: {out_of_time()}"
                )
            request = ModelRequest(
                system=system,
                messages=tuple(conversation),
                tools=specs,
                max_tokens=limits.max_output_tokens,
                output_schema=output_schema,
            )
            steps += 1
            started = time.monotonic()
            response = call_with_retry(
                functools.partial(_complete_before_deadline, model, request, budget_ms, steps, out_of_time),
                policy,
                remaining_ms=budget_ms,
                what=f"{model.name} step {steps}",
            )
            usage = usage + response.usage
            logger.info(
                "model step",
                extra={
                    "model": model.name,
                    "step": steps,
                    "duration_ms": int((time.monotonic() - started) * 1000),
                    "stop_reason": response.stop_reason,
                    "tool_calls": [call.name for call in response.tool_calls],
                    "usage": response.usage.to_dict(),
                },
            )
            if not response.tool_calls and not response.text.strip():
                raise _empty_answer(model.name, response.stop_reason, limits, limit_error)
            assistant = Message(role="assistant", content=response.text, tool_calls=response.tool_calls)
            conversation.append(assistant)
            new_messages.append(assistant)
            if not response.tool_calls:
                return AgentResult(
                    output=response.text,
                    usage=usage,
                    new_messages=tuple(new_messages),
                    steps=steps,
                    tool_calls=tool_call_count,
                    stop_reason=response.stop_reason,
                )
            if steps >= limits.max_steps:
                # Its tool calls are not run: their results could never be sent back.
                raise limit_error(
                    "steps",
                    f"the model made {steps} calls without a final answer (its step limit, "
                    f"limits.max_steps={limits.max_steps}): simplify the task's prompt, or raise the task's "
                    "limits.max_steps (at most 50)",
                )
            for call in response.tool_calls:
                if budget_ms() <= 0:
                    raise limit_error(
                        "time",
                        f"the run ran out of time before tool {call.name!r} of step {steps}: {out_of_time()}",
                    )
                tool_call_count += 1
                result = _run_tool(tools_by_name, call, limits.max_tool_result_chars)
                conversation.append(result)
                new_messages.append(result)
    except ModelError as exc:
        exc.usage = usage
        if isinstance(exc, AgentLimitError):
            exc.steps, exc.tool_calls = steps, tool_call_count
        raise


def _empty_answer(
    model: str,
    stop_reason: str,
    limits: AgentLimits,
    limit_error: Callable[[LimitKind, str], AgentLimitError],
) -> ModelError:
    """A reply with no text and no tool call: no answer to record, nor a turn any provider would
    take back in the conversation. The run fails (counting once towards backoff) and says why."""
    if stop_reason == "max_tokens":
        return limit_error(
            "tokens",
            f"{model} used its whole output budget (max_output_tokens={limits.max_output_tokens}) without "
            "writing an answer: raise HEARTBEAT_AGENT_MAX_OUTPUT_TOKENS, or ask for a shorter answer",
        )
    return ModelError(
        f"{model} returned an empty answer (stop reason: {stop_reason}): the next run tries again; "
        "if it repeats, make the task's prompt ask for a written answer",
        transient=True,
    )


def well_formed(history: Sequence[Message]) -> list[Message]:
    """History every provider accepts: each tool call answered by a tool message right after its
    assistant turn (a missing answer becomes an error message), no tool message without its
    call, and no empty assistant turn (with the user turn it answered: roles must alternate). A
    transcript cut short (a run that failed between a call and its result) would otherwise be
    refused by the provider on every later run of the conversation."""
    out: list[Message] = []
    index = 0
    while index < len(history):
        message = history[index]
        index += 1
        if message.role == "tool":
            continue  # answers are collected right after their assistant turn below
        if message.role == "assistant" and not message.tool_calls and not message.content.strip():
            if out and out[-1].role == "user":
                out.pop()
            continue
        out.append(message)
        if message.role != "assistant" or not message.tool_calls:
            continue
        answers: dict[str, Message] = {}
        while index < len(history) and history[index].role == "tool":
            answer = history[index]
            if answer.tool_call_id is not None:
                answers.setdefault(answer.tool_call_id, answer)
            index += 1
        for call in message.tool_calls:
            out.append(
                answers.get(call.id)
                or _tool_message(call, "no result: the run ended before this tool ran", True)
            )
    return out


def _run_tool(tools: Mapping[str, Tool], call: ToolCall, max_chars: int) -> Message:
    tool = tools.get(call.name)
    if tool is None:
        available = ", ".join(sorted(tools)) or "none"
        return _tool_message(call, f"there is no tool named {call.name!r}; the tools are: {available}", True)
    if RAW_ARGUMENTS_KEY in call.arguments:
        return _tool_message(
            call, f"the arguments for {call.name} were not a JSON object; call it again with valid JSON", True
        )
    started = time.monotonic()
    try:
        output = tool(call.arguments)
        is_error = False
    except ToolError as exc:
        output = str(exc) or f"{call.name} failed"
        is_error = True
    logger.info(
        "tool call",
        extra={
            "tool": call.name,
            "is_error": is_error,
            "duration_ms": int((time.monotonic() - started) * 1000),
        },
    )
    if len(output) > max_chars:
        output = output[:max_chars] + f"\n[cut: the result had {len(output)} characters, {max_chars} shown]"
    return _tool_message(call, output, is_error)


def _tool_message(call: ToolCall, content: str, is_error: bool) -> Message:
    return Message(role="tool", content=content, tool_call_id=call.id, is_error=is_error)


def _complete_before_deadline(
    model: Model,
    request: ModelRequest,
    budget_ms: Callable[[], int],
    step: int,
    out_of_time: Callable[[], str],
) -> ModelResponse:
    """One model call, abandoned (in its worker thread) when the run's time is up."""
    available_ms = budget_ms()
    if available_ms <= 0:
        raise AgentLimitError(
            f"the run ran out of time before model call {step}: {out_of_time()}",
            limit="time",
            usage=Usage(),
            steps=step - 1,
            tool_calls=0,
        )
    timeout_s = available_ms / 1000
    request = replace(request, timeout_s=timeout_s)
    done = threading.Event()
    outcome: list[ModelResponse | BaseException] = []

    def call() -> None:
        try:
            outcome.append(model.complete(request))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            outcome.append(exc)
        finally:
            done.set()

    def late() -> AgentLimitError:
        return AgentLimitError(
            f"model call {step} to {model.name} did not finish in the {timeout_s:.1f} s the run had left: "
            f"{out_of_time()}",
            limit="time",
            usage=Usage(),
            steps=step,
            tool_calls=0,
        )

    worker = threading.Thread(target=call, name=f"soul-model-step-{step}", daemon=True)
    worker.start()
    if not done.wait(timeout_s):
        raise late()
    result = outcome[0]
    if isinstance(result, ModelError) and budget_ms() <= 0:
        # The provider's own read timeout (set to the same time left) can fire a moment before
        # the wait above gives up: that is the run's time limit too, not a provider failure.
        raise late() from result
    if isinstance(result, BaseException):
        raise result
    return result
