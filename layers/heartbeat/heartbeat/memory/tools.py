"""The Soul's memory tools, built for one tenant (and the run that uses them).

`memory_tools(store, run_id=..., task_id=...)` returns the four tools; their arguments can name a
block or a passage but never a tenant, because the store they close over is bound to one. Bad
arguments and limits raise `ToolError` with a message the model can act on; storage failures
(`DependencyError`) propagate and fail the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from heartbeat.errors import ConflictError, InvalidRequestError, NotFoundError
from heartbeat.memory.limits import (
    DEFAULT_SEARCH_LIMIT,
    MAX_PASSAGE_BYTES,
    MAX_QUERY_BYTES,
    MAX_SEARCH_LIMIT,
    MAX_TAGS,
)
from heartbeat.memory.records import CoreBlock
from heartbeat.memory.store import MemoryStore
from heartbeat.soul.types import Tool, ToolError, ToolSpec

_LABEL = {
    "type": "string",
    "pattern": "^[a-z0-9_-]{1,64}$",
    "description": "The label of an existing core memory block, as shown in <memory_block label=...>.",
}
_TAGS = {
    "type": "array",
    "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.:/-]{0,63}$"},
    "maxItems": MAX_TAGS,
}


@dataclass(frozen=True)
class MemoryTool:
    spec: ToolSpec
    run: Callable[[Mapping[str, Any]], str]

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        if not isinstance(arguments, Mapping):
            raise ToolError(f"{self.spec.name} takes an object of named arguments")
        allowed = set(self.spec.parameters.get("properties", {}))
        unknown = sorted(set(arguments) - allowed)
        if unknown:
            raise ToolError(
                f"{self.spec.name} does not take {', '.join(unknown)}; its arguments are {', '.join(sorted(allowed))}"
            )
        try:
            return self.run(arguments)
        except (InvalidRequestError, NotFoundError, ConflictError) as exc:
            raise ToolError(exc.message) from exc


def _text(arguments: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = arguments.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ToolError(f"argument '{name}' is required and must be a string")
    return value


def _tags(arguments: Mapping[str, Any]) -> list[str] | None:
    value = arguments.get("tags")
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ToolError("argument 'tags' must be a list of strings")
    return value


def _limit(arguments: Mapping[str, Any]) -> int | None:
    value = arguments.get("limit")
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ToolError(f"argument 'limit' must be a whole number from 1 to {MAX_SEARCH_LIMIT}")


def _block_status(block: CoreBlock) -> str:
    return f"now {len(block.value)} of {block.limit} characters"


def memory_tools(store: MemoryStore, *, run_id: str | None = None, task_id: str | None = None) -> list[Tool]:
    """The four memory tools for `store`'s tenant; passages they insert record `run_id`/`task_id`."""

    def core_append(arguments: Mapping[str, Any]) -> str:
        label = _text(arguments, "label")
        block = store.append_block(label, _text(arguments, "content"))
        return f"Appended to core memory block '{label}' ({_block_status(block)})."

    def core_replace(arguments: Mapping[str, Any]) -> str:
        label = _text(arguments, "label")
        block = store.replace_in_block(
            label, _text(arguments, "old_content"), _text(arguments, "new_content")
        )
        return f"Replaced text in core memory block '{label}' ({_block_status(block)})."

    def archival_insert(arguments: Mapping[str, Any]) -> str:
        passage = store.insert_passage(
            _text(arguments, "content"), _tags(arguments), run_id=run_id, task_id=task_id
        )
        tags = f" with tags {', '.join(passage.tags)}" if passage.tags else ""
        return f"Stored archival passage {passage.id}{tags}."

    def archival_search(arguments: Mapping[str, Any]) -> str:
        query = _text(arguments, "query")
        if not query.strip():
            raise ToolError("argument 'query' must contain words to search for")
        found = store.search_result(query, limit=_limit(arguments), tags=_tags(arguments))
        results = [
            {
                "id": p.id,
                "text": p.text,
                "tags": list(p.tags),
                "created_at": p.created_at,
                "score": round(p.score or 0.0, 4),
            }
            for p in found.passages
        ]
        answer = {"query": query, "results": results, "exhaustive": found.exhaustive}
        return json.dumps(answer, ensure_ascii=False)

    return [
        MemoryTool(
            ToolSpec(
                name="core_memory_append",
                description=(
                    "Append text to a core memory block (always visible in your prompt). Use it for "
                    "short, lasting facts. Fails if the block would exceed its character limit."
                ),
                parameters={
                    "type": "object",
                    "properties": {
                        "label": _LABEL,
                        "content": {"type": "string", "minLength": 1, "description": "Text to add."},
                    },
                    "required": ["label", "content"],
                    "additionalProperties": False,
                },
            ),
            core_append,
        ),
        MemoryTool(
            ToolSpec(
                name="core_memory_replace",
                description=(
                    "Replace exact text in a core memory block with new text (empty new text deletes "
                    "it). old_content must match the block's text exactly."
                ),
                parameters={
                    "type": "object",
                    "properties": {
                        "label": _LABEL,
                        "old_content": {
                            "type": "string",
                            "minLength": 1,
                            "description": "Exact text to replace.",
                        },
                        "new_content": {"type": "string", "description": "Replacement text."},
                    },
                    "required": ["label", "old_content", "new_content"],
                    "additionalProperties": False,
                },
            ),
            core_replace,
        ),
        MemoryTool(
            ToolSpec(
                name="archival_memory_insert",
                description=(
                    "Store a passage in long-term archival memory, shared by all of this tenant's "
                    "tasks, to find later with archival_memory_search. Write it to be understood "
                    f"on its own. At most {MAX_PASSAGE_BYTES} bytes and {MAX_TAGS} tags."
                ),
                parameters={
                    "type": "object",
                    "properties": {
                        "content": {"type": "string", "minLength": 1, "description": "The passage text."},
                        "tags": {**_TAGS, "description": "Optional short lower-case tags."},
                    },
                    "required": ["content"],
                    "additionalProperties": False,
                },
            ),
            archival_insert,
        ),
        MemoryTool(
            ToolSpec(
                name="archival_memory_search",
                description=(
                    "Search long-term archival memory by keywords; returns the best-matching "
                    "passages (JSON), best first."
                ),
                parameters={
                    "type": "object",
                    "properties": {
                        "query": {
                            "type": "string",
                            "minLength": 1,
                            "description": f"Keywords to search for (at most {MAX_QUERY_BYTES} bytes).",
                        },
                        "limit": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_SEARCH_LIMIT,
                            "description": f"How many passages to return (default {DEFAULT_SEARCH_LIMIT}).",
                        },
                        "tags": {**_TAGS, "description": "Only passages carrying all of these tags."},
                    },
                    "required": ["query"],
                    "additionalProperties": False,
                },
            ),
            archival_search,
        ),
    ]
