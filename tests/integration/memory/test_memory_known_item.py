"""Known-item search on text no one here wrote: passages from the standard library's docstrings,
each searched for by a few of its own distinctive words, sometimes with a very common word."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from heartbeat.memory.store import MemoryStore
from heartbeat.memory.tokens import query_terms, term_frequencies
from support.bm25 import exhaustive_bm25

MODULES = [
    "argparse", "bisect", "calendar", "collections", "configparser", "contextlib", "csv",
    "dataclasses", "datetime", "decimal", "difflib", "email.message", "enum", "fractions",
    "functools", "gzip", "hashlib", "heapq", "http.client", "inspect", "ipaddress", "itertools",
    "json", "logging", "pathlib", "pickle", "random", "shutil", "statistics", "string",
    "subprocess", "tarfile", "textwrap", "threading", "typing", "unittest", "urllib.parse",
    "uuid", "zipfile",
]  # fmt: skip
MAX_PASSAGES = 300


def docstring_passages() -> list[str]:
    """Paragraphs of the docstrings of these modules and their public members, deduplicated."""
    from bench.corpus import docstring_passages as collect

    return collect(MODULES)


@pytest.mark.slow
def test_a_passage_sought_by_its_own_words_is_found_as_bm25_finds_it(store_a: MemoryStore) -> None:
    rng = random.Random(19)
    texts = docstring_passages()
    assert len(texts) > MAX_PASSAGES  # the machine has the text this test needs
    texts = rng.sample(texts, MAX_PASSAGES)
    by_id = dict(zip(store_a.import_passages((t, None) for t in texts), texts, strict=True))
    df = Counter(t for text in texts for t in set(term_frequencies(text)[0]))
    common = [
        word
        for word, _ in Counter(w for t in texts for w in t.lower().split() if w.isalpha()).most_common(40)
    ]
    found = 0

    def searchable(text: str) -> list[str]:
        return sorted({w for w in text.lower().split() if w.isalpha() and query_terms(w)})

    # A passage sought by its words needs two of them (a few are all code or stop words).
    for pid in rng.sample([p for p in sorted(by_id) if len(searchable(by_id[p])) >= 2], 30):
        words = searchable(by_id[pid])
        distinctive = sorted(words, key=lambda w: (df[query_terms(w)[0]], w))[: rng.randint(2, 4)]
        query = " ".join(distinctive + ([rng.choice(common)] if rng.random() < 0.5 else []))
        result = store_a.search_result(query)
        want = exhaustive_bm25(by_id, query, 10, term_frequencies, query_terms)
        assert result.exhaustive, query
        assert [p.id for p in result.passages] == [p for p, _ in want], query
        found += pid in {p.id for p in result.passages}
    assert found >= 27  # the source passage is in the top 10 for nearly every query
