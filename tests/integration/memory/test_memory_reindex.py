"""Stemming that lets plurals meet singulars, and the move of passages stored before it (indexed
with the S-stemmer, version 1) to the new index without any passage being unsearchable."""

from __future__ import annotations

from typing import Any

import pytest

from heartbeat.memory import keys
from heartbeat.memory.bulk import import_passages
from heartbeat.memory.index import CURRENT, INDEX_ATTR, VERSIONS
from heartbeat.memory.store import MemoryStore
from heartbeat.memory.table import MemoryTable
from support.memory_index import assert_index_consistent

PAIRS = [
    ("classes", "class"),
    ("matches", "match"),
    ("processes", "process"),
    ("addresses", "address"),
    ("boxes", "box"),
    ("queries", "query"),
]

OLD_TEXTS = [
    "The billing classes are defined in the ledger module.",
    "Mail the invoices to both addresses on file.",
    "Pack the spare cables in two boxes.",
    "Slow queries on the orders table need an index.",
]


@pytest.mark.parametrize(("plural", "singular"), PAIRS)
def test_a_plural_finds_its_singular_and_back(store_a: MemoryStore, plural: str, singular: str) -> None:
    one = store_a.insert_passage(f"Notes on the {singular} we reviewed.")
    many = store_a.insert_passage(f"Notes on the {plural} we reviewed.")
    store_a.insert_passage("Something else entirely.")
    assert {p.id for p in store_a.search(plural)} == {one.id, many.id}
    assert {p.id for p in store_a.search(singular)} == {one.id, many.id}


def _legacy_tenant(store: MemoryStore, dynamodb: Any) -> list[str]:
    """Passages as the S-stemmer version stored them: version 1 postings, counters and term
    maps, and stats that name no version."""
    table = MemoryTable(dynamodb, "heartbeat-memory-test", store.tenant_id)

    ids = import_passages(table, ((text, None) for text in OLD_TEXTS), versions=[VERSIONS[1]])
    stats = table.get(keys.STATS, doing="test")
    assert stats is not None and INDEX_ATTR not in stats
    return ids


def test_passages_stored_before_the_stemmer_change_are_found_throughout_the_reindex(
    store_a: MemoryStore, dynamodb: Any, partition: Any
) -> None:
    old = _legacy_tenant(store_a, dynamodb)
    # Before the reindex, the tenant is searched in its own version: still found.
    assert [p.id for p in store_a.search("classes")] == [old[0]]
    # A passage stored now is indexed in both versions, so it is found before and after.
    new = store_a.insert_passage("Two new classes of boxes arrived.").id
    assert set(partition("tenant-a")[keys.passage_sk(new)]) >= {"terms", CURRENT.terms_attr}
    assert {p.id for p in store_a.search("boxes")} == {old[2], new}
    assert_index_consistent(partition("tenant-a"))

    # Halfway: some passages have the new index, search still reads the old one completely.
    assert store_a.reindex(max_passages=2) is False
    assert {p.id for p in store_a.search("classes boxes addresses queries")} == {*old, new}
    store_a.delete_passage(old[1])  # a delete mid-way removes both versions' postings
    assert_index_consistent(partition("tenant-a"))

    assert store_a.reindex() is True
    items = partition("tenant-a")
    assert int(items[keys.STATS][INDEX_ATTR]["N"]) == CURRENT.number
    assert not any(sk.startswith((VERSIONS[1].posting, VERSIONS[1].df)) for sk in items)
    assert not any("terms" in item for sk, item in items.items() if sk.startswith(keys.PASSAGE))
    assert_index_consistent(items)
    # Now in the new version: plurals meet singulars, in old passages too.
    assert {p.id for p in store_a.search("class")} == {old[0], new}
    assert {p.id for p in store_a.search("box")} == {old[2], new}
    assert [p.id for p in store_a.search("query")] == [old[3]]
    assert store_a.search("address") == []  # deleted mid-way
    assert store_a.reindex() is True  # done: nothing more to do
    store_a.delete_passage(old[0])
    assert_index_consistent(partition("tenant-a"))


def test_a_new_tenant_starts_on_the_current_version(store_a: MemoryStore, partition: Any) -> None:
    store_a.insert_passage("First passage of a new tenant.")
    items = partition("tenant-a")
    assert int(items[keys.STATS][INDEX_ATTR]["N"]) == CURRENT.number
    assert not any(sk.startswith(VERSIONS[1].posting) for sk in items)
    assert store_a.reindex() is True
