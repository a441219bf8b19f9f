"""`openai/<model>` and OpenAI-compatible servers: Chat Completions (`POST {base_url}/chat/completions`).

The base URL is configurable, so any server that speaks Chat Completions works as a named provider
(`ollama/llama3.2` with `{"ollama": {"kind": "openai", "base_url": "http://127.0.0.1:11434/v1"}}`,
vLLM, LM Studio); with no key configured for such a server no `Authorization` header is sent.

The system prompt is the first (`system`) message; tools go out as `{"type": "function", "function":
{name, description, parameters}}`; calls come back in `message.tool_calls` with `arguments` as a JSON
string (arguments that do not parse reach the loop as `RAW_ARGUMENTS_KEY`, and the model is told);
results go back as `tool` messages (`tool_call_id`; failures start with "Error:", as Chat Completions
has no error flag). OpenAI caches long prompt prefixes by itself: `usage.prompt_tokens_details.
cached_tokens` becomes `cache_read_tokens` (and is taken out of `input_tokens`). Errors: 429 (except
`insufficient_quota`), 5xx and timeouts are transient, `retry-after-ms` / `retry-after` honoured;
400, 401, 403 and 404 are terminal. A request with an `output_schema` asks for structured output:
`response_format: {"type": "json_schema", "json_schema": {"name": "answer", "schema": ...}}`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import SecretStr

from heartbeat.soul.providers._http import clean, http_error, obj, post_json, retry_after
from heartbeat.soul.types import RAW_ARGUMENTS_KEY, ModelError, ModelRequest, ModelResponse, ToolCall, Usage

logger = logging.getLogger(__name__)

_STOP_REASONS = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
}
_OUT_OF_CREDIT = {"insufficient_quota", "billing_hard_limit_reached"}


class OpenAIModel:
    def __init__(
        self,
        name: str,
        model_id: str,
        *,
        api_key: str | None,
        key_source: str,
        base_url: str = "https://api.openai.com/v1",
        timeout_s: float = 120.0,
        max_tokens_param: str = "max_completion_tokens",
    ) -> None:
        self._name = name
        self.model_id = model_id
        self._api_key = SecretStr(api_key or "")
        self._key_source = key_source
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._provider = name.split("/", 1)[0]
        self._timeout_s = timeout_s
        self._max_tokens_param = max_tokens_param

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"OpenAIModel(name={self._name!r}, url={self._url!r})"

    def build_body(self, request: ModelRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        for message in request.messages:
            if message.role == "user":
                messages.append({"role": "user", "content": message.content})
            elif message.role == "assistant":
                # null content only beside tool calls: without them the API requires a string
                out: dict[str, Any] = {
                    "role": "assistant",
                    "content": message.content or (None if message.tool_calls else ""),
                }
                if message.tool_calls:
                    out["tool_calls"] = [
                        {
                            "id": call.id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": _arguments_text(call.arguments)},
                        }
                        for call in message.tool_calls
                    ]
                messages.append(out)
            else:
                content = message.content or "(no output)"
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": message.tool_call_id,
                        "content": f"Error: {content}" if message.is_error else content,
                    }
                )
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": messages,
            self._max_tokens_param: request.max_tokens,
        }
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": spec.name,
                        "description": spec.description,
                        "parameters": dict(spec.parameters),
                    },
                }
                for spec in request.tools
            ]
        if request.output_schema is not None:
            # Structured output: the final answer is JSON the API checks against the task's schema.
            # Not `strict` (that mode accepts only a subset of JSON Schema); the run validates it again.
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(request.output_schema), "strict": False},
            }
        return body

    def complete(self, request: ModelRequest) -> ModelResponse:
        timeout_s = min(self._timeout_s, request.timeout_s or self._timeout_s)
        secret = self._api_key.get_secret_value()
        headers = {"authorization": f"Bearer {secret}"} if secret else {}
        response = post_json(
            self._url, self.build_body(request), headers=headers, timeout_s=timeout_s, provider=self._provider
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status >= 400:
            raise self._error(response.status, data, response.headers, secret)
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ModelError(
                f"{self._provider} answered HTTP {response.status} with a body that is not a chat completion",
                transient=True,
            )
        assert isinstance(data, dict)
        return _response(choices[0], data.get("usage"))

    def _error(self, status: int, data: Any, headers: Any, secret: str) -> ModelError:
        raw = obj(data).get("error")
        # Some compatible servers answer {"error": "model 'x' not found"}.
        error = {"message": raw} if isinstance(raw, str) else obj(raw)
        code = error.get("code")
        exc = http_error(
            provider=self._provider,
            model_id=self.model_id,
            status=status,
            error_type=error.get("type") if isinstance(error.get("type"), str) else None,
            message=clean(error.get("message"), secret),
            key_source=self._key_source,
            retry_after_s=retry_after(headers),
            out_of_credit=code in _OUT_OF_CREDIT or error.get("type") in _OUT_OF_CREDIT,
        )
        logger.warning("openai-compatible error", extra={"status": status, "transient": exc.transient})
        return exc


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, dict) and set(arguments) == {RAW_ARGUMENTS_KEY}:
        return str(arguments[RAW_ARGUMENTS_KEY])
    return json.dumps(dict(arguments), ensure_ascii=False)


def _parse_arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    return {RAW_ARGUMENTS_KEY: str(raw)}


def _response(choice: dict[str, Any], usage: Any) -> ModelResponse:
    message = obj(choice.get("message"))
    calls = []
    for index, call in enumerate(message.get("tool_calls") or []):
        if not isinstance(call, dict):
            continue
        function = obj(call.get("function"))
        calls.append(
            ToolCall(
                id=str(call.get("id") or f"call_{index}"),
                name=str(function.get("name")),
                arguments=_parse_arguments(function.get("arguments")),
            )
        )
    finish = str(choice.get("finish_reason") or ("tool_calls" if calls else "stop"))
    usage = obj(usage)
    details = obj(usage.get("prompt_tokens_details"))
    prompt_tokens = int(usage.get("prompt_tokens") or 0)
    cached = min(int(details.get("cached_tokens") or 0), prompt_tokens)
    return ModelResponse(
        text=str(message.get("content") or ""),
        tool_calls=tuple(calls),
        stop_reason=_STOP_REASONS.get(finish, finish),
        usage=Usage(
            input_tokens=prompt_tokens - cached,
            output_tokens=int(usage.get("completion_tokens") or 0),
            cache_read_tokens=cached,
        ),
    )
