"""The Soul's memory tools, built for one tenant (and the run that uses them).

`memory_tools(store, run_id=..., task_id=...)` returns the four tools; their arguments can name a
block or a passage but never a tenant, because the store they close over is bound to one. Each
tool's arguments are a pydantic model: its JSON Schema is what providers are given, and it checks
a call's shape (names, types, required arguments). What memory itself limits (label and tag
syntax, sizes, counts) is checked by `heartbeat.memory`, whose patterns the schemas quote. Bad
arguments and limits raise `ToolError` with a message the model can act on; storage failures
(`DependencyError`) propagate and fail the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heartbeat.errors import ConflictError, InvalidRequestError, NotFoundError
from heartbeat.memory.limits import (
    DEFAULT_SEARCH_LIMIT,
    LABEL_PATTERN,
    MAX_PASSAGE_BYTES,
    MAX_QUERY_BYTES,
    MAX_SEARCH_LIMIT,
    MAX_TAGS,
    TAG_PATTERN,
)
from heartbeat.memory.records import CoreBlock
from heartbeat.memory.store import MemoryStore
from heartbeat.soul.types import Tool, ToolError, ToolSpec

_LABEL = Field(
    description="The label of an existing core memory block, as shown in <memory_block label=...>.",
    json_schema_extra={"pattern": f"^{LABEL_PATTERN.pattern}$"},
)
_TAGS_SCHEMA: dict[str, Any] = {
    "items": {"type": "string", "pattern": f"^{TAG_PATTERN.pattern}$"},
    "maxItems": MAX_TAGS,
}


class Arguments(BaseModel):
    """A tool's arguments. `invalid` names, per argument, what to say when its value is refused."""

    model_config = ConfigDict(extra="forbid")
    invalid: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def schema_for_model(cls) -> dict[str, Any]:
        """The JSON Schema a provider gets: pydantic's, without titles, optional fields as their type."""
        return _plain(cls.model_json_schema())


class _Tagged(Arguments):
    @field_validator("tags", mode="before", check_fields=False)
    @classmethod
    def _one_tag(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value  # a model's lone tag, as a list


class CoreMemoryAppend(Arguments):
    label: str = _LABEL
    content: str = Field(min_length=1, description="Text to add.")


class CoreMemoryReplace(Arguments):
    label: str = _LABEL
    old_content: str = Field(min_length=1, description="Exact text to replace.")
    new_content: str = Field(description="Replacement text.")


class ArchivalMemoryInsert(_Tagged):
    content: str = Field(min_length=1, description="The passage text.")
    tags: list[str] | None = Field(
        default=None, description="Optional short lower-case tags.", json_schema_extra=_TAGS_SCHEMA
    )
    invalid: ClassVar[Mapping[str, str]] = {"tags": "argument 'tags' must be a list of strings"}


class ArchivalMemorySearch(_Tagged):
    query: str = Field(min_length=1, description=f"Keywords to search for (at most {MAX_QUERY_BYTES} bytes).")
    limit: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SEARCH_LIMIT,
        description=f"How many passages to return (default {DEFAULT_SEARCH_LIMIT}).",
    )
    tags: list[str] | None = Field(
        default=None, description="Only passages carrying all of these tags.", json_schema_extra=_TAGS_SCHEMA
    )
    invalid: ClassVar[Mapping[str, str]] = {
        "limit": f"argument 'limit' must be a whole number from 1 to {MAX_SEARCH_LIMIT}",
        "tags": "argument 'tags' must be a list of strings",
    }


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for name, field in schema.get("properties", {}).items():
        field = {k: v for k, v in field.items() if k not in ("title", "default")}
        options = field.pop("anyOf", None)
        if options:  # `X | None` with a default: the provider sees X, and may leave it out
            field = {**next(o for o in options if o.get("type") != "null"), **field}
        properties[name] = field
    return {
        "type": "object",
        "properties": properties,
        "required": schema.get("required", []),
        "additionalProperties": False,
    }


