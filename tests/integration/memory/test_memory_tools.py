"""The Soul's memory tools: what a model gets back, and what it can never reach."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heartbeat.memory.store import MemoryStore
from heartbeat.soul.types import ToolError
from heartbeat.tools.memory import memory_tools


def by_name(store: MemoryStore, **kwargs: Any) -> dict[str, Any]:
    return {tool.spec.name: tool for tool in memory_tools(store, **kwargs)}


def test_specs_are_json_schema_objects(store_a: MemoryStore) -> None:
    tools = by_name(store_a)
    assert set(tools) == {
        "core_memory_append",
        "core_memory_replace",
        "archival_memory_insert",
        "archival_memory_search",
    }
    for tool in tools.values():
        schema = tool.spec.parameters
        assert schema["type"] == "object" and set(schema["required"]) <= set(schema["properties"])
        assert "tenant" not in json.dumps(schema).lower()


def test_a_run_stores_a_takeaway_that_a_later_run_finds(store_a: MemoryStore, dynamodb: Any) -> None:
    first = by_name(store_a, run_id="run_1", task_id="cron_1")
    answer = first["archival_memory_insert"](
        {"content": "The Q3 board deck lives in /shared/board", "tags": ["board"]}
    )
    assert answer.startswith("Stored archival passage mem_")
    later = by_name(MemoryStore(dynamodb, "heartbeat-memory-test", "tenant-a"), run_id="run_2")
    found = json.loads(later["archival_memory_search"]({"query": "where is the board deck"}))
    assert found["exhaustive"] is True
    assert [r["text"] for r in found["results"]] == ["The Q3 board deck lives in /shared/board"]
    pid = found["results"][0]["id"]
    passage = store_a.get_passage(pid)
    assert (passage.run_id, passage.task_id) == ("run_1", "cron_1")


def test_core_tools_edit_blocks(store_a: MemoryStore) -> None:
    store_a.put_block("human", "Name: Ada", limit=40)
    tools = by_name(store_a)
    assert "now 20 of 40 characters" in tools["core_memory_append"](
        {"label": "human", "content": "Likes: tea"}
    )
    tools["core_memory_replace"]({"label": "human", "old_content": "tea", "new_content": "coffee"})
    assert store_a.get_block("human").value == "Name: Ada\nLikes: coffee"


@pytest.mark.parametrize(
    ("tool", "arguments", "fragment"),
    [
        ("core_memory_append", {"label": "human", "content": "x" * 100}, "over its limit of 40"),
        ("core_memory_append", {"label": "persona", "content": "x"}, "existing blocks: human"),
        ("core_memory_append", {"label": "human"}, "'content' is required"),
        (
            "core_memory_replace",
            {"label": "human", "old_content": "Bob", "new_content": "Eve"},
            "was not found",
        ),
        ("archival_memory_insert", {"content": "x" * (16 * 1024 + 1)}, "16 KiB"),
        (
            "archival_memory_insert",
            {"content": "ok", "tags": [f"t{i}" for i in range(11)]},
            "at most 10 tags",
        ),
        ("archival_memory_insert", {"content": "ok", "tenant_id": "tenant-b"}, "does not take tenant_id"),
        ("archival_memory_search", {"query": "w " * 600}, "1 KiB"),
        ("archival_memory_search", {"query": "x", "limit": 500}, "from 1 to 50"),
        ("archival_memory_search", {"query": "  "}, "words to search for"),
    ],
)
def test_bad_calls_are_tool_errors_the_model_can_read(
    store_a: MemoryStore, tool: str, arguments: dict[str, Any], fragment: str
) -> None:
    store_a.put_block("human", "Name: Ada", limit=40)
    with pytest.raises(ToolError) as err:
        by_name(store_a)[tool](arguments)
    assert fragment in str(err.value)
    assert store_a.get_block("human").value == "Name: Ada"
    assert store_a.search() == []


def test_tools_are_bound_to_their_tenant(store_a: MemoryStore, store_b: MemoryStore) -> None:
    store_a.put_block("human", "A's human")
    by_name(store_a)["archival_memory_insert"]({"content": "tenant A secret bluebird"})
    tools_b = by_name(store_b)
    assert json.loads(tools_b["archival_memory_search"]({"query": "bluebird secret"}))["results"] == []
    with pytest.raises(ToolError):
        tools_b["core_memory_append"]({"label": "human", "content": "B writes"})
    with pytest.raises(ToolError):
        tools_b["core_memory_replace"]({"label": "human", "old_content": "A's", "new_content": "B's"})
    assert store_a.get_block("human").value == "A's human"
    assert store_b.core_blocks() == [] and store_b.search() == []
