"""Known-item search on real text (issue 19's measurement): docstring passages of the standard
library and installed packages (`bench.corpus`), each of 300 sampled passages sought by 2-4 of its
own most distinctive words (half the queries with a very common word added). Reported beside exact
BM25 over the same tokens (`BruteForceBM25`): how often each finds the source passage in its top 10,
how many answers equal BM25's top 10 exactly (ids and order), how many say they are exhaustive, and
the items read. The tenant's index is the current version, on the in-memory engine of
`bench.memory_search` (it counts items read as DynamoDB would)."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from typing import Any

PASSAGES = 18_700
QUERIES = 300


def measure(passages: int = PASSAGES, queries: int = QUERIES, seed: int = 19) -> dict[str, Any]:
    from bench.corpus import docstring_passages, package_modules, stdlib_modules
    from bench.memory_search import TABLE, TENANT, BruteForceBM25, ReadCounter, SortedTableClient
    from heartbeat.memory.store import MemoryStore
    from heartbeat.memory.tokens import query_terms, term_frequencies
    from heartbeat_cli.local.resources import create_table

    rng = random.Random(seed)
    started = time.perf_counter()
    corpus = docstring_passages(stdlib_modules() + package_modules())
    collected = len(corpus)
    texts = rng.sample(corpus, min(passages, collected))
    client = SortedTableClient()
    create_table(client, "MemoryTable", TABLE)
    store = MemoryStore(client, TABLE, TENANT)
    by_id = dict(zip(store.import_passages((t, None) for t in texts), texts, strict=True))
    load_s = time.perf_counter() - started
    reference = BruteForceBM25(by_id)
    df = Counter(t for text in texts for t in term_frequencies(text)[0])
    common = [
        w for w, _ in Counter(w for t in texts for w in t.lower().split() if w.isalpha()).most_common(40)
    ]

    counter = ReadCounter()
    client.meta.events.register("after-call.dynamodb", counter)
    found = bm25_found = equal = exhaustive = 0
    reads: list[int] = []
    # Passages with at least two searchable words (a few are all code or stop words).
    sought = [pid for pid in sorted(by_id) if len(_words(by_id[pid], query_terms)) >= 2]
    for pid in rng.sample(sought, queries):
        words = _words(by_id[pid], query_terms)
        distinctive = sorted(words, key=lambda w: (df[query_terms(w)[0]], w))[: rng.randint(2, 4)]
        query = " ".join(distinctive + ([rng.choice(common)] if rng.random() < 0.5 else []))
        before = counter.items
        result = store.search_result(query)
        reads.append(counter.items - before)
        got = [p.id for p in result.passages]
        want = [p for p, _ in reference.top(query, 10)]
        found += pid in got
        bm25_found += pid in want
        equal += got == want
        exhaustive += result.exhaustive
    client.meta.events.unregister("after-call.dynamodb", counter)
    return {
        "passages_collected": collected,
        "passages": len(by_id),
        "queries": queries,
        "source_in_top_10": round(found / queries, 3),
        "bm25_source_in_top_10": round(bm25_found / queries, 3),
        "top_10_equal_to_bm25": equal,
        "exhaustive": exhaustive,
        "items_read_max": max(reads),
        "items_read_median": statistics.median(reads),
        "load_seconds": round(load_s, 1),
        "within_budget": equal == queries,
        "budget": {"top_10_equal_to_bm25": queries},
    }


def _words(text: str, query_terms: Any) -> list[str]:
    return sorted({w for w in text.lower().split() if w.isalpha() and query_terms(w)})
