"""Small helpers for the low-level DynamoDB client: (de)serialising items and cursors."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from heartbeat.errors import InvalidRequestError

# What a boto3 call raises when AWS answers with an error (ClientError) or cannot be reached or
# read in time after botocore's own retries (BotoCoreError: connection, timeout, credentials). The
# data-access layer turns both into the project's errors, so callers' rollbacks see every failure.
AWS_ERRORS = (ClientError, BotoCoreError)


@cache
def _codecs() -> tuple[Any, Any]:
    # boto3's (de)serialisers, imported on first use: importing boto3 is most of a cold start.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    serializer = _codecs()[0]
    return {k: serializer.serialize(_to_dynamo(v)) for k, v in item.items()}


def value(v: Any) -> Any:
    return _codecs()[0].serialize(_to_dynamo(v))


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _codecs()[1]
    return {k: deserializer.deserialize(v) for k, v in item.items()}


def deserialize_fast(item: dict[str, Any]) -> dict[str, Any]:
    """`deserialize`, with one narrow fast path: an attribute that is a map of integers (archival
    search's posting blocks, `{passage_id: tf}`, thousands per search) becomes `{key: int}`
    without TypeDeserializer's per-value dispatch (~6x faster on a 100-posting block, measured in
    docs/decisions/2026-12-02-memory-block-postings.md). Every other attribute, and a map holding
    anything but integers, goes through `deserialize` unchanged (numbers as `Decimal`)."""
    deserializer = _codecs()[1]
    out: dict[str, Any] = {}
    for name, attr in item.items():
        members = attr.get("M")
        if members is not None:
            try:
                out[name] = {key: int(member["N"]) for key, member in members.items()}
                continue
            except (KeyError, ValueError):
                pass  # not a map of integers
        out[name] = deserializer.deserialize(attr)
    return out


def error_code(exc: Exception) -> str:
    """AWS's error code, or the botocore error's name when AWS did not answer."""
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def cancellation_codes(exc: Exception) -> list[str]:
    """Per-item reasons of a cancelled transaction (`ConditionalCheckFailed`, `None` for an item
    that passed, ...); empty for any other error."""
    if error_code(exc) != "TransactionCanceledException":
        return []
    response = getattr(exc, "response", None) or {}
    return [str(r.get("Code", "None")) for r in response.get("CancellationReasons") or []]


def encode_cursor(last_key: dict[str, Any]) -> str:
    """An opaque cursor: the sort key of the last item only. The partition (the tenant) always
    comes from the caller's key, so a cursor can never reach another tenant's items."""
    sk = last_key["sk"]["S"]
    return base64.urlsafe_b64encode(json.dumps({"sk": sk}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, prefix: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        sk = json.loads(base64.urlsafe_b64decode(padded.encode()))["sk"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            "cursor is not valid: pass the next_cursor value from the previous page unchanged",
            param="cursor",
        ) from exc
    if not isinstance(sk, str) or not sk.startswith(prefix):
        raise InvalidRequestError(
            "cursor is not valid: pass the next_cursor value from the previous page unchanged",
            param="cursor",
        )
    return sk
