"""Pure parts of memory: tokenising, BM25 arithmetic, posting order, budget sharing, limits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heartbeat.errors import InvalidRequestError
from heartbeat.memory import keys
from heartbeat.memory.limits import check_label, check_query, check_search_limit, check_tags
from heartbeat.memory.ranking import RANK_SCALE, idf, impact_rank, tail_bound, tf_factor
from heartbeat.memory.search import max_items_read, share_budget
from heartbeat.memory.tokens import query_terms, stem, tokenize


def test_tokenize_lowercases_drops_stop_words_and_stems_plurals() -> None:
    assert tokenize("The Deploys of the QUERIES, and boxes!") == ["deploy", "queri", "box"]
    assert tokenize("Café MÜNCHEN 東京 2026") == ["café", "münchen", "東京", "2026"]
    assert query_terms("deploy deploys Deploy") == ["deploy"]


@pytest.mark.parametrize(
    ("plural", "singular"),
    [
        ("classes", "class"),
        ("matches", "match"),
        ("processes", "process"),
        ("addresses", "address"),
        ("boxes", "box"),
        ("queries", "query"),
        ("flies", "fly"),
        ("notes", "note"),
        ("statuses", "status"),
        ("indexes", "index"),
        ("policies", "policy"),
        ("deploys", "deploy"),
    ],
)
def test_plurals_and_singulars_stem_alike(plural: str, singular: str) -> None:
    assert stem(plural) == stem(singular)
    assert query_terms(f"{plural} {singular}") == [stem(singular)]


def test_the_legacy_stemmer_still_tokenises_version_1_indexes_as_it_did() -> None:
    assert tokenize("The Deploys of the QUERIES, and boxes!", version=1) == ["deploy", "query", "boxe"]
    text = "Classes of boxes, with their addresses and matches: 5 statuses."
    assert len(tokenize(text, version=1)) == len(tokenize(text, version=2))


@pytest.mark.parametrize("word", ["class", "status", "bus", "process", "address", "is"])
def test_stem_keeps_singulars_ending_in_s_whole(word: str) -> None:
    assert stem(word) == word


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


@given(
    st.integers(1, 400),
    st.integers(0, 2000),
    st.floats(1.0, 2000.0),
)
def test_tail_bound_is_never_below_an_unread_postings_live_factor(tf: int, extra: int, avg: float) -> None:
    length = tf + extra
    rank = impact_rank(tf, length)
    assert tf_factor(tf, length, avg) <= tail_bound(rank, avg)
    # ... including any posting ranked after it (lower reference factor)
    assert tail_bound(rank, avg) >= tail_bound(min(rank + 1000, RANK_SCALE), avg)


def test_tail_bound_covers_long_passages_that_the_reference_length_ranks_low() -> None:
    # Passages average 400 terms: a 400-term passage with 8 occurrences scores well above what
    # its reference-length rank says, and the bound still covers it.
    rank = impact_rank(8, 400)
    assert tf_factor(8, 400, 400.0) > tf_factor(8, 400, 40.0)
    assert tail_bound(rank, 400.0) >= tf_factor(8, 400, 400.0)


def test_budget_goes_to_common_terms_after_rare_ones_are_covered() -> None:
    shares = share_budget([("rare", 3), ("common", 50_000), ("mid", 40)], 360)
    assert shares["rare"] == 4 and shares["mid"] == 41
    assert shares["common"] == 360 - 4 - 41
    assert sum(share_budget([("a", 10**6)] * 1 + [("b", 10**6), ("c", 10**6)], 360).values()) <= 360
    assert max_items_read(10) <= 1000 and max_items_read(50) <= 1000


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
