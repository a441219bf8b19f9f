"""Request-body parsing for the api resolver: every byte sequence a client can send either parses
to JSON the routes can store exactly, or fails as "not valid JSON" with a message saying what is
wrong (so the one validation map answers a 400, never a 5xx)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

# Deeper than any request model nests (a schedule object, an output_schema): refused before
# pydantic or DynamoDB would recurse through it.
MAX_DEPTH = 64


def _fail(message: str, doc: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(message, doc, 0)


def parse_json_body(text: str) -> Any:
    """`json.loads`, but what json.loads raises besides JSONDecodeError (RecursionError for deep
    nesting, ValueError for an integer over Python's digit limit) and what DynamoDB would refuse
    later (a lone UTF-16 surrogate) are JSONDecodeErrors naming the problem."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _fail(f"it nests deeper than {MAX_DEPTH} levels", text) from None
    except ValueError:  # int_max_str_digits: "Exceeds the limit (4300 digits) for integer string..."
        raise _fail("a number has more than 4300 digits", text) from None
    _check(parsed, text)
    return parsed


def _check(value: Any, doc: str) -> None:
    """Walk iteratively (no recursion to exhaust): depth and strings that are not valid Unicode."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, doc)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _fail(f"it nests deeper than {MAX_DEPTH} levels", doc)
            children = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in children:
                if isinstance(key, str):
                    _check_text(key, doc)
                stack.append((child, depth + 1))


def _check_text(text: str, doc: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise _fail(
            f"a string holds a lone UTF-16 surrogate (\\u{ord(bad):04x}), which is not Unicode text: "
            "send each surrogate with its pair, or the character itself",
            doc,
        ) from None


def utf8_problem(event: dict[str, Any]) -> str | None:
    """Why the event's body is not UTF-8 text, or None. API Gateway base64-encodes a body it does
    not take for text; a JSON body must decode to UTF-8 before it can be parsed."""
    body = event.get("body")
    if not body or not event.get("isBase64Encoded"):
        return None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").strip()
    if content_type and not content_type.startswith("application/json"):
        return None  # not taken for JSON: the content-type check answers it
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return "the request body is not valid base64"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (
            f"the request body is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}): "
            "send JSON encoded as UTF-8"
        )
    event["body"], event["isBase64Encoded"] = text, False
    return None
