"""Pure parts of memory: tokenising, BM25 arithmetic, posting order, budget sharing, limits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartbeat.errors import InvalidRequestError
from heartbeat.memory import keys
from heartbeat.memory.limits import check_label, check_query, check_search_limit, check_tags
from heartbeat.memory.ranking import idf, impact_rank, tf_factor
from heartbeat.memory.search import max_items_read, share_budget
from heartbeat.memory.tokens import query_terms, stem, tokenize


def test_tokenize_lowercases_drops_stop_words_and_stems_plurals() -> None:
    assert tokenize("The Deploys of the QUERIES, and boxes!") == ["deploy", "query", "boxe"]
    assert tokenize("Café MÜNCHEN 東京 2026") == ["café", "münchen", "東京", "2026"]
    assert query_terms("deploy deploys Deploy") == ["deploy"]


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("class", "class"),
        ("status", "status"),
        ("bus", "bus"),
        ("flies", "fly"),
        ("notes", "note"),
        ("is", "is"),
    ],
)
def test_stem_keeps_words_that_are_not_plurals(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


@given(st.text(max_size=200))
def test_tokens_never_contain_the_key_separator(text: str) -> None:
    assert all("#" not in t and 0 < len(t) <= 64 for t in tokenize(text))


def test_rarer_terms_weigh_more_and_tf_saturates() -> None:
    assert idf(1000, 1) > idf(1000, 100) > idf(1000, 900) > 0
    assert tf_factor(1, 10, 10) < tf_factor(3, 10, 10) < tf_factor(30, 10, 10) < 2.2
    assert tf_factor(1, 5, 10) > tf_factor(1, 50, 10)  # a short passage beats a long one


def test_posting_keys_sort_most_relevant_first() -> None:
    strong = keys.posting_sk("deploy", impact_rank(5, 20), "mem_b")
    weak = keys.posting_sk("deploy", impact_rank(1, 200), "mem_a")
    assert sorted([weak, strong]) == [strong, weak]
    assert strong.startswith(keys.posting_prefix("deploy"))
    assert not keys.posting_sk("deployment", 1, "mem_a").startswith(keys.posting_prefix("deploy"))


def test_budget_goes_to_common_terms_after_rare_ones_are_covered() -> None:
    shares = share_budget([("rare", 3), ("common", 50_000), ("mid", 40)], 360)
    assert shares["rare"] == 4 and shares["mid"] == 41
    assert shares["common"] == 360 - 4 - 41
    assert sum(share_budget([("a", 10**6)] * 1 + [("b", 10**6), ("c", 10**6)], 360).values()) <= 360
    assert max_items_read(10) < 1000 and max_items_read(50) < 1000


@pytest.mark.parametrize(
    ("check", "value", "param"),
    [
        (check_label, "UPPER", "label"),
        (check_label, "", "label"),
        (check_tags, ["ok"] * 1 + [f"t{i}" for i in range(10)], "tags"),
        (check_tags, "not-a-list", "tags"),
        (check_query, "é" * 513, "query"),
        (check_search_limit, 0, "limit"),
        (check_search_limit, True, "limit"),
    ],
)
def test_limits_name_the_field(check: Any, value: Any, param: str) -> None:
    with pytest.raises(InvalidRequestError) as err:
        check(value)
    assert err.value.param == param


def test_tags_are_normalised() -> None:
    assert check_tags([" Ops ", "ops", "Team/Infra"]) == ["ops", "team/infra"]
    assert check_query("é" * 512) == "é" * 512
