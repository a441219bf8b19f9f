"""Bedrock Converse, faked inside botocore (no sockets).

- `client()`: a real `bedrock-runtime` client with test credentials, for `botocore.stub.Stubber`.
- `converse_response(...)`, `text_response`, `tool_use_response`: real `Converse` response shapes
  (Stubber validates them against botocore's service model).
- `FakeBedrock(client)`: an adaptive fake. It hooks the client's events the way Stubber does, so
  botocore still validates every request against the service model; it records the request
  parameters, checks what the service would refuse (roles that do not alternate, a `toolUse`
  without its `toolResult`, tool blocks without `toolConfig`, more than four cache points) with a
  `ValidationException`, simulates cache points (write on first sight of a prefix of at least
  `min_cacheable_tokens`, read after), and answers as the offline agent would, unless replies
  (`converse_response` dicts or `error(code, message, status)`) are queued.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.validate import ParamValidator

from heartbeat.soul.providers.offline import OfflineModel
from heartbeat.soul.types import Message, ModelRequest, ToolCall, ToolSpec

MODEL_ID = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def client(region: str = "us-east-1") -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
    )


def converse_response(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 5,
    cache_read: int = 0,
    cache_write: int = 0,
) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
            "totalTokens": input_tokens + output_tokens + cache_read + cache_write,
            "cacheReadInputTokens": cache_read,
            "cacheWriteInputTokens": cache_write,
        },
        "metrics": {"latencyMs": 321},
    }


def text_response(text: str, **usage: Any) -> dict[str, Any]:
    return converse_response([{"text": text}], **usage)


def tool_use_response(
    calls: Iterable[tuple[str, str, Mapping[str, Any]]], text: str = "", **usage: Any
) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"text": text}] if text else []
    content += [{"toolUse": {"toolUseId": i, "name": n, "input": dict(a)}} for i, n, a in calls]
    return converse_response(content, stop_reason="tool_use", **usage)


@dataclass(frozen=True)
class Error:
    code: str
    message: str
    status: int = 400


def error(code: str, message: str = "", status: int = 400) -> Error:
    return Error(code, message, status)


def tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, sort_keys=True)) // 4)


class FakeBedrock:
    def __init__(self, bedrock_client: Any, *, min_cacheable_tokens: int = 1024) -> None:
        self.client = bedrock_client
        self.requests: list[dict[str, Any]] = []
        self.min_cacheable_tokens = min_cacheable_tokens
        self._queue: deque[dict[str, Any] | Error] = deque()
        self._cache: set[str] = set()
        self._lock = threading.Lock()
        self._offline = OfflineModel("offline/heartbeat")
        self._current: dict[str, Any] | None = None
        output_shape = bedrock_client.meta.service_model.operation_model("Converse").output_shape
        self._validate_output = lambda response: ParamValidator().validate(response, output_shape)
        events = bedrock_client.meta.events
        events.register_first(
            "before-parameter-build.bedrock-runtime.Converse", self._record, unique_id="fake-bedrock-record"
        )
        events.register("before-call.bedrock-runtime.Converse", self._answer, unique_id="fake-bedrock-answer")

    def enqueue(self, *replies: dict[str, Any] | Error) -> None:
        with self._lock:
            self._queue.extend(replies)

    def _record(self, params: dict[str, Any], **kwargs: Any) -> None:
        with self._lock:
            self.requests.append(json.loads(json.dumps(params)))

    def _answer(self, **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]]:
        with self._lock:
            params = self.requests[-1]
            queued = self._queue.popleft() if self._queue else None
        problem = _problem(params)
        if problem:
            return _error_response(Error("ValidationException", problem, 400))
        if isinstance(queued, Error):
            return _error_response(queued)
        response = queued if queued is not None else self._respond(params)
        report = self._validate_output(response)
        if report.has_errors():
            raise AssertionError(f"the fake's Converse response is not valid: {report.generate_report()}")
        return AWSResponse("", 200, HTTPHeaders(), None), {
            **response,
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def _respond(self, params: dict[str, Any]) -> dict[str, Any]:
        answer = self._offline.complete(to_model_request(params))
        content: list[dict[str, Any]] = [{"text": answer.text}] if answer.text else []
        content += [
            {"toolUse": {"toolUseId": f"tooluse_{c.id}", "name": c.name, "input": dict(c.arguments)}}
            for c in answer.tool_calls
        ]
        read, write, uncached = self._cache_usage(params)
        return converse_response(
            content,
            stop_reason=answer.stop_reason,
            input_tokens=uncached,
            output_tokens=max(1, answer.usage.output_tokens),
            cache_read=read,
            cache_write=write,
        )

    def _cache_usage(self, params: dict[str, Any]) -> tuple[int, int, int]:
        sequence: list[Any] = list(params.get("toolConfig", {}).get("tools", [])) + list(
            params.get("system", [])
        )
        total = tokens([sequence, params.get("messages")])
        last = max((i for i, item in enumerate(sequence) if "cachePoint" in item), default=None)
        if last is None:
            return 0, 0, total
        prefix = sequence[: last + 1]
        size = tokens(prefix)
        if size < self.min_cacheable_tokens:
            return 0, 0, total
        key = json.dumps(prefix, sort_keys=True)
        with self._lock:
            hit = key in self._cache
            self._cache.add(key)
        uncached = max(1, total - size)
        return (size, 0, uncached) if hit else (0, size, uncached)


def _error_response(err: Error) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {
        "Error": {"Code": err.code, "Message": err.message},
        "ResponseMetadata": {"HTTPStatusCode": err.status},
    }
    return AWSResponse("", err.status, HTTPHeaders(), None), parsed


def _problem(params: Mapping[str, Any]) -> str | None:
    messages = params.get("messages", [])
    if not messages or messages[0]["role"] != "user":
        return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
    uses_tools = False
    pending: set[str] = set()
    for index, message in enumerate(messages):
        if index and message["role"] == messages[index - 1]["role"]:
            return "A conversation must alternate between user and assistant roles."
        results = {b["toolResult"]["toolUseId"] for b in message["content"] if "toolResult" in b}
        if results != pending:
            return (
                "Expected toolResult blocks at messages."
                f"{index}.content for the following Ids: {', '.join(sorted(pending - results)) or 'none'}"
            )
        pending = {b["toolUse"]["toolUseId"] for b in message["content"] if "toolUse" in b}
        uses_tools = uses_tools or bool(results or pending)
        for block in message["content"]:
            if "text" in block and not block["text"].strip():
                return "The text field in the ContentBlock object is blank."
    if uses_tools and "toolConfig" not in params:
        return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    points = sum("cachePoint" in b for b in params.get("system", [])) + sum(
        "cachePoint" in t for t in params.get("toolConfig", {}).get("tools", [])
    )
    if points > 4:
        return "A maximum of 4 cache points may be provided."
    return None


def to_model_request(params: Mapping[str, Any]) -> ModelRequest:
    system = "\n".join(b["text"] for b in params.get("system", []) if "text" in b)
    messages: list[Message] = []
    for message in params["messages"]:
        if message["role"] == "assistant":
            text = "\n".join(b["text"] for b in message["content"] if "text" in b)
            calls = tuple(
                ToolCall(b["toolUse"]["toolUseId"], b["toolUse"]["name"], b["toolUse"].get("input") or {})
                for b in message["content"]
                if "toolUse" in b
            )
            messages.append(Message(role="assistant", content=text, tool_calls=calls))
            continue
        for block in message["content"]:
            if "toolResult" in block:
                result = block["toolResult"]
                messages.append(
                    Message(
                        role="tool",
                        content="\n".join(c.get("text", "") for c in result.get("content", [])),
                        tool_call_id=result["toolUseId"],
                        is_error=result.get("status") == "error",
                    )
                )
            elif "text" in block:
                messages.append(Message(role="user", content=block["text"]))
    tools = tuple(
        ToolSpec(
            t["toolSpec"]["name"], t["toolSpec"].get("description", ""), t["toolSpec"]["inputSchema"]["json"]
        )
        for t in params.get("toolConfig", {}).get("tools", [])
        if "toolSpec" in t
    )
    return ModelRequest(
        system=system,
        messages=tuple(messages),
        tools=tools,
        max_tokens=params.get("inferenceConfig", {}).get("maxTokens", 4096),
    )
