"""Exhaustive BM25, written out independently of `heartbeat.memory.search`: the reference that
search's results are checked against (ties broken newest first, as search breaks them)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable


def exhaustive_bm25(
    texts: dict[str, str],
    query: str,
    limit: int,
    term_frequencies: Callable[[str], tuple[dict[str, int], int]],
    query_terms: Callable[[str], list[str]],
) -> list[tuple[str, float]]:
    """BM25's top `limit` `(id, score)` over every passage, scoring every one of them."""
    k1, b = 1.2, 0.75
    docs = {pid: term_frequencies(text) for pid, text in texts.items()}
    n = len(docs)
    if n == 0:
        return []
    avg = sum(length for _, length in docs.values()) / n
    df = Counter(t for tfs, _ in docs.values() for t in tfs)
    weights = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in query_terms(query) if df[t]}
    terms = sorted(weights, key=lambda t: (-weights[t], t))[:16]
    scores = {}
    for pid, (tfs, length) in docs.items():
        score = 0.0
        for term in terms:
            tf = tfs.get(term, 0)
            score += weights[term] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / max(avg, 1.0)))
        if score > 0:
            scores[pid] = score
    newest_first = sorted(scores, reverse=True)
    order = {pid: i for i, pid in enumerate(newest_first)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))[:limit]
