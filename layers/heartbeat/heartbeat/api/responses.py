"""The one place that turns exceptions into HTTP answers, all in one envelope:
`{"error": {"type": "...", "message": "...", "param": "..."}}`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response

from heartbeat import errors

_STATUS: dict[type[errors.HeartbeatError], tuple[int, str]] = {
    errors.InvalidRequestError: (400, "invalid_request_error"),
    errors.UnauthorizedError: (401, "authentication_error"),
    errors.ForbiddenError: (403, "permission_error"),
    errors.NotFoundError: (404, "not_found_error"),
    errors.ConflictError: (409, "conflict_error"),
    errors.IdempotencyKeyReusedError: (422, "idempotency_error"),
    errors.QuotaExceededError: (429, "quota_exceeded_error"),
    errors.DependencyError: (500, "api_error"),
}


def json_response(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def error_response(status: int, error_type: str, message: str, param: str | None = None) -> Response:
    return json_response(status, {"error": {"type": error_type, "message": message, "param": param}})


def from_error(exc: errors.HeartbeatError) -> Response:
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            status, error_type = _STATUS[cls]
            return error_response(status, error_type, exc.message, exc.param)
    return error_response(500, "api_error", exc.message, exc.param)


def internal_error() -> Response:
    return error_response(500, "api_error", "internal error: retry later; if it persists, report it")


def unsupported_content_type(content_type: str) -> Response:
    return error_response(
        415,
        "invalid_request_error",
        f"Content-Type '{content_type}' is not supported: send the body as JSON with "
        "Content-Type: application/json",
    )


def body_is_not_utf8(body: str | None, is_base64: bool) -> bool:
    import base64
    import binascii

    if not body or not is_base64:
        return False
    try:
        base64.b64decode(body).decode()
    except (binascii.Error, UnicodeDecodeError):
        return True
    return False


def from_validation_errors(details: Sequence[Any]) -> Response:
    """Powertools' RequestValidationError (422 by default) as our 400, naming the first problem."""
    if not details:
        return error_response(400, "invalid_request_error", "the request is not valid")
    first = details[0]
    loc = [str(part) for part in first.get("loc", ())]
    where = loc[0] if loc else "body"
    param = ".".join(loc[1:]) or None
    kind = first.get("type", "")
    ctx = first.get("ctx") or {}
    if kind == "json_invalid":
        message = (
            f"the request body is not valid JSON ({ctx.get('error', 'decode error')}): send a JSON object"
        )
        return error_response(400, "invalid_request_error", message, None)
    if param is None:
        if where == "body":
            return error_response(
                400, "invalid_request_error", "the request body must be a JSON object", None
            )
        return error_response(400, "invalid_request_error", first.get("msg", "invalid request"), None)
    return error_response(400, "invalid_request_error", _message(param, kind, ctx, first), param)


def _message(param: str, kind: str, ctx: dict[str, Any], detail: dict[str, Any]) -> str:
    if kind == "missing":
        return f"{param} is required"
    if kind == "value_error":  # a model's own validator: its message says what to fix
        return str(ctx.get("error") or detail.get("msg", f"{param} is not valid"))
    if kind == "extra_forbidden":
        return f"unknown field '{param}': remove it"
    if kind == "string_too_long":
        return f"{param} must be at most {ctx.get('max_length')} characters: shorten it"
    if kind == "string_too_short":
        return f"{param} must not be empty"
    if kind == "string_pattern_mismatch":
        if param == "model":
            return "model must be 'provider/model', for example 'anthropic/claude-sonnet-4-5'"
        return f"{param} has characters that are not allowed (expected pattern {ctx.get('pattern')})"
    if kind in ("string_type", "bool_type", "int_type", "int_parsing", "bool_parsing", "dict_type"):
        expected = {
            "string_type": "a string",
            "bool_type": "true or false",
            "bool_parsing": "true or false",
            "int_type": "an integer",
            "int_parsing": "an integer",
            "dict_type": "an object",
        }[kind]
        return f"{param} must be {expected}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {k: v for k, v in ctx.items() if k in ("ge", "le", "gt", "lt")}
        return f"{param} is out of range ({', '.join(f'{k} {v}' for k, v in bound.items())})"
    return f"{param}: {detail.get('msg', 'is not valid')}"
