"""A fake OpenAI Chat Completions API (`POST {base}/chat/completions`) on 127.0.0.1: OpenAI itself
or an OpenAI-compatible server (Ollama, vLLM) when started with no `api_key`.

It refuses what the real API refuses: 401 `invalid_api_key` for a wrong bearer token (echoing a
masked key, as OpenAI does), 400 for a `tool` message that does not answer a `tool_calls` id of the
assistant message before it, for an unanswered tool call, for malformed tools, and for `max_tokens`
when `reject_max_tokens` is set (as newer OpenAI models do); 404 `model_not_found`.

Prompt caching is simulated as OpenAI does it, automatically: a request whose prefix (tools and the
system message) of at least `min_cacheable_tokens` was seen before reports it in
`usage.prompt_tokens_details.cached_tokens`.

With no reply queued it answers as the offline agent would (`OfflineModel`), with `tool_calls`; with
`response_format` `json_schema` (checked as the API does), its answer is JSON for that schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fakes.server import FakeServer, RecordedRequest, Reply
from heartbeat.soul.providers.offline import OfflineModel
from heartbeat.soul.types import Message, ModelRequest, ModelResponse, ToolCall, ToolSpec

MODEL_ID = "gpt-4.1-mini"


def tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return max(1, len(text) // 4)


def completion_body(
    *,
    content: str | None,
    tool_calls: Iterable[tuple[str, str, str]] = (),
    finish_reason: str = "stop",
    model: str = MODEL_ID,
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    cached_tokens: int = 0,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    calls = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in tool_calls]
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    }


def text_reply(text: str, **usage: Any) -> Reply:
    return Reply(200, completion_body(content=text, **usage))


def tool_calls_reply(calls: Iterable[tuple[str, str, Mapping[str, Any] | str]], **usage: Any) -> Reply:
    wire = [(i, n, a if isinstance(a, str) else json.dumps(dict(a))) for i, n, a in calls]
    return Reply(200, completion_body(content=None, tool_calls=wire, finish_reason="tool_calls", **usage))


def error_reply(
    status: int,
    message: str,
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    return Reply(
        status,
        {"error": {"message": message, "type": error_type, "param": None, "code": code}},
        dict(headers or {}),
    )


class FakeOpenAI(FakeServer):
    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: Iterable[str] | None = None,
        base_path: str = "/v1",
        reject_max_tokens: bool = False,
        min_cacheable_tokens: int = 1024,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = set(models) if models is not None else None
        self.base_path = base_path.rstrip("/")
        self.reject_max_tokens = reject_max_tokens
        self.min_cacheable_tokens = min_cacheable_tokens
        self._cache: set[str] = set()
        self._offline = OfflineModel("offline/heartbeat")

    @property
    def base_url(self) -> str:
        return self.url + self.base_path

    def answer(self, request: RecordedRequest) -> Reply:
        problem = self.check(request)
        if problem is not None:
            with self._lock:
                self.requests.append(request)
            return problem
        return super().answer(request)

    def check(self, request: RecordedRequest) -> Reply | None:
        if request.path != f"{self.base_path}/chat/completions":
            return error_reply(404, f"Invalid URL (POST {request.path})")
        if self.api_key is not None:
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {self.api_key}":
                given = auth.removeprefix("Bearer ")
                masked = f"{given[:3]}{'*' * 10}{given[-4:]}" if len(given) > 8 else "***"
                return error_reply(
                    401,
                    f"Incorrect API key provided: {masked}. You can find your API key at the dashboard.",
                    code="invalid_api_key",
                )
        body = request.body
        if not isinstance(body, dict):
            return error_reply(400, "We could not parse the JSON body of your request.")
        if self.reject_max_tokens and "max_tokens" in body:
            return error_reply(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                code="unsupported_parameter",
            )
        problem = _body_problem(body) or _response_format_problem(body.get("response_format"))
        if problem:
            return error_reply(400, problem)
        if self.models is not None and body["model"] not in self.models:
            return error_reply(
                404,
                f"The model `{body['model']}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        return None

    def respond(self, request: RecordedRequest) -> Reply:
        body = request.body
        return Reply(200, self.completion(body, self._offline.complete(to_model_request(body))))

    def completion(self, body: Mapping[str, Any], response: ModelResponse) -> dict[str, Any]:
        prompt_tokens = tokens({k: body.get(k) for k in ("tools", "messages")})
        return completion_body(
            content=response.text or None,
            tool_calls=[(f"call_{c.id}", c.name, json.dumps(dict(c.arguments))) for c in response.tool_calls],
            finish_reason="tool_calls" if response.tool_calls else "stop",
            model=str(body.get("model")),
            prompt_tokens=prompt_tokens,
            completion_tokens=max(1, response.usage.output_tokens),
            cached_tokens=self.cached(body),
        )

    def cached(self, body: Mapping[str, Any]) -> int:
        messages = body.get("messages") or []
        prefix = [body.get("tools"), [m for m in messages[:1] if m.get("role") in ("system", "developer")]]
        size = tokens(prefix)
        if size < self.min_cacheable_tokens:
            return 0
        key = json.dumps(prefix, sort_keys=True)
        with self._lock:
            hit = key in self._cache
            self._cache.add(key)
        return size if hit else 0


def _response_format_problem(response_format: Any) -> str | None:
    """Structured output as the API checks it: `{"type": "json_schema", "json_schema": {"name", "schema"}}`."""
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind in ("text", "json_object"):
        return None
    if kind != "json_schema":
        return f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', and 'text'."
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        return "Missing required parameter: 'response_format.json_schema.name'."
    if not isinstance(spec.get("schema", {}), dict):
        return "Invalid type for 'response_format.json_schema.schema': expected an object."
    return None


def _body_problem(body: Mapping[str, Any]) -> str | None:
    if not isinstance(body.get("model"), str):
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "[] is too short - 'messages'"
    for index, tool in enumerate(body.get("tools") or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict) or not function.get("name"):
            return f"Missing required parameter: 'tools[{index}].function'."
    pending: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in pending:
                return (
                    f"Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    f"with 'tool_calls' (messages[{index}])."
                )
            pending.discard(message["tool_call_id"])
            if not isinstance(message.get("content"), str):
                return f"Invalid type for 'messages[{index}].content'."
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(sorted(pending))}"
            )
        if role not in ("system", "developer", "user", "assistant"):
            return f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'tool'."
        if message.get("content") is None and not message.get("tool_calls"):
            return "Invalid value for 'content': expected a string, got null."
        for call in message.get("tool_calls") or []:
            if role != "assistant":
                return f"messages[{index}]: only assistant messages may have tool_calls"
            if not isinstance(call.get("function", {}).get("arguments"), str):
                return f"Invalid type for 'messages[{index}].tool_calls[0].function.arguments': expected a string."
            pending.add(call["id"])
    if pending:
        return f"tool_call_ids did not have response messages: {', '.join(sorted(pending))}"
    return None


def to_model_request(body: Mapping[str, Any]) -> ModelRequest:
    """The server side of the provider's translation: a Chat Completions body as a ModelRequest."""
    system = ""
    messages: list[Message] = []
    for message in body["messages"]:
        role = message["role"]
        if role in ("system", "developer"):
            system = message.get("content") or ""
        elif role == "user":
            messages.append(Message(role="user", content=message.get("content") or ""))
        elif role == "assistant":
            calls = tuple(
                ToolCall(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"] or "{}"))
                for c in message.get("tool_calls") or []
            )
            messages.append(Message(role="assistant", content=message.get("content") or "", tool_calls=calls))
        else:
            content = message.get("content") or ""
            is_error = content.startswith("Error: ")
            messages.append(
                Message(
                    role="tool",
                    content=content.removeprefix("Error: "),
                    tool_call_id=message["tool_call_id"],
                    is_error=is_error,
                )
            )
    tools = tuple(
        ToolSpec(
            t["function"]["name"], t["function"].get("description", ""), t["function"].get("parameters") or {}
        )
        for t in body.get("tools") or []
    )
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 4096
    response_format = body.get("response_format") or {}
    structured = response_format.get("type") == "json_schema"
    schema = (response_format.get("json_schema") or {}).get("schema", {}) if structured else None
    return ModelRequest(
        system=system, messages=tuple(messages), tools=tools, max_tokens=max_tokens, output_schema=schema
    )
