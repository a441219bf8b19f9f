"""A fake Anthropic Messages API (`POST /v1/messages`) on 127.0.0.1.

It checks what the real API checks that a client could get wrong, and answers the way it would:
401 `authentication_error` for a wrong `x-api-key`, 400 `invalid_request_error` for a missing
`anthropic-version`, roles that do not alternate, empty text blocks, a `tool_use` without its
`tool_result` in the next user turn (or a `tool_result` without its `tool_use`), malformed tools,
more than four `cache_control` blocks; 404 `not_found_error` for a model not in `models`.

Prompt caching is simulated: the prefix up to the last `cache_control` block (tools, then system) is
counted (4 characters a token); the first request with a prefix of at least `min_cacheable_tokens`
writes it (`cache_creation_input_tokens`), later identical prefixes read it
(`cache_read_input_tokens`).

With no reply queued it answers as the offline agent would (`OfflineModel`), so a run through this
fake calls tools and answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fakes.server import FakeServer, RecordedRequest, Reply
from heartbeat.soul.providers.offline import OfflineModel
from heartbeat.soul.structured import ANSWER_TOOL
from heartbeat.soul.types import Message, ModelRequest, ModelResponse, ToolCall, ToolSpec

MODEL_ID = "claude-sonnet-4-5"


def tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return max(1, len(text) // 4)


def message_body(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    model: str = MODEL_ID,
    input_tokens: int = 10,
    output_tokens: int = 5,
    cache_read: int = 0,
    cache_write: int = 0,
) -> dict[str, Any]:
    return {
        "id": "msg_01FakeFakeFakeFakeFake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
        },
    }


def text_reply(text: str, **usage: Any) -> Reply:
    return Reply(200, message_body([{"type": "text", "text": text}], **usage))


def tool_use_reply(
    calls: Iterable[tuple[str, str, Mapping[str, Any]]], text: str = "", **usage: Any
) -> Reply:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    content += [{"type": "tool_use", "id": i, "name": n, "input": dict(a)} for i, n, a in calls]
    return Reply(200, message_body(content, stop_reason="tool_use", **usage))


def error_reply(
    status: int,
    error_type: str,
    message: str,
    *,
    retry_after: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Reply:
    error: dict[str, Any] = {"type": error_type, "message": message}
    if details:
        error["details"] = dict(details)
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Reply(status, {"type": "error", "error": error, "request_id": "req_fake"}, headers)


class FakeAnthropic(FakeServer):
    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: Iterable[str] | None = None,
        min_cacheable_tokens: int = 1024,
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = set(models) if models is not None else None
        self.min_cacheable_tokens = min_cacheable_tokens
        self._cache: set[str] = set()
        self._offline = OfflineModel("offline/heartbeat")

    def answer(self, request: RecordedRequest) -> Reply:
        problem = self.check(request)
        if problem is not None:
            with self._lock:
                self.requests.append(request)
            return problem
        return super().answer(request)

    # -- what the real API refuses ---------------------------------------------------------------
    def check(self, request: RecordedRequest) -> Reply | None:
        if request.path != "/v1/messages":
            return error_reply(404, "not_found_error", f"Not found: {request.path}")
        if self.api_key is not None and request.headers.get("x-api-key") != self.api_key:
            return error_reply(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return error_reply(400, "invalid_request_error", "anthropic-version: header is required")
        body = request.body
        if not isinstance(body, dict):
            return error_reply(400, "invalid_request_error", "The request body is not valid JSON.")
        problem = _body_problem(body)
        if problem:
            return error_reply(400, "invalid_request_error", problem)
        if self.models is not None and body["model"] not in self.models:
            return error_reply(404, "not_found_error", f"model: {body['model']}")
        return None

    # -- the default answer: the offline agent, with simulated caching ---------------------------
    def respond(self, request: RecordedRequest) -> Reply:
        body = request.body
        response = self._offline.complete(to_model_request(body))
        return Reply(200, self.message(body, forced_tool(body, response)))

    def message(self, body: Mapping[str, Any], response: ModelResponse) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"type": "text", "text": response.text}] if response.text else []
        content += [
            {"type": "tool_use", "id": f"toolu_{c.id}", "name": c.name, "input": dict(c.arguments)}
            for c in response.tool_calls
        ]
        read, write, uncached = self.cache_usage(body)
        return message_body(
            content,
            stop_reason=response.stop_reason,
            model=str(body.get("model")),
            input_tokens=uncached,
            output_tokens=max(1, response.usage.output_tokens),
            cache_read=read,
            cache_write=write,
        )

    def cache_usage(self, body: Mapping[str, Any]) -> tuple[int, int, int]:
        """(cache_read, cache_write, uncached input tokens) for a request, updating the cache."""
        total = tokens({k: body.get(k) for k in ("tools", "system", "messages")})
        prefix = _cached_prefix(body)
        if prefix is None:
            return 0, 0, total
        size = tokens(prefix)
        if size < self.min_cacheable_tokens:
            return 0, 0, total
        key = json.dumps(prefix, sort_keys=True)
        with self._lock:
            hit = key in self._cache
            self._cache.add(key)
        uncached = max(1, total - size)
        return (size, 0, uncached) if hit else (0, size, uncached)


def _cached_prefix(body: Mapping[str, Any]) -> list[Any] | None:
    """Tools, then system, then messages, up to and including the last cache_control block."""
    sequence: list[Any] = list(body.get("tools") or [])
    system = body.get("system")
    sequence += system if isinstance(system, list) else ([system] if system else [])
    for message in body.get("messages") or []:
        content = message.get("content")
        sequence += content if isinstance(content, list) else [content]
    last = None
    for index, item in enumerate(sequence):
        if isinstance(item, dict) and "cache_control" in item:
            last = index
    return None if last is None else sequence[: last + 1]


def _body_problem(body: Mapping[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if choice is not None:
        if not body.get("tools"):
            return "tool_choice may only be specified while providing tools."
        if choice.get("type") not in ("auto", "any", "tool", "none"):
            return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    cache_controls = 0
    system = body.get("system")
    if system is not None:
        if isinstance(system, list):
            for block in system:
                if block.get("type") != "text" or not block.get("text"):
                    return "system: text content blocks must be non-empty"
                cache_controls += "cache_control" in block
        elif not isinstance(system, str):
            return "system: Input should be a valid string or list"
    for index, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool.get("name"), str) or not isinstance(tool.get("input_schema"), dict):
            return f"tools.{index}: name and input_schema are required"
        if tool["input_schema"].get("type") != "object":
            return f"tools.{index}.input_schema.type: Input should be 'object'"
        cache_controls += "cache_control" in tool
    pending: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role")
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            return f"messages: roles must alternate between 'user' and 'assistant', starting with 'user' (messages.{index})"
        content = message.get("content")
        blocks: list[dict[str, Any]] = (
            [{"type": "text", "text": content}] if isinstance(content, str) else content
        )
        if not isinstance(blocks, list) or not blocks:
            return f"messages.{index}: all messages must have non-empty content"
        results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if pending and results != pending:
            return (
                f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                + ", ".join(sorted(pending - results))
            )
        if results and not pending:
            return f"messages.{index}: unexpected `tool_use_id` found in `tool_result` blocks"
        pending = set()
        for block in blocks:
            kind = block.get("type")
            cache_controls += "cache_control" in block
            if kind == "text" and not block.get("text"):
                return f"messages.{index}: text content blocks must be non-empty"
            if kind == "text" and not str(block["text"]).strip():
                return f"messages.{index}: text content blocks must contain non-whitespace text"
            if kind == "tool_use":
                if role != "assistant":
                    return f"messages.{index}: tool_use blocks are only allowed in assistant messages"
                if not isinstance(block.get("input"), dict):
                    return f"messages.{index}: tool_use.input must be an object"
                pending.add(str(block.get("id")))
            if kind == "tool_result" and role != "user":
                return f"messages.{index}: tool_result blocks are only allowed in user messages"
    if cache_controls > 4:
        return f"A maximum of 4 blocks with cache_control may be provided. Found {cache_controls}."
    return None


def to_model_request(body: Mapping[str, Any]) -> ModelRequest:
    """The server side of the provider's translation: a Messages API body as a ModelRequest."""
    system = body.get("system")
    if isinstance(system, list):
        system = "\n".join(b.get("text", "") for b in system)
    messages: list[Message] = []
    for message in body.get("messages") or []:
        content = message["content"]
        blocks: list[dict[str, Any]] = (
            [{"type": "text", "text": content}] if isinstance(content, str) else content
        )
        if message["role"] == "assistant":
            text = "\n".join(b["text"] for b in blocks if b.get("type") == "text")
            calls = tuple(
                ToolCall(str(b["id"]), str(b["name"]), dict(b.get("input") or {}))
                for b in blocks
                if b.get("type") == "tool_use"
            )
            messages.append(Message(role="assistant", content=text, tool_calls=calls))
            continue
        for block in blocks:
            if block.get("type") == "tool_result":
                content = block.get("content")
                if isinstance(content, list):
                    content = "\n".join(c.get("text", "") for c in content)
                messages.append(
                    Message(
                        role="tool",
                        content=str(content or ""),
                        tool_call_id=block["tool_use_id"],
                        is_error=bool(block.get("is_error")),
                    )
                )
            elif block.get("type") == "text":
                messages.append(Message(role="user", content=block["text"]))
    tools = tuple(
        ToolSpec(t["name"], t.get("description", ""), t.get("input_schema") or {})
        for t in body.get("tools") or []
        if t["name"] != ANSWER_TOOL
    )
    # The model reads the answer tool's schema as the shape its answer must take.
    answer_tool = next((t for t in body.get("tools") or [] if t["name"] == ANSWER_TOOL), None)
    return ModelRequest(
        system=system or "",
        messages=tuple(messages),
        tools=tools,
        max_tokens=body["max_tokens"],
        output_schema=answer_tool.get("input_schema") if answer_tool else None,
    )


def forced_tool(body: Mapping[str, Any], response: ModelResponse) -> ModelResponse:
    """`tool_choice` `any` or `tool`: the API makes the model call a tool. The offline agent's
    final answer (JSON for the answer tool's schema) becomes that call."""
    choice = body.get("tool_choice") or {}
    if choice.get("type") not in ("any", "tool") or response.tool_calls:
        return response
    names = [t["name"] for t in body.get("tools") or []]
    name = choice.get("name") or (ANSWER_TOOL if ANSWER_TOOL in names else names[0])
    try:
        arguments = json.loads(response.text)
    except ValueError:
        arguments = {"text": response.text}
    call = ToolCall(id="forced-1", name=name, arguments=arguments if isinstance(arguments, dict) else {})
    return ModelResponse(text="", tool_calls=(call,), stop_reason="tool_use", usage=response.usage)
