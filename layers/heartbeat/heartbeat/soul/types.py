"""The Soul's vocabulary, shared by the agent loop, the providers, the tools and the executor.

Provider-neutral: each provider module translates these to and from its own wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the model sees it: a name, what it does, and a JSON schema for its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: Mapping[str, Any]


RAW_ARGUMENTS_KEY = "__raw_arguments__"
"""A provider that receives tool arguments it cannot parse as a JSON object passes them on as
`{RAW_ARGUMENTS_KEY: "<the text>"}`; the agent loop answers the model with an error tool message
instead of calling the tool, and providers replay the raw text unchanged."""


@dataclass(frozen=True)
class Message:
    """One turn. `tool` messages carry the result of the call named by `tool_call_id`."""

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    is_error: bool = False


@dataclass(frozen=True)
class Usage:
    """Tokens one model call (or a whole run, by `+`) consumed. `input_tokens` are the input tokens
    processed without the cache; `cache_read_tokens` were served from the provider's prompt cache and
    `cache_write_tokens` were written to it, so the prompt was the sum of the three. (OpenAI counts
    cached tokens inside `prompt_tokens`; its provider subtracts them to fit this shape.)"""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )

    @property
    def total_tokens(self) -> int:
        """Every token the call processed: the three kinds of input and the output."""
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
        }


@dataclass(frozen=True)
class ModelRequest:
    """What the loop asks of a model. `system` is the stable prefix (instructions, core memory):
    providers with prompt caching mark it, and the tools, as cacheable."""

    system: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int = 4096
    timeout_s: float | None = None
    """The most this call may take (the loop sets it from the Lambda's remaining time); a provider
    uses the smaller of it and its own configured timeout."""


@dataclass(frozen=True)
class ModelResponse:
    """`stop_reason` uses one vocabulary for every provider: `end_turn`, `tool_use`, `max_tokens`,
    or the provider's own word for anything else."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    stop_reason: str = "end_turn"
    usage: Usage = field(default_factory=Usage)


class Model(Protocol):
    """A resolved `provider/model`."""

    @property
    def name(self) -> str: ...

    def complete(self, request: ModelRequest) -> ModelResponse: ...


class Tool(Protocol):
    """A tool the Soul can call. Tools are bound to one tenant when they are built, so a model
    can never name another tenant. A tool signals a recoverable failure by raising ToolError,
    whose message is fed back to the model."""

    @property
    def spec(self) -> ToolSpec: ...

    def __call__(self, arguments: Mapping[str, Any]) -> str: ...


class ToolError(Exception):
    """A tool call failed in a way the model can recover from (bad arguments, over a limit)."""


class ModelError(Exception):
    """A provider failure. `transient` errors (429, 5xx, overloaded, timeout) are retried with
    backoff inside the run; terminal ones (401/403, unknown model, invalid request) are not.
    Messages never contain credentials."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        self.retry_after = retry_after
        # Tokens the run had spent when this error ended it (set by the agent loop), for the run record.
        self.usage = Usage()
