"""What runs keep in the artifacts bucket: outputs too large for a run record
(`outputs/{tenant}/{task}/{run}.txt`) and conversation transcripts
(`transcripts/{tenant}/{conversation}.json`, one per tenant and conversation_id)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.errors import DependencyError
from heartbeat.retry import Backoff
from heartbeat.soul.types import Message, ToolCall

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_INLINE_OUTPUT_BYTES = 64 * 1024  # larger outputs go to S3
PREVIEW_BYTES = 4 * 1024
TRANSCRIPT_VERSION = 1
_APPEND_ATTEMPTS = 5
_APPEND_RACES = Backoff(_APPEND_ATTEMPTS)  # another run appended first: read again, at once


def output_key(tenant_id: str, task_id: str, run_id: str) -> str:
    return f"outputs/{tenant_id}/{task_id}/{run_id}.txt"


def transcript_key(tenant_id: str, conversation_id: str) -> str:
    return f"transcripts/{tenant_id}/{conversation_id}.json"


def preview(text: str, limit_bytes: int = PREVIEW_BYTES) -> str:
    """The start of `text`, at most `limit_bytes` of UTF-8, never cutting a character."""
    return text.encode()[:limit_bytes].decode(errors="ignore")


class OutputStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def put(self, tenant_id: str, task_id: str, run_id: str, text: str) -> str:
        key = output_key(tenant_id, task_id, run_id)
        try:
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=text.encode(), ContentType="text/plain; charset=utf-8"
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"storing the run's output failed ({error_code(exc)})") from exc
        return key


def message_to_json(message: Message) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": dict(c.arguments)} for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        data["tool_call_id"] = message.tool_call_id
    if message.is_error:
        data["is_error"] = True
    return data


def message_from_json(data: dict[str, Any]) -> Message:
    return Message(
        role=data["role"],
        content=data.get("content", ""),
        tool_calls=tuple(
            ToolCall(id=c["id"], name=c["name"], arguments=c.get("arguments", {}))
            for c in data.get("tool_calls", ())
        ),
        tool_call_id=data.get("tool_call_id"),
        is_error=bool(data.get("is_error", False)),
    )


class TranscriptStore:
    """One JSON object per tenant and conversation: `{"version", "conversation_id", "messages"}`.
    Appends are conditional on the object's ETag (S3 conditional writes), so two runs appending
    to one conversation at once both keep their turns."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def load(self, tenant_id: str, conversation_id: str) -> list[Message]:
        return self._read(tenant_id, conversation_id)[0]

    def append(
        self, tenant_id: str, conversation_id: str, messages: Sequence[Message], *, updated_at: str
    ) -> None:
        key = transcript_key(tenant_id, conversation_id)
        for _ in _APPEND_RACES.attempts():
            current, etag = self._read(tenant_id, conversation_id)
            body = json.dumps(
                {
                    "version": TRANSCRIPT_VERSION,
                    "conversation_id": conversation_id,
                    "updated_at": updated_at,
                    "messages": [message_to_json(m) for m in (*current, *messages)],
                }
            ).encode()
            try:
                if etag:
                    self._client.put_object(
                        Bucket=self._bucket, Key=key, Body=body, ContentType="application/json", IfMatch=etag
                    )
                else:
                    self._client.put_object(
                        Bucket=self._bucket,
                        Key=key,
                        Body=body,
                        ContentType="application/json",
                        IfNoneMatch="*",
                    )
            except AWS_ERRORS as exc:
                if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                    continue  # another run appended first: read again and append after it
                raise DependencyError(
                    f"saving the conversation transcript failed ({error_code(exc)})"
                ) from exc
            return
        raise DependencyError(
            f"saving the conversation transcript failed: {_APPEND_ATTEMPTS} runs wrote it at the same time"
        )

    def _read(self, tenant_id: str, conversation_id: str) -> tuple[list[Message], str | None]:
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=transcript_key(tenant_id, conversation_id)
            )
        except AWS_ERRORS as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return [], None
            raise DependencyError(f"reading the conversation transcript failed ({error_code(exc)})") from exc
        try:
            data = json.loads(response["Body"].read())
            messages = [message_from_json(m) for m in data["messages"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise DependencyError(
                f"the transcript of conversation '{conversation_id}' is not valid JSON of Heartbeat's format: "
                "delete it to start the conversation afresh"
            ) from exc
        return messages, response["ETag"]
