"""Structured answers: a task's `output_schema` (a JSON Schema) and the final answer that must match it.

`check_answer` parses the model's final answer as JSON (a single surrounding Markdown code fence
is tolerated: models add one) and validates it with `jsonschema`, which is imported here only, by
runs whose task has a schema. A mismatch raises `AnswerSchemaError` with the validator's message:
the run fails and counts once towards backoff (the next run may answer better), it never disables
the task at once.

`minimal_instance` is the smallest value a schema accepts in the common cases (the offline model's
answer when the prompt gives none); `ANSWER_TOOL` is the tool name providers force for a structured
answer when they have no native JSON mode for it (Anthropic).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from heartbeat.soul.types import ModelError

ANSWER_TOOL = "final_answer"
"""The tool Anthropic is made to call for a structured answer; its input is the answer."""
ANSWER_TOOL_DESCRIPTION = (
    "Give the task's final answer. Call this exactly once, when you are done, with the answer as its input."
)
_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n(?P<body>.*)\n```$", re.S)


class AnswerSchemaError(ModelError):
    """The final answer is not JSON, or does not match the task's `output_schema`."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


def check_answer(text: str, schema: Mapping[str, Any]) -> str:
    """The answer as compact JSON text, once it parses and matches `schema`."""
    from jsonschema.validators import validator_for

    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced is not None:
        body = fenced.group("body").strip()
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise AnswerSchemaError(
            f"the final answer is not JSON ({exc}), but the task's output_schema asks for JSON: "
            "make the prompt ask for a JSON answer"
        ) from None
    validator = validator_for(schema)(schema)
    error = _best_error(validator, value)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the top level"
        raise AnswerSchemaError(
            f"the final answer does not match the task's output_schema (at {where}): {error.message}"
        )
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _best_error(validator: Any, value: Any) -> Any:
    from jsonschema.exceptions import best_match

    return best_match(validator.iter_errors(value))


def minimal_instance(schema: Mapping[str, Any]) -> Any:  # noqa: PLR0911 - one case per JSON type
    """A small value matching `schema` for the usual keywords (type, properties, required, items,
    enum, const, minimum, minLength, minItems); the first branch of an anyOf/oneOf/allOf."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return minimal_instance(schema[key][0])
    kind = schema.get("type", "object" if "properties" in schema else None)
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: minimal_instance(properties.get(name, {})) for name in schema.get("required", [])}
    if kind == "array":
        items = schema.get("items", {})
        return [
            minimal_instance(items if isinstance(items, Mapping) else {})
            for _ in range(schema.get("minItems", 0))
        ]
    if kind == "string":
        return "x" * int(schema.get("minLength", 0))
    if kind in ("integer", "number"):
        low = schema.get(
            "minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0)
        )
        return max(low, 0) if "maximum" not in schema else min(max(low, 0), schema["maximum"])
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}
