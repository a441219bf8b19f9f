"""`bedrock/<model-id>`: Amazon Bedrock's Converse API through a boto3 `bedrock-runtime` client.

IAM auth (the executor's role needs `bedrock:InvokeModel` on the model or inference profile), so
there is no key to manage. The model id may be a foundation model id, an inference profile id
(`us.anthropic.claude-sonnet-4-5-20250929-v1:0`) or an ARN.

Tools go out in `toolConfig.tools[].toolSpec` (`inputSchema.json`); calls come back as `toolUse`
blocks and results go back as `toolResult` blocks (`status: error` on failures) in the next user
turn. Prompt caching: a `cachePoint` block after the system prompt and after the tools marks the
stable prefix, for models that support it (on by default for Anthropic Claude and Amazon Nova ids;
`prompt_caching` in the provider config overrides); `usage.cacheReadInputTokens` /
`cacheWriteInputTokens` come back into `Usage`. Errors: throttling, service unavailable, model
timeout, model not ready, internal errors and network timeouts are transient; access denied,
validation, resource not found and missing credentials are terminal.

The client should not retry by itself (`resolve_model` builds it with one attempt and a read
timeout): the agent loop retries with its own backoff inside the run's time.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from heartbeat.soul.providers._turns import tool_result_text, turns
from heartbeat.soul.types import ModelError, ModelRequest, ModelResponse, ToolCall, Usage

logger = logging.getLogger(__name__)

_CACHE_POINT = {"cachePoint": {"type": "default"}}
_CACHING_FAMILIES = ("anthropic.claude", "amazon.nova")
_STOP_REASONS = {"end_turn": "end_turn", "tool_use": "tool_use", "max_tokens": "max_tokens"}
_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelTimeoutException",
        "InternalServerException",
        "ModelNotReadyException",
        "ServiceQuotaExceededException",
    }
)
_TRANSIENT_TRANSPORT = frozenset(
    {"ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError", "ConnectionClosedError"}
)


def caching_supported(model_id: str) -> bool:
    return any(family in model_id for family in _CACHING_FAMILIES)


class BedrockModel:
    def __init__(self, name: str, model_id: str, *, client: Any, prompt_caching: bool | None = None) -> None:
        self._name = name
        self.model_id = model_id
        self._client = client
        self._prompt_caching = caching_supported(model_id) if prompt_caching is None else prompt_caching

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"BedrockModel(name={self._name!r})"

    def build_request(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "modelId": self.model_id,
            "messages": _messages(request),
            "inferenceConfig": {"maxTokens": request.max_tokens},
        }
        if request.system:
            params["system"] = [{"text": request.system}, *([_CACHE_POINT] if self._prompt_caching else [])]
        if request.tools:
            tools: list[dict[str, Any]] = [
                {
                    "toolSpec": {
                        "name": spec.name,
                        "description": spec.description,
                        "inputSchema": {"json": dict(spec.parameters)},
                    }
                }
                for spec in request.tools
            ]
            if self._prompt_caching:
                tools.append(_CACHE_POINT)
            params["toolConfig"] = {"tools": tools}
        return params

    def complete(self, request: ModelRequest) -> ModelResponse:
        try:
            data = self._client.converse(**self.build_request(request))
        except ClientError as exc:
            raise self._client_error(exc) from None
        except BotoCoreError as exc:
            raise self._botocore_error(exc) from None
        return _response(data)

    def _client_error(self, exc: ClientError) -> ModelError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        message = " ".join(str(error.get("Message") or "").split())[:300]
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        detail = f": {message}" if message else ""
        logger.warning("bedrock error", extra={"code": code, "status": status})
        if code in _TRANSIENT_CODES or (
            isinstance(status, int) and status >= 500 and code != "ModelErrorException"
        ):
            return ModelError(f"bedrock {code}{detail}", transient=True, status=status)
        if code == "AccessDeniedException":
            hint = (
                f"the executor's role may not invoke {self.model_id!r}, or the model is not enabled "
                "in this account and region"
            )
        elif code == "ResourceNotFoundException":
            hint = (
                f"Bedrock does not know model {self.model_id!r} in this region: check the task's model name"
            )
        elif code == "ValidationException":
            hint = "Bedrock rejected the request as invalid"
        else:
            hint = "Bedrock could not run the request"
        return ModelError(f"{hint} ({code}){detail}", transient=False, status=status)

    def _botocore_error(self, exc: BotoCoreError) -> ModelError:
        name = type(exc).__name__
        if name in _TRANSIENT_TRANSPORT:
            return ModelError(f"bedrock: no answer ({name})", transient=True)
        if name in {"NoCredentialsError", "PartialCredentialsError", "NoRegionError"}:
            return ModelError(
                f"bedrock: the executor has no AWS credentials or region for Bedrock ({name})",
                transient=False,
            )
        return ModelError(f"bedrock: the request failed ({name})", transient=False)


def _messages(request: ModelRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for side, messages in turns(request.messages):
        content: list[dict[str, Any]] = []
        for message in messages:
            if message.role == "tool":
                content.append(
                    {
                        "toolResult": {
                            "toolUseId": message.tool_call_id,
                            "content": [{"text": tool_result_text(message)}],
                            "status": "error" if message.is_error else "success",
                        }
                    }
                )
                continue
            if message.content.strip():  # Converse refuses a blank text field
                content.append({"text": message.content})
            for call in message.tool_calls:
                content.append(
                    {"toolUse": {"toolUseId": call.id, "name": call.name, "input": dict(call.arguments)}}
                )
        if content:
            out.append({"role": side, "content": content})
    return out


def _response(data: dict[str, Any]) -> ModelResponse:
    message = data.get("output", {}).get("message", {})
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message.get("content", []):
        if "text" in block and block["text"]:
            texts.append(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            arguments = use.get("input")
            calls.append(
                ToolCall(
                    id=str(use.get("toolUseId")),
                    name=str(use.get("name")),
                    arguments=arguments if isinstance(arguments, dict) else {},
                )
            )
    usage = data.get("usage", {})
    stop = str(data.get("stopReason") or ("tool_use" if calls else "end_turn"))
    return ModelResponse(
        text="\n".join(texts),
        tool_calls=tuple(calls),
        stop_reason=_STOP_REASONS.get(stop, stop),
        usage=Usage(
            input_tokens=int(usage.get("inputTokens") or 0),
            output_tokens=int(usage.get("outputTokens") or 0),
            cache_read_tokens=int(usage.get("cacheReadInputTokens") or 0),
            cache_write_tokens=int(usage.get("cacheWriteInputTokens") or 0),
        ),
    )
