"""Archival search against brute-force BM25 on generated corpora where a few terms are in almost
every passage: its top 10 is BM25's, ties broken the same way (newest first), and whenever a
search out of reads says it is exhaustive, that holds too. Blocks hold 4 ordinals here (1,000 in
production), so a common term's list is many blocks and a small budget leaves lists unread."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from heartbeat.memory import index
from heartbeat.memory.search import MAX_LOOKUP_TERMS, Reads, Searcher
from heartbeat.memory.store import MemoryStore
from heartbeat.memory.table import MemoryTable
from heartbeat.memory.tokens import query_terms, term_frequencies
from heartbeat_cli.local.resources import create_table
from support.bm25 import exhaustive_bm25

TABLE = "memory-properties"
_tenants = itertools.count()

# w0 and w1 are about a third of all words each (in nearly every passage), the rest are rarer.
WORD = st.one_of(st.just("w0"), st.just("w1"), st.sampled_from([f"w{i}" for i in range(2, 12)]))
PASSAGE = st.lists(WORD, min_size=1, max_size=30).map(" ".join)
LONG_PASSAGE = st.tuples(WORD, st.integers(5, 40), st.lists(WORD, max_size=80)).map(
    lambda t: " ".join([t[0]] * t[1] + t[2])  # many repeats in a long passage
)
CORPUS = st.lists(st.one_of(PASSAGE, PASSAGE, PASSAGE, LONG_PASSAGE), min_size=5, max_size=45)
QUERY = st.lists(WORD, min_size=1, max_size=3).map(" ".join)


@pytest.fixture(scope="module", autouse=True)
def small_blocks() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(index, "BLOCK", 4)
        yield


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update({k: "testing" for k in saved})
    try:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            create_table(client, "MemoryTable", TABLE)
            yield client
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _load(dynamodb: Any, texts: list[str]) -> tuple[MemoryTable, dict[str, str]]:
    tenant = f"tenant-{next(_tenants)}"
    ids = MemoryStore(dynamodb, TABLE, tenant).import_passages((text, None) for text in texts)
    return MemoryTable(dynamodb, TABLE, tenant), dict(zip(ids, texts, strict=True))


def _reference(texts: dict[str, str], query: str, limit: int) -> list[tuple[str, float]]:
    return exhaustive_bm25(texts, query, limit, term_frequencies, query_terms)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CORPUS, QUERY, st.sampled_from([1, 3, 10]), st.lists(st.integers(0, 44), max_size=4))
def test_top_results_are_exactly_bm25s_ties_newest_first(
    dynamodb: Any, texts: list[str], query: str, limit: int, deleted: list[int]
) -> None:
    table, by_id = _load(dynamodb, texts)
    store = MemoryStore(dynamodb, TABLE, table.tenant_id)
    for position in sorted(set(deleted)):
        if position < len(by_id):
            pid = sorted(by_id)[position]
            store.delete_passage(pid)
            del by_id[pid]
    result = Searcher(table).search(query, limit)
    want = _reference(by_id, query, limit)
    assert result.exhaustive
    assert [p.id for p in result.passages] == [pid for pid, _ in want]
    assert [p.score for p in result.passages] == pytest.approx([score for _, score in want])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(CORPUS, QUERY, st.integers(4, 40))
def test_a_search_out_of_reads_says_so_and_never_exceeds_its_budget(
    dynamodb: Any, texts: list[str], query: str, budget: int
) -> None:
    table, by_id = _load(dynamodb, texts)
    result = Searcher(table, Reads(budget=budget, first_postings=3, more_postings=2)).search(query, 10)
    # The budget bounds the postings and passages read; the one lookup of the tenant's stats and the
    # query terms' counters that starts every search comes before it (at most 1 + 32 items).
    lookup = 1 + min(len(set(query_terms(query))), MAX_LOOKUP_TERMS)
    assert table.items_read <= budget + lookup
    want = _reference(by_id, query, 10)
    reference = dict(_reference(by_id, query, len(by_id)))
    # Whatever it returns carries its true score, best first ...
    assert all(p.score == pytest.approx(reference[p.id]) for p in result.passages)
    # ... and unless it says otherwise, it is BM25's top 10.
    if result.exhaustive:
        assert [p.id for p in result.passages] == [pid for pid, _ in want]
