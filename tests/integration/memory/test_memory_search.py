"""Ranked archival search: relevance on a fixed corpus, agreement with exhaustive BM25, and a
read budget that does not grow with the tenant's passages."""

from __future__ import annotations

import random
from typing import Any

import pytest

from heartbeat.memory.search import max_items_read
from heartbeat.memory.store import MemoryStore
from heartbeat.memory.tokens import query_terms, term_frequencies
from support.bm25 import exhaustive_bm25

TABLE = "heartbeat-memory-test"

CORPUS = [
    ("db-migration", "Run the database migration before every deploy; migrations lock the orders table."),
    ("deploy-only", "Deploy on Tuesdays after the standup. Deploy windows are announced in #ops."),
    ("db-only", "The database backup runs nightly at 02:00 UTC."),
    ("all-three", "Deploy checklist: database migration first, then deploy the api, then smoke tests."),
    ("unrelated", "Ada likes her summaries short and in bullet points."),
    ("coffee", "The coffee machine on floor three is broken again."),
    (
        "migration-long",
        "Migration notes: " + "the legacy billing system has many quirks and " * 8 + "migration",
    ),
]


@pytest.fixture
def corpus(store_a: MemoryStore) -> dict[str, str]:
    return {name: store_a.insert_passage(text).id for name, text in CORPUS}


def names(corpus: dict[str, str], passages: list[Any]) -> list[str]:
    by_id = {v: k for k, v in corpus.items()}
    return [by_id[p.id] for p in passages]


def test_relevance_order_on_a_fixed_corpus(store_a: MemoryStore, corpus: dict[str, str]) -> None:
    results = store_a.search("deploy database migration")
    ranked = names(corpus, results)
    assert ranked[:2] == ["all-three", "db-migration"]
    assert set(ranked[2:]) == {"deploy-only", "db-only", "migration-long"}
    assert "unrelated" not in ranked and "coffee" not in ranked
    scores = [p.score or 0.0 for p in results]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_plural_and_case_find_the_same_passage(store_a: MemoryStore, corpus: dict[str, str]) -> None:
    assert names(corpus, store_a.search("COFFEE machines", limit=1)) == ["coffee"]
    assert names(corpus, store_a.search("summary bullet point", limit=1)) == ["unrelated"]


def test_limit_stop_words_and_no_match(store_a: MemoryStore, corpus: dict[str, str]) -> None:
    assert len(store_a.search("deploy database migration", limit=2)) == 2
    assert store_a.search("the and of") == []
    assert store_a.search("kubernetes") == []


def test_tag_filter_narrows_ranked_results(store_a: MemoryStore) -> None:
    ops = store_a.insert_passage("deploy the api on friday", ["ops"])
    store_a.insert_passage("deploy deploy deploy the api", ["dev"])
    both = store_a.insert_passage("deploy rollback plan", ["ops", "dev"])
    assert {p.id for p in store_a.search("deploy api", tags=["ops"])} == {ops.id, both.id}
    assert [p.id for p in store_a.search("deploy", tags=["ops", "dev"])] == [both.id]
    assert store_a.search("deploy", tags=["nope"]) == []


def test_a_rare_tag_finds_its_passage_behind_many_untagged_ones(store_a: MemoryStore) -> None:
    store_a.import_passages((f"weekly report number {i} about sales", None) for i in range(600))
    tagged = store_a.insert_passage("weekly report about sales for the board", ["board"])
    assert [p.id for p in store_a.search("weekly sales report", tags=["board"])] == [tagged.id]


def _zipf_corpus(rng: random.Random, count: int, vocabulary: list[str]) -> list[str]:
    weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(vocabulary))]
    return [" ".join(rng.choices(vocabulary, weights, k=rng.randint(8, 30))) for _ in range(count)]


def _exhaustive_bm25(texts: dict[str, str], query: str, limit: int) -> list[tuple[str, float]]:
    return exhaustive_bm25(texts, query, limit, term_frequencies, query_terms)


@pytest.mark.slow
def test_search_returns_exhaustive_bm25s_top_10_within_a_fixed_read_budget(
    store_a: MemoryStore, store_b: MemoryStore
) -> None:
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(2000)]
    texts = _zipf_corpus(rng, 1200, vocabulary)
    ids = store_a.import_passages((text, None) for text in texts)
    store_b.import_passages((text, None) for text in _zipf_corpus(rng, 150, vocabulary))
    by_id = dict(zip(ids, texts, strict=True))
    queries = [" ".join(rng.sample(vocabulary[:300], 3)) for _ in range(12)]
    for query in queries:
        before = store_a.items_read
        result = store_a.search_result(query)
        assert store_a.items_read - before <= max_items_read(10) <= 1000
        want = _exhaustive_bm25(by_id, query, 10)
        assert result.exhaustive, query
        assert [p.id for p in result.passages] == [pid for pid, _ in want], query
        assert [p.score for p in result.passages] == pytest.approx([s for _, s in want]), query
