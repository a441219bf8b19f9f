"""Ranked archival search whose cost does not grow with the tenant's number of passages.

1. One BatchGetItem reads the tenant's stats and each query term's document frequency.
2. A posting budget is shared among the terms, rarest first (a rare term's whole list is often
   smaller than its share; the rest goes to the common terms), and each term's postings are read
   from the top of its impact-ordered list with a bounded Query `Limit`.
3. Candidates are ranked by an upper bound of their BM25 score (exact for the terms whose postings
   were read, the last-read impact of each truncated list for the others) and fetched in batches;
   each is re-scored exactly from its own term frequencies with the live statistics. Fetching
   stops once the `limit`-th exact score beats every unfetched candidate's bound (the threshold
   algorithm) or at a fixed cap.

So a search reads at most `1 + MAX_QUERY_TERMS + posting_budget(limit) + fetch_cap(limit) +
TAG_BUDGET` items, whatever the tenant holds (see `max_items_read`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from heartbeat.memory import keys
from heartbeat.memory.archival import (
    PASSAGE_NAMES,
    PASSAGE_PROJECTION,
    is_live,
    passage_from_item,
    passage_terms,
)
from heartbeat.memory.ranking import idf, tf_factor
from heartbeat.memory.records import Passage
from heartbeat.memory.table import MemoryTable, get_n, get_s
from heartbeat.memory.tokens import query_terms

MAX_QUERY_TERMS = 16
MAX_LOOKUP_TERMS = 32
TAG_BUDGET = 100


def posting_budget(limit: int) -> int:
    return 300 + 6 * limit


def fetch_cap(limit: int) -> int:
    return max(100, 4 * limit)


def max_items_read(limit: int) -> int:
    """The most items one search can read: stats + df counters + postings + passages + tag items."""
    return 1 + MAX_LOOKUP_TERMS + posting_budget(limit) + fetch_cap(limit) + TAG_BUDGET


@dataclass
class _Candidate:
    pid: str
    partial: float = 0.0
    terms: set[str] = field(default_factory=set)
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Term:
    term: str
    df: int
    idf: float


def share_budget(dfs: Sequence[tuple[str, int]], budget: int) -> dict[str, int]:
    """Split `budget` postings among terms, rarest first: each takes what it needs (its df + 1,
    enough to see the end of its list) up to an equal share of what is left."""
    shares: dict[str, int] = {}
    remaining = budget
    ordered = sorted(dfs, key=lambda pair: (pair[1], pair[0]))
    for index, (term, df) in enumerate(ordered):
        fair = max(1, remaining // (len(ordered) - index))
        shares[term] = min(df + 1, fair)
        remaining -= shares[term]
    return shares


class Searcher:
    def __init__(self, table: MemoryTable) -> None:
        self._table = table

    def search(self, query: str, limit: int, tags: Sequence[str] = ()) -> list[Passage]:
        terms = query_terms(query)[:MAX_LOOKUP_TERMS]
        if not terms:
            return []
        counters = {
            item["sk"]["S"]: item
            for item in self._table.batch_get(
                [keys.STATS, *(keys.df_sk(t) for t in terms)], doing="searching memory"
            )
        }
        stats = counters.get(keys.STATS, {})
        passages = get_n(stats, "passages")
        if passages <= 0:
            return []
        avg_length = get_n(stats, "tokens") / passages
        known = [
            _Term(t, df, idf(passages, df))
            for t in terms
            if (df := get_n(counters.get(keys.df_sk(t), {}), "df")) > 0
        ]
        # The rarest terms carry the most weight; a long query keeps only its best terms.
        known = sorted(known, key=lambda t: -t.idf)[:MAX_QUERY_TERMS]
        if not known:
            return []
        idfs = {t.term: t.idf for t in known}
        wanted = frozenset(tags)

        candidates: dict[str, _Candidate] = {}
        tail_bound: dict[str, float] = {}  # the most a passage outside a truncated list can score
        shares = share_budget([(t.term, t.df) for t in known], posting_budget(limit))
        for t in known:
            items, more = self._table.query_prefix(
                keys.posting_prefix(t.term),
                doing="searching memory",
                limit=shares[t.term],
                projection="pid, tf, dl, tags",
                consistent=False,
            )
            for item in items:
                pid = get_s(item, "pid") or ""
                cand = candidates.get(pid)
                if cand is None:
                    cand = candidates[pid] = _Candidate(
                        pid, tags=frozenset(v["S"] for v in item.get("tags", {}).get("L", []))
                    )
                cand.partial += t.idf * tf_factor(get_n(item, "tf"), get_n(item, "dl"), avg_length)
                cand.terms.add(t.term)
            if more is not None and items:
                last = items[-1]
                tail_bound[t.term] = t.idf * tf_factor(get_n(last, "tf"), get_n(last, "dl"), avg_length)

        if wanted:
            candidates = {pid: c for pid, c in candidates.items() if wanted <= c.tags}
            if len(candidates) < limit:
                self._add_tagged(candidates, sorted(wanted)[0], wanted)

        def bound(c: _Candidate) -> float:
            return c.partial + sum(v for term, v in tail_bound.items() if term not in c.terms)

        ordered = sorted(candidates.values(), key=lambda c: (bound(c), c.pid), reverse=True)
        ordered = ordered[: fetch_cap(limit)]
        found: list[Passage] = []
        batch = max(limit, 20)
        for start in range(0, len(ordered), batch):
            group = ordered[start : start + batch]
            for item in self._table.batch_get(
                [keys.passage_sk(c.pid) for c in group],
                doing="searching memory",
                projection=PASSAGE_PROJECTION,
                names=PASSAGE_NAMES,
            ):
                if not is_live(item):
                    continue  # being written or deleted: never a result
                passage = passage_from_item(item)
                if not wanted <= set(passage.tags):
                    continue
                tfs = passage_terms(item)
                length = get_n(item, "length")
                score = sum(w * tf_factor(tfs.get(term, 0), length, avg_length) for term, w in idfs.items())
                if score > 0:
                    found.append(replace(passage, score=score))
            found.sort(key=lambda p: (-(p.score or 0.0), _newest_first(p.id)))
            rest = ordered[start + batch :]
            if len(found) >= limit and (not rest or (found[limit - 1].score or 0.0) >= bound(rest[0])):
                break
        return found[:limit]

    def _add_tagged(self, candidates: dict[str, _Candidate], tag: str, wanted: frozenset[str]) -> None:
        """With a tag filter, the term lists' tops may hold too few tagged passages: add the newest
        passages carrying the tag, to be scored exactly."""
        items, _ = self._table.query_prefix(
            keys.tag_prefix(tag),
            doing="searching memory",
            limit=TAG_BUDGET,
            newest_first=True,
            consistent=False,
        )
        for item in items:
            pid = get_s(item, "pid") or ""
            candidates.setdefault(pid, _Candidate(pid, tags=wanted))


def _newest_first(passage_id: str) -> list[int]:
    return [-ord(ch) for ch in passage_id]
