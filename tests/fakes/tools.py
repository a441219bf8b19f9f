"""Small real tools for the Soul's tests: an in-memory archival memory with the same tool names and
arguments as `heartbeat.tools.memory` (`archival_memory_insert(content, tags?)`,
`archival_memory_search(query, limit?)`), and a tool that always fails."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from heartbeat.soul.types import Message, ToolCall, ToolError, ToolSpec

INSERT_SPEC = ToolSpec(
    name="archival_memory_insert",
    description="Store a passage in long-term archival memory.",
    parameters={
        "type": "object",
        "properties": {
            "content": {"type": "string", "minLength": 1, "description": "The passage text."},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["content"],
        "additionalProperties": False,
    },
)
SEARCH_SPEC = ToolSpec(
    name="archival_memory_search",
    description="Search archival memory for passages matching a query.",
    parameters={
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1},
            "limit": {"type": "integer", "minimum": 1, "maximum": 20},
        },
        "required": ["query"],
        "additionalProperties": False,
    },
)


@dataclass
class Archive:
    passages: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def tools(self) -> list[Any]:
        return [ArchivalInsert(self), ArchivalSearch(self)]


@dataclass
class ArchivalInsert:
    archive: Archive

    @property
    def spec(self) -> ToolSpec:
        return INSERT_SPEC

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        self.archive.calls.append((INSERT_SPEC.name, dict(arguments)))
        content = arguments.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ToolError("argument 'content' is required and must be a non-empty string")
        self.archive.passages.append(content)
        return f"Stored archival passage psg_{len(self.archive.passages)}."


@dataclass
class ArchivalSearch:
    archive: Archive

    @property
    def spec(self) -> ToolSpec:
        return SEARCH_SPEC

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        self.archive.calls.append((SEARCH_SPEC.name, dict(arguments)))
        query = arguments.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ToolError("argument 'query' must contain words to search for")
        words = {w.lower().strip(".,?!") for w in query.split()}
        hits = [p for p in self.archive.passages if words & {w.lower().strip(".,?!") for w in p.split()}]
        return json.dumps({"query": query, "results": [{"text": p} for p in hits]})


@dataclass
class FailingTool:
    """Raises ToolError with `message` on every call."""

    name: str = "flaky_lookup"
    message: str = "the lookup service said no"
    calls: int = 0

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, "Looks things up (and fails).", {"type": "object", "properties": {}})

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        self.calls += 1
        raise ToolError(self.message)


def blank_text_beside_a_tool_call(call_id: str) -> list[Message]:
    """A stored conversation whose assistant turn has whitespace-only text beside its tool call,
    as models reply ("\n\n" then the call): providers refuse a blank text block on replay."""
    return [
        Message(role="user", content="Look it up."),
        Message(
            role="assistant",
            content="\n\n",
            tool_calls=(ToolCall(call_id, "archival_memory_search", {"query": "boiler"}),),
        ),
        Message(role="tool", content="nothing found", tool_call_id=call_id),
        Message(role="assistant", content="Nothing on the boiler."),
    ]
