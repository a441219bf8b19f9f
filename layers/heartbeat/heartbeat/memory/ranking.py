"""BM25 arithmetic (Okapi, k1 = 1.2, b = 0.75) and the impact rank that orders postings.

A posting's sort key holds a rank computed once, at insert, from the passage alone: the BM25
term-frequency factor against a fixed reference length. It does not depend on tenant-wide numbers
(document frequency, average length) that change with every insert, so postings never need
rewriting, and within one term it orders passages as BM25 would (idf is the same for the whole
list; only the average length differs, which moves the order little). Search reads the top of
each list, then re-scores candidates exactly with the live statistics.
"""

from __future__ import annotations

import math

K1 = 1.2
B = 0.75
REFERENCE_LENGTH = 40.0
RANK_SCALE = 1_000_000


def idf(passages: int, df: int) -> float:
    """Lucene's non-negative BM25 idf."""
    n = max(passages, 1)
    d = min(max(df, 0), n)
    return math.log(1.0 + (n - d + 0.5) / (d + 0.5))


def tf_factor(tf: int, length: int, avg_length: float) -> float:
    """The BM25 term-frequency factor, in [0, K1 + 1)."""
    if tf <= 0:
        return 0.0
    norm = K1 * (1.0 - B + B * length / max(avg_length, 1.0))
    return tf * (K1 + 1.0) / (tf + norm)


def impact_rank(tf: int, length: int) -> int:
    """0 for the most relevant posting; larger is less relevant. Fits in 7 digits."""
    factor = tf_factor(tf, length, REFERENCE_LENGTH) / (K1 + 1.0)
    return RANK_SCALE - round(factor * RANK_SCALE)
