"""Core memory blocks against moto: what the API and the executor see."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from heartbeat.errors import InvalidRequestError, NotFoundError
from heartbeat.memory.limits import DEFAULT_BLOCK_LIMIT, MAX_BLOCK_LIMIT, MAX_CORE_BLOCKS
from heartbeat.memory.store import MemoryStore
from heartbeat.soul.prompt import render_block


def test_put_then_get_and_list_blocks_by_label(store_a: MemoryStore) -> None:
    store_a.put_block("persona", "I am a careful assistant.", description="who I am")
    store_a.put_block("human", "Ada, prefers short answers.", limit=200)

    block = store_a.get_block("human")
    assert (block.label, block.value, block.limit) == ("human", "Ada, prefers short answers.", 200)
    assert block.updated_at and block.updated_at.endswith("Z")
    assert [b.label for b in store_a.core_blocks()] == ["human", "persona"]
    persona = store_a.get_block("persona")
    assert persona.limit == DEFAULT_BLOCK_LIMIT
    assert persona.description == "who I am"


def test_put_keeps_limit_and_description_when_omitted(store_a: MemoryStore) -> None:
    store_a.put_block("notes", "v1", limit=50, description="scratch")
    block = store_a.put_block("notes", "v2")
    assert (block.value, block.limit, block.description) == ("v2", 50, "scratch")


def test_value_over_limit_is_rejected_naming_value(store_a: MemoryStore) -> None:
    with pytest.raises(InvalidRequestError) as err:
        store_a.put_block("notes", "x" * 11, limit=10)
    assert err.value.param == "value"
    assert "limit of 10" in err.value.message
    with pytest.raises(NotFoundError):
        store_a.get_block("notes")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"label": "Bad Label", "value": "v"}, "label"),
        ({"label": "a" * 65, "value": "v"}, "label"),
        ({"label": "ok", "value": "v", "limit": MAX_BLOCK_LIMIT + 1}, "limit"),
        ({"label": "ok", "value": "v", "limit": 0}, "limit"),
        ({"label": "ok", "value": "v", "description": "d" * 1001}, "description"),
    ],
)
def test_invalid_block_fields_name_the_field(
    store_a: MemoryStore, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(InvalidRequestError) as err:
        store_a.put_block(**kwargs)
    assert err.value.param == param


def test_append_and_replace(store_a: MemoryStore) -> None:
    store_a.put_block("human", "Name: Ada")
    store_a.append_block("human", "Timezone: Europe/London")
    assert store_a.get_block("human").value == "Name: Ada\nTimezone: Europe/London"
    store_a.replace_in_block("human", "Europe/London", "America/New_York")
    assert store_a.get_block("human").value == "Name: Ada\nTimezone: America/New_York"


def test_append_over_limit_leaves_block_unchanged(store_a: MemoryStore) -> None:
    store_a.put_block("human", "12345", limit=8)
    with pytest.raises(InvalidRequestError) as err:
        store_a.append_block("human", "6789")
    assert err.value.param == "value"
    assert store_a.get_block("human").value == "12345"


def test_replace_of_missing_text_names_old_content(store_a: MemoryStore) -> None:
    store_a.put_block("human", "Name: Ada")
    with pytest.raises(InvalidRequestError) as err:
        store_a.replace_in_block("human", "Name: Bob", "Name: Eve")
    assert err.value.param == "old_content"


def test_append_to_unknown_block_lists_existing(store_a: MemoryStore) -> None:
    store_a.put_block("human", "x")
    with pytest.raises(NotFoundError) as err:
        store_a.append_block("persona", "y")
    assert "human" in err.value.message


def test_block_count_is_capped(store_a: MemoryStore) -> None:
    for i in range(MAX_CORE_BLOCKS):
        store_a.put_block(f"b{i:02d}", "v")
    with pytest.raises(InvalidRequestError) as err:
        store_a.put_block("one-more", "v")
    assert err.value.param == "label"
    store_a.put_block("b00", "still editable")


def test_tenants_never_see_each_others_blocks(store_a: MemoryStore, store_b: MemoryStore) -> None:
    store_a.put_block("secret", "tenant A only")
    assert store_b.core_blocks() == []
    with pytest.raises(NotFoundError):
        store_b.get_block("secret")
    with pytest.raises(NotFoundError):
        store_b.append_block("secret", "from B")
    with pytest.raises(NotFoundError):
        store_b.replace_in_block("secret", "tenant A only", "B was here")
    store_b.put_block("secret", "tenant B's own")
    assert store_a.get_block("secret").value == "tenant A only"


def test_concurrent_appends_all_land(store_a: MemoryStore, shared_client: Any) -> None:
    store_a.put_block("log", "")

    def worker(i: int) -> None:
        store = MemoryStore(shared_client, "heartbeat-memory-test", "tenant-a")
        for j in range(5):
            store.append_block("log", f"w{i}-{j}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(worker, i) for i in range(4)]:
            future.result()
    lines = store_a.get_block("log").value.splitlines()
    assert sorted(lines) == sorted(f"w{i}-{j}" for i in range(4) for j in range(5))


def test_a_block_renders_with_its_usage() -> None:
    from heartbeat.memory.records import CoreBlock

    text = render_block(CoreBlock("human", "Ada", 100, "the user"))
    assert '<memory_block label="human" chars="3/100">' in text
    assert "the user" in text and "Ada" in text
