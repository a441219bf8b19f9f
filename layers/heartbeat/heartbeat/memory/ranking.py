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


def tail_bound(rank: int, avg_length: float) -> float:
    """The most `tf_factor` (with the live `avg_length`) of any posting at `rank` or after it in
    its impact-ordered list: the exact ceiling of a truncated list's unread tail.

    The rank orders postings by their factor against `REFERENCE_LENGTH`, not the live average, so
    the last-read factor is not itself a bound: when passages are longer than the reference on
    average, a long passage with many occurrences ranks low but scores high. With `r` the
    reference factor's ceiling (as a fraction of K1 + 1), `q = 1/r - 1`, `rho = REFERENCE_LENGTH /
    avg_length` and `u = 1/tf`, every unread posting's live factor is `(K1 + 1) / (1 + h)` with
    `h >= max(a*u + rho*q, c*u + d)` (the first from its rank, the second from `length >= tf`;
    `a = K1(1-B)(1-rho)`, `c = K1(1-B)`, `d = rho*K1*B/REFERENCE_LENGTH`). That maximum of two
    lines in `u` is least at `u = 0`, `u = 1` or where they cross, so the bound takes the least of
    those.
    """
    ceiling = min((RANK_SCALE - rank + 0.5) / RANK_SCALE, 1.0)
    if ceiling <= 0:
        return 0.0
    q = 1.0 / ceiling - 1.0
    rho = REFERENCE_LENGTH / max(avg_length, 1.0)
    a, c, d = K1 * (1.0 - B) * (1.0 - rho), K1 * (1.0 - B), rho * K1 * B / REFERENCE_LENGTH

    def h(u: float) -> float:
        return max(a * u + rho * q, c * u + d)

    points = [0.0, 1.0]
    if a != c:
        crossing = (d - rho * q) / (a - c)
        if 0.0 < crossing < 1.0:
            points.append(crossing)
    least = min(h(u) for u in points)
    # Raised by a few ulps: the bound's own arithmetic rounds differently from `tf_factor`'s (a
    # posting with tf = length = 200 at average 1.0 scored 3e-16 above the unraised bound).
    return (K1 + 1.0) / (1.0 + least) * (1.0 + 1e-12)
