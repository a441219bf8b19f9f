"""`anthropic/<model>`: the Anthropic Messages API (`POST /v1/messages`).

Tools go out as `tools` (`name`, `description`, `input_schema`); the model's calls come back as
`tool_use` content blocks and their results go back as `tool_result` blocks (`is_error` on
failures) in the next user turn. Prompt caching: `cache_control: {"type": "ephemeral"}` marks the
last tool and the system prompt, so the stable prefix (tools, instructions, core memory) is written
once and read from the cache by later steps and runs; `usage.cache_creation_input_tokens` and
`cache_read_input_tokens` come back into `Usage`. Errors: 429 (unless the account's spend limit was
reached), 529 overloaded, 5xx and timeouts are transient, with `retry-after` honoured; 400, 401,
403, 404 and 413 are terminal. A request with an `output_schema` offers one more tool,
`final_answer` (its input schema the task's), with `tool_choice: {"type": "any"}`: the model's call
of it is the run's final answer, as JSON text (Anthropic's tool-forced structured output).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from heartbeat.soul.providers._http import clean, http_error, obj, post_json, retry_after
from heartbeat.soul.providers._turns import ordered_user_parts, tool_result_text, turns
from heartbeat.soul.structured import ANSWER_TOOL, ANSWER_TOOL_DESCRIPTION
from heartbeat.soul.types import ModelError, ModelRequest, ModelResponse, ToolCall, Usage

logger = logging.getLogger(__name__)

API_VERSION = "2023-06-01"
_EPHEMERAL = {"type": "ephemeral"}
_WRAPPED = "answer"  # the answer tool's one property when the task's schema is not an object


class AnthropicModel:
    def __init__(
        self,
        name: str,
        model_id: str,
        *,
        api_key: str | None,
        key_source: str,
        base_url: str = "https://api.anthropic.com",
        timeout_s: float = 120.0,
        prompt_caching: bool = True,
    ) -> None:
        self._name = name
        self.model_id = model_id
        self._api_key = SecretStr(api_key or "")
        self._key_source = key_source
        self._url = base_url.rstrip("/") + "/v1/messages"
        self._timeout_s = timeout_s
        self._prompt_caching = prompt_caching

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"AnthropicModel(name={self._name!r}, url={self._url!r})"

    def build_body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model_id,
            "max_tokens": request.max_tokens,
            "messages": _messages(request),
        }
        if request.system:
            block: dict[str, Any] = {"type": "text", "text": request.system}
            if self._prompt_caching:
                block["cache_control"] = _EPHEMERAL
            body["system"] = [block]
        tools: list[dict[str, Any]] = [
            {"name": spec.name, "description": spec.description, "input_schema": dict(spec.parameters)}
            for spec in request.tools
        ]
        if request.output_schema is not None:
            # Tool-forced JSON: the answer is the input of a tool the model must call (tool_choice
            # `any`: some tool each turn, the answer tool when it is done).
            tools.append(
                {
                    "name": ANSWER_TOOL,
                    "description": ANSWER_TOOL_DESCRIPTION,
                    "input_schema": _answer_input_schema(request.output_schema),
                }
            )
            body["tool_choice"] = {"type": "any"}
        if tools:
            if self._prompt_caching:
                tools[-1]["cache_control"] = _EPHEMERAL
            body["tools"] = tools
        return body

    def complete(self, request: ModelRequest) -> ModelResponse:
        timeout_s = min(self._timeout_s, request.timeout_s or self._timeout_s)
        secret = self._api_key.get_secret_value()
        headers = {"anthropic-version": API_VERSION}
        if secret:
            headers["x-api-key"] = secret
        response = post_json(
            self._url, self.build_body(request), headers=headers, timeout_s=timeout_s, provider="anthropic"
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status >= 400:
            raise self._error(response.status, data, response.headers, secret)
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise ModelError(
                f"anthropic answered HTTP {response.status} with a body that is not a message", transient=True
            )
        return _response(data, structured=request.output_schema)

    def _error(self, status: int, data: Any, headers: Any, secret: str) -> ModelError:
        error = obj(obj(data).get("error"))
        details = obj(error.get("details"))
        out_of_credit = details.get("error_code") == "enforced_spend_limit_reached"
        exc = http_error(
            provider="anthropic",
            model_id=self.model_id,
            status=status,
            error_type=error.get("type") if isinstance(error.get("type"), str) else None,
            message=clean(error.get("message"), secret),
            key_source=self._key_source,
            retry_after_s=retry_after(headers),
            out_of_credit=out_of_credit,
        )
        logger.warning("anthropic error", extra={"status": status, "transient": exc.transient})
        return exc


def _messages(request: ModelRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for side, messages in turns(request.messages):
        content: list[dict[str, Any]] = []
        if side == "assistant":
            for message in messages:
                if message.content.strip():  # the API refuses a blank text block
                    content.append({"type": "text", "text": message.content})
                for call in message.tool_calls:
                    content.append(
                        {"type": "tool_use", "id": call.id, "name": call.name, "input": dict(call.arguments)}
                    )
        else:
            for message in ordered_user_parts(messages):
                if message.role == "tool":
                    block: dict[str, Any] = {
                        "type": "tool_result",
                        "tool_use_id": message.tool_call_id,
                        "content": tool_result_text(message),
                    }
                    if message.is_error:
                        block["is_error"] = True
                    content.append(block)
                elif message.content.strip():
                    content.append({"type": "text", "text": message.content})
        if content:
            out.append({"role": side, "content": content})
    return out


def _answer_input_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A tool's input is an object: a schema of another type is wrapped as `{"answer": ...}`."""
    if schema.get("type") == "object":
        return dict(schema)
    return {"type": "object", "properties": {_WRAPPED: dict(schema)}, "required": [_WRAPPED]}


def _response(data: dict[str, Any], *, structured: Mapping[str, Any] | None = None) -> ModelResponse:
    texts: list[str] = []
    calls: list[ToolCall] = []
    usage = obj(data.get("usage"))
    for block in data["content"]:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and block.get("text"):
            texts.append(str(block["text"]))
        elif block.get("type") == "tool_use" and structured is not None and block.get("name") == ANSWER_TOOL:
            answer = block.get("input")
            if structured.get("type") != "object" and isinstance(answer, dict):
                answer = answer.get(_WRAPPED)
            return ModelResponse(  # the structured final answer, as the run's text
                text=json.dumps(answer, ensure_ascii=False), stop_reason="end_turn", usage=_usage(usage)
            )
        elif block.get("type") == "tool_use":
            arguments = block.get("input")
            calls.append(
                ToolCall(
                    id=str(block.get("id")),
                    name=str(block.get("name")),
                    arguments=arguments if isinstance(arguments, dict) else {},
                )
            )
    return ModelResponse(
        text="\n".join(texts),
        tool_calls=tuple(calls),
        stop_reason=str(data.get("stop_reason") or ("tool_use" if calls else "end_turn")),
        usage=_usage(usage),
    )


def _usage(usage: Mapping[str, Any]) -> Usage:
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        cache_read_tokens=int(usage.get("cache_read_input_tokens") or 0),
        cache_write_tokens=int(usage.get("cache_creation_input_tokens") or 0),
    )