def _refusal(name: str, model: type[Arguments], exc: ValidationError) -> str:
    """One message naming every problem of a call, in the words of the old hand-written checks."""
    errors = exc.errors()
    unknown = [str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        allowed = ", ".join(sorted(model.model_fields))
        return f"{name} does not take {', '.join(sorted(unknown))}; its arguments are {allowed}"
    first = errors[0]
    argument = str(first["loc"][0]) if first["loc"] else ""
    if argument in model.invalid:
        return model.invalid[argument]
    if first["type"] == "string_too_short":
        return f"argument '{argument}' must not be empty"
    if first["type"] in ("missing", "string_type"):
        return f"argument '{argument}' is required and must be a string"
    return f"argument '{argument}': {first['msg']}"


@dataclass(frozen=True)
class MemoryTool:
    spec: ToolSpec
    arguments: type[Arguments]
    run: Callable[[Any], str]

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        if not isinstance(arguments, Mapping):
            raise ToolError(f"{self.spec.name} takes an object of named arguments")
        try:
            parsed = self.arguments.model_validate(dict(arguments))
        except ValidationError as exc:
            raise ToolError(_refusal(self.spec.name, self.arguments, exc)) from None
        try:
            return self.run(parsed)
        except (InvalidRequestError, NotFoundError, ConflictError) as exc:
            raise ToolError(exc.message) from exc


def _block_status(block: CoreBlock) -> str:
    return f"now {len(block.value)} of {block.limit} characters"


def _tool(name: str, description: str, arguments: type[Arguments], run: Callable[[Any], str]) -> MemoryTool:
    return MemoryTool(ToolSpec(name, description, arguments.schema_for_model()), arguments, run)


def memory_tools(store: MemoryStore, *, run_id: str | None = None, task_id: str | None = None) -> list[Tool]:
    """The four memory tools for `store`'s tenant; passages they insert record `run_id`/`task_id`."""

    def core_append(args: CoreMemoryAppend) -> str:
        block = store.append_block(args.label, args.content)
        return f"Appended to core memory block '{args.label}' ({_block_status(block)})."

    def core_replace(args: CoreMemoryReplace) -> str:
        block = store.replace_in_block(args.label, args.old_content, args.new_content)
        return f"Replaced text in core memory block '{args.label}' ({_block_status(block)})."

    def archival_insert(args: ArchivalMemoryInsert) -> str:
        passage = store.insert_passage(args.content, args.tags, run_id=run_id, task_id=task_id)
        tags = f" with tags {', '.join(passage.tags)}" if passage.tags else ""
        if passage.existing:
            return f"Already stored: archival passage {passage.id}{tags} holds this text; nothing new was stored."
        return f"Stored archival passage {passage.id}{tags}."

    def archival_search(args: ArchivalMemorySearch) -> str:
        if not args.query.strip():
            raise ToolError("argument 'query' must contain words to search for")
        found = store.search_result(args.query, limit=args.limit, tags=args.tags)
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
        answer = {"query": args.query, "results": results, "exhaustive": found.exhaustive}
        return json.dumps(answer, ensure_ascii=False)

    return [
        _tool(
            "core_memory_append",
            "Append text to a core memory block (always visible in your prompt). Use it for "
            "short, lasting facts. Fails if the block would exceed its character limit.",
            CoreMemoryAppend,
            core_append,
        ),
        _tool(
            "core_memory_replace",
            "Replace exact text in a core memory block with new text (empty new text deletes "
            "it). old_content must match the block's text exactly.",
            CoreMemoryReplace,
            core_replace,
        ),
        _tool(
            "archival_memory_insert",
            "Store a passage in long-term archival memory, shared by all of this tenant's "
            "tasks, to find later with archival_memory_search. Write it to be understood "
            f"on its own. At most {MAX_PASSAGE_BYTES} bytes and {MAX_TAGS} tags.",
            ArchivalMemoryInsert,
            archival_insert,
        ),
        _tool(
            "archival_memory_search",
            "Search long-term archival memory by keywords; returns the best-matching "
            "passages (JSON), best first.",
            ArchivalMemorySearch,
            archival_search,
        ),
    ]
