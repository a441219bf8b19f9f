"""Archival passages against moto: insert, get, list, delete, limits, isolation, and an index
that stays consistent through deletes, crashes and concurrent writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from heartbeat.errors import DependencyError, InvalidRequestError, NotFoundError
from heartbeat.memory import keys
from heartbeat.memory.archival import ArchivalMemory
from heartbeat.memory.index import CURRENT
from heartbeat.memory.store import MemoryStore
from heartbeat.memory.table import MemoryTable
from heartbeat.memory.tokens import stem
from support.memory_index import assert_index_consistent

TABLE = "heartbeat-memory-test"


def test_insert_then_get_and_list_newest_first(store_a: MemoryStore, partition: Any) -> None:
    first = store_a.insert_passage("The deploy runbook lives in the wiki.", ["ops", "Docs"])
    second = store_a.insert_passage("Ada prefers summaries before 9am.", run_id="run_1", task_id="cron_1")
    got = store_a.get_passage(first.id)
    assert got.text == "The deploy runbook lives in the wiki."
    assert got.tags == ("ops", "docs")
    assert got.id.startswith("mem_") and got.created_at.endswith("Z")
    assert store_a.get_passage(second.id).run_id == "run_1"
    assert [p.id for p in store_a.search()] == [second.id, first.id]
    assert [p.id for p in store_a.search(tags=["docs"])] == [first.id]
    assert_index_consistent(partition("tenant-a"))


def test_delete_removes_passage_and_its_index(store_a: MemoryStore, partition: Any) -> None:
    keep = store_a.insert_passage("Quarterly report numbers are in the finance folder.", ["finance"])
    gone = store_a.insert_passage("Quarterly planning meeting moved to Thursday.", ["planning"])
    store_a.delete_passage(gone.id)
    assert_index_consistent(partition("tenant-a"))
    with pytest.raises(NotFoundError):
        store_a.get_passage(gone.id)
    with pytest.raises(NotFoundError):
        store_a.delete_passage(gone.id)
    assert [p.id for p in store_a.search("quarterly")] == [keep.id]
    assert store_a.search(tags=["planning"]) == []
    assert_index_consistent(partition("tenant-a"))


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda s: s.insert_passage("x" * (16 * 1024 + 1)), "text"),
        (lambda s: s.insert_passage("é" * (8 * 1024 + 1)), "text"),
        (lambda s: s.insert_passage("   "), "text"),
        (lambda s: s.insert_passage("ok", [f"t{i}" for i in range(11)]), "tags"),
        (lambda s: s.insert_passage("ok", ["has space"]), "tags"),
        (lambda s: s.insert_passage("ok", ["a#b"]), "tags"),
        (lambda s: s.insert_passage("ok", ["x" * 65]), "tags"),
        (lambda s: s.search("word " * 205), "query"),
        (lambda s: s.search("ok", limit=51), "limit"),
        (lambda s: s.search("ok", limit=0), "limit"),
    ],
)
def test_limits_are_clear_errors_naming_the_field(store_a: MemoryStore, call: Any, param: str) -> None:
    with pytest.raises(InvalidRequestError) as err:
        call(store_a)
    assert err.value.param == param
    assert store_a.search() == []


def test_largest_allowed_passage_and_tags_are_accepted(store_a: MemoryStore, partition: Any) -> None:
    words = " ".join(f"word{i % 40}" for i in range(4000))
    text = (words + " needle")[-16 * 1024 :].strip()
    assert len(text.encode()) == 16 * 1024
    passage = store_a.insert_passage(text, [f"t{i}" for i in range(10)])
    assert store_a.get_passage(passage.id).text == text
    assert [p.id for p in store_a.search("needle word17")] == [passage.id]
    assert_index_consistent(partition("tenant-a"))
    store_a.delete_passage(passage.id)
    assert_index_consistent(partition("tenant-a"))


def test_tenant_b_never_sees_tenant_a(store_a: MemoryStore, store_b: MemoryStore, partition: Any) -> None:
    secret = store_a.insert_passage("Launch code name is BLUEBIRD.", ["secret"])
    assert store_b.search("bluebird launch") == []
    assert store_b.search() == []
    assert store_b.search(tags=["secret"]) == []
    assert store_b.search("bluebird", tags=["secret"]) == []
    with pytest.raises(NotFoundError):
        store_b.get_passage(secret.id)
    with pytest.raises(NotFoundError):
        store_b.delete_passage(secret.id)
    assert partition("tenant-b") == {}
    assert store_a.get_passage(secret.id).text == "Launch code name is BLUEBIRD."


def test_unknown_or_malformed_ids_are_not_found(store_a: MemoryStore) -> None:
    for bad in ("mem_", "cron_01jd0000000000000000000000", "mem_00000000000000000000000000", "../x"):
        with pytest.raises(NotFoundError):
            store_a.get_passage(bad)
        with pytest.raises(NotFoundError):
            store_a.delete_passage(bad)


def _fail_transaction_number(client: Any, number: int) -> Any:
    """Make the `number`-th TransactWriteItems call fail as if the service were down."""
    calls = {"n": 0}

    def handler(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == number:
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems"
            )

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", handler)
    return handler


def test_failed_insert_is_rolled_back_and_never_searchable(
    store_a: MemoryStore, dynamodb: Any, partition: Any
) -> None:
    text = " ".join(f"term{i}" for i in range(120))  # three index transactions
    handler = _fail_transaction_number(dynamodb, 2)
    with pytest.raises(DependencyError):
        store_a.insert_passage(text)
    dynamodb.meta.events.unregister("before-call.dynamodb.TransactWriteItems", handler)
    assert store_a.search("term1 term100") == []
    assert store_a.search() == []
    assert_index_consistent(partition("tenant-a"))


def test_crash_mid_delete_is_hidden_and_finished_by_retry(
    store_a: MemoryStore, dynamodb: Any, partition: Any
) -> None:
    other = store_a.insert_passage("term5 stays findable")
    passage = store_a.insert_passage(" ".join(f"term{i}" for i in range(120)))
    handler = _fail_transaction_number(dynamodb, 3)  # status flip, first chunk, then fail
    with pytest.raises(DependencyError):
        store_a.delete_passage(passage.id)
    dynamodb.meta.events.unregister("before-call.dynamodb.TransactWriteItems", handler)
    # Half-deleted: its remaining postings exist, but it is never a result.
    assert [p.id for p in store_a.search("term5 term110")] == [other.id]
    with pytest.raises(NotFoundError):
        store_a.get_passage(passage.id)
    with pytest.raises(NotFoundError):  # the retry finishes the clean-up
        store_a.delete_passage(passage.id)
    assert_index_consistent(partition("tenant-a"))


def test_concurrent_inserts_and_deletes_keep_the_index_exact(shared_client: Any, partition: Any) -> None:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]

    def writer(i: int) -> list[str]:
        store = MemoryStore(shared_client, TABLE, "tenant-a")
        ids = []
        for j in range(6):
            text = f"shared {words[(i + j) % 6]} {words[j % 6]} note {i} {j}"
            ids.append(store.insert_passage(text, ["common", f"w{i}"]).id)
        for pid in ids[::2]:
            store.delete_passage(pid)
        return ids[1::2]

    with ThreadPoolExecutor(max_workers=4) as pool:
        kept = [pid for future in [pool.submit(writer, i) for i in range(4)] for pid in future.result()]
    items = partition("tenant-a")
    assert_index_consistent(items)
    assert int(items[CURRENT.df_sk(stem("shared"))]["df"]["N"]) == len(kept) == 12
    store = MemoryStore(shared_client, TABLE, "tenant-a")
    assert {p.id for p in store.search("shared", limit=50)} == set(kept)


def test_postings_written_twice_after_a_lost_answer_are_counted_once(
    store_a: MemoryStore, dynamodb: Any, partition: Any
) -> None:
    passage = store_a.insert_passage("alpha beta gamma, then alpha again")
    other = store_a.insert_passage("beta only here")
    item = partition("tenant-a")[keys.passage_sk(passage.id)]
    archival = ArchivalMemory(MemoryTable(dynamodb, TABLE, "tenant-a"))
    tfs = {t: int(v["N"]) for t, v in item[CURRENT.terms_attr]["M"].items()}
    # The retry of a chunk whose transaction went through but whose answer was lost.
    archival.index_postings(CURRENT, passage.id, tfs, int(item["length"]["N"]), [], int(item["o"]["N"]))
    items = partition("tenant-a")
    assert_index_consistent(items)
    assert int(items[CURRENT.df_sk(stem("beta"))]["df"]["N"]) == 2
    assert [p.id for p in store_a.search("alpha")] == [passage.id]
    store_a.delete_passage(passage.id)
    store_a.delete_passage(other.id)
    items = partition("tenant-a")
    assert_index_consistent(items)
    assert not any(sk.startswith((CURRENT.posting, CURRENT.df)) for sk in items)  # empty blocks go too
