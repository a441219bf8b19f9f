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


FILLER = [f"Filler note number {i} about nothing in particular." for i in range(45)]


def _legacy_tenant(store: MemoryStore, dynamodb: Any, version: int) -> list[str]:
    """Passages as an older version stored them: its postings, counters and term maps, and stats
    that name it (version 1's name none). Filler passages after them, so the reindex that each
    insert takes (20 passages) does not finish at once."""
    table = MemoryTable(dynamodb, "heartbeat-memory-test", store.tenant_id)
    texts = ((text, None) for text in [*OLD_TEXTS, *FILLER])
    ids = import_passages(table, texts, versions=[VERSIONS[version]])
    if version > 1:
        table.update(keys.STATS, f"SET {INDEX_ATTR} = :v", doing="test", values={":v": version})
    stats = table.get(keys.STATS, doing="test")
    assert stats is not None and int(stats.get(INDEX_ATTR, 1)) == version
    return ids[: len(OLD_TEXTS)]


def _version_read(partition: Any) -> int:
    return int(partition("tenant-a")[keys.STATS].get(INDEX_ATTR, {"N": "1"})["N"])


@pytest.mark.parametrize("version", [1, 2])
def test_passages_stored_before_the_block_index_are_found_throughout_the_reindex(
    store_a: MemoryStore, dynamodb: Any, partition: Any, version: int
) -> None:
    old = _legacy_tenant(store_a, dynamodb, version)
    old_terms = VERSIONS[version].terms_attr
    # Before the reindex, the tenant is searched in its own version: still found.
    assert [p.id for p in store_a.search("classes")] == [old[0]]
    # A passage stored now is indexed in both versions, so it is found before and after; storing
    # it also moved the oldest 20 passages to the new index, and the tenant still reads its own.
    new = store_a.insert_passage("Two new classes of boxes arrived.").id
    assert set(partition("tenant-a")[keys.passage_sk(new)]) >= {old_terms, CURRENT.terms_attr, "o"}
    assert _version_read(partition) == version
    assert {p.id for p in store_a.search("boxes")} == {old[2], new}
    assert_index_consistent(partition("tenant-a"))

    # Halfway: some passages have the new index, search still reads the old one completely.
    assert store_a.reindex(max_passages=2) is False
    assert _version_read(partition) == version
    assert {p.id for p in store_a.search("classes boxes addresses queries")} == {*old, new}
    store_a.delete_passage(old[1])  # a delete mid-way removes both versions' postings
    assert_index_consistent(partition("tenant-a"))

    assert store_a.reindex() is True
    items = partition("tenant-a")
    assert int(items[keys.STATS][INDEX_ATTR]["N"]) == CURRENT.number
    for older in (VERSIONS[1], VERSIONS[2]):
        assert not any(sk.startswith((older.posting, older.df)) for sk in items)
        assert not any(older.terms_attr in item for sk, item in items.items() if sk.startswith(keys.PASSAGE))
    assert_index_consistent(items)
    # Ordinals follow creation order, the new passage's included.
    ordinals = [int(item["o"]["N"]) for sk, item in sorted(items.items()) if sk.startswith(keys.PASSAGE)]
    assert len(set(ordinals)) == len(ordinals)
    # Now in the new version: plurals meet singulars, in old passages too.
    assert {p.id for p in store_a.search("class")} == {old[0], new}
    assert {p.id for p in store_a.search("box")} == {old[2], new}
    assert [p.id for p in store_a.search("query")] == [old[3]]
    assert store_a.search("address") == []  # deleted mid-way
    assert store_a.reindex() is True  # done: nothing more to do
    store_a.delete_passage(old[0])
    assert_index_consistent(partition("tenant-a"))


def test_inserts_alone_move_a_tenant_to_the_new_index_and_every_search_finds_the_old_passages(
    store_a: MemoryStore, dynamodb: Any, partition: Any
) -> None:
    old = _legacy_tenant(store_a, dynamodb, 2)
    queries = {"classes": {old[0]}, "invoices addresses": {old[1]}, "slow queries": {old[3]}}
    for step in range(4):  # 49 old passages, 20 a step
        assert {q: {p.id for p in store_a.search(q)} for q in queries} == queries, step
        store_a.insert_passage(f"An unrelated new note, number {step}.")
        assert_index_consistent(partition("tenant-a"))
    assert _version_read(partition) == CURRENT.number
    assert {q: {p.id for p in store_a.search(q)} for q in queries} == queries
    assert [p.id for p in store_a.search("box")] == [old[2]]


def test_a_new_tenant_starts_on_the_current_version(store_a: MemoryStore, partition: Any) -> None:
    store_a.insert_passage("First passage of a new tenant.")
    items = partition("tenant-a")
    assert int(items[keys.STATS][INDEX_ATTR]["N"]) == CURRENT.number
    assert not any(sk.startswith((VERSIONS[1].posting, VERSIONS[2].posting)) for sk in items)
    assert store_a.reindex() is True


def test_the_operator_command_finishes_a_tenants_reindex(
    store_a: MemoryStore, dynamodb: Any, partition: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from heartbeat_cli.main import build_parser
    from heartbeat_cli.memory import run_reindex

    args = build_parser().parse_args(["memory", "reindex", "--tenant", "tenant-a", "--local"])
    assert (args.command, args.memory_command, args.tenant, args.local) == (
        "memory",
        "reindex",
        "tenant-a",
        True,
    )
    old = _legacy_tenant(store_a, dynamodb, 2)
    assert run_reindex(dynamodb, "heartbeat-memory-test", "tenant-a") == 0
    assert "archival index is on the current version" in capsys.readouterr().out
    assert _version_read(partition) == CURRENT.number
    assert_index_consistent(partition("tenant-a"))
    assert [p.id for p in store_a.search("box")] == [old[2]]
