"""Ranked archival search: exactly BM25's top `limit`, reading a bounded number of items.

One BatchGetItem reads the tenant's stats and each query term's counter (the stats say which index
version to read, `heartbeat.memory.index`; a tenant still on an older version costs a second
BatchGetItem for that version's counters). Then, by version:

- Version 3 (blocks, `_BlockSearch`): each term's whole posting list is a few block items (the
  counter says how many), read rarest first while they fit in the budget; every passage seen is
  scored exactly, and the best are fetched to confirm they are live (and carry the wanted tags).
  When every list was read the answer is exact. When one was not, the candidates are re-scored
  exactly from their term maps, and the answer is exhaustive only if the unread lists' greatest
  possible contribution cannot lift any other passage over the `limit`-th score.
- Versions 1 and 2 (a posting an item, `_Search`): the threshold algorithm over impact-ordered
  lists with WAND-style tail bounds (`ranking.tail_bound`), reading more of the list with the
  largest tail until the `limit`-th exact score is above every open bound.

Every read is capped by what is left of `READ_BUDGET`. A search that runs out before it is settled
returns the best it has found, with `exhaustive=False`. So a search reads at most `READ_BUDGET`
items (`max_items_read`) whatever the tenant holds, and when it says it is exhaustive its results
are BM25's top `limit` over the same tokens, ties broken newest first.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from heartbeat.memory import keys
from heartbeat.memory.archival import (
    LIST_NAMES,
    is_live,
    passage_from_item,
    passage_names,
    passage_terms,
)
from heartbeat.memory.index import CURRENT, IndexVersion, read_version
from heartbeat.memory.ranking import K1, idf, tail_bound, tf_factor
from heartbeat.memory.records import Passage
from heartbeat.memory.table import Item, MemoryTable
from heartbeat.memory.tokens import query_terms

MAX_QUERY_TERMS = 16
MAX_LOOKUP_TERMS = 32
TAG_BUDGET = 100
READ_BUDGET = 1000  # items one search may read: 1% of a 100,000-passage tenant
MORE_POSTINGS = 200  # each further read of a list
SLACK = 1e-9  # bounds are raised by this fraction, so float rounding never settles a tie early


def posting_budget(limit: int) -> int:
    """Postings read before the first fetch, shared among the terms."""
    return 300 + 6 * limit


def fetch_reserve(limit: int) -> int:
    """The part of the budget kept for fetching: when only this much is left, a search stops
    reading postings and fetches its likeliest candidates."""
    return 4 * limit + 60


def max_items_read(limit: int) -> int:
    """The most items one search can read, whatever the tenant holds."""
    return READ_BUDGET


@dataclass(frozen=True)
class SearchResult:
    passages: list[Passage]
    exhaustive: bool  # False: the read budget ran out before the top `limit` was certain


@dataclass
class _Candidate:
    pid: str
    partial: float = 0.0  # exact contributions of the lists it was seen in
    terms: set[str] = field(default_factory=set)
    tags: frozenset[str] = frozenset()


@dataclass
class _List:
    term: str
    df: int
    idf: float
    share: int = 0
    start: str | None = None  # the sk to continue from
    done: bool = False
    tail: float = 0.0  # idf x the most any unread posting's factor can be
    blocks: int = 0  # a block index's items holding the list (the counter's `nb`)


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


def _rank_order(passage: Passage) -> tuple[float, list[int]]:
    """Best first; equal scores newest first (ids are ULIDs)."""
    return (-(passage.score or 0.0), [-ord(ch) for ch in passage.id])


@dataclass
class _Lists:
    """What both kinds of search start from: the query's lists, the live average length, and the
    read budget (it ends when the table has read `budget_end` items)."""

    table: MemoryTable
    version: IndexVersion
    lists: list[_List]
    avg_length: float
    limit: int
    wanted: frozenset[str]
    budget_end: int
    reads: Reads

    def left(self) -> int:
        return self.budget_end - self.table.items_read


@dataclass
class _Search(_Lists):
    """One search of an impact-ordered index (versions 1 and 2): the candidates, the passages
    scored so far."""

    candidates: dict[str, _Candidate] = field(default_factory=dict)
    universe: set[str] | None = None  # with a tag filter read to its end: every tagged id
    found: list[Passage] = field(default_factory=list)
    fetched: set[str] = field(default_factory=set)

    # -- reading ----------------------------------------------------------------------------------

    def read_list(self, lst: _List, count: int) -> None:
        items, lst.start = self.table.query_prefix(
            self.version.posting_prefix(lst.term),
            doing="searching memory",
            limit=count,
            start_sk=lst.start,
            projection="sk, pid, tf, dl, tags",
            consistent=False,
        )
        for item in items:
            pid = item.get("pid") or ""
            tags = frozenset(item.get("tags") or ())
            if (
                pid in self.fetched
                or not self.wanted <= tags
                or (self.universe is not None and pid not in self.universe)
            ):
                continue
            cand = self.candidates.get(pid)
            if cand is None:
                cand = self.candidates[pid] = _Candidate(pid, tags=tags)
            if lst.term not in cand.terms:
                cand.partial += lst.idf * tf_factor(int(item["tf"]), int(item["dl"]), self.avg_length)
                cand.terms.add(lst.term)
        if lst.start is None:
            lst.done, lst.tail = True, 0.0
        elif items:
            rank = int(items[-1]["sk"].rsplit("#", 2)[1])
            lst.tail = lst.idf * tail_bound(rank, self.avg_length)

    def read_tagged(self) -> None:
        """With a tag filter, the newest tagged passages become candidates; if that is all of
        them, no other passage can qualify."""
        tag = sorted(self.wanted)[0]
        items, more = self.table.query_prefix(
            keys.tag_prefix(tag),
            doing="searching memory",
            limit=min(TAG_BUDGET, self.left()),
            newest_first=True,
            consistent=False,
        )
        pids = [item.get("pid") or "" for item in items]
        for pid in pids:
            self.candidates.setdefault(pid, _Candidate(pid, tags=self.wanted))
        if more is None:
            self.universe = set(pids)
            self.candidates = {pid: c for pid, c in self.candidates.items() if pid in self.universe}

    def fetch(self, group: list[_Candidate]) -> None:
        names = passage_names(self.version)
        for item in self.table.batch_get(
            [keys.passage_sk(c.pid) for c in group],
            doing="searching memory",
            projection=", ".join(names),
            names=names,
        ):
            passage = self._scored(item)
            if passage is not None:
                self.found.append(passage)
        for cand in group:
            self.fetched.add(cand.pid)
            del self.candidates[cand.pid]
        self.found.sort(key=_rank_order)
        del self.found[self.limit :]

    def _scored(self, item: Item) -> Passage | None:
        if not is_live(item):
            return None  # being written or deleted: never a result
        passage = passage_from_item(item)
        if not self.wanted <= set(passage.tags):
            return None
        tfs = passage_terms(item, self.version)
        length = int(item.get("length", 0))
        score = sum(lst.idf * tf_factor(tfs.get(lst.term, 0), length, self.avg_length) for lst in self.lists)
        return replace(passage, score=score) if score > 0 else None

    # -- bounds -----------------------------------------------------------------------------------

    def unseen_bound(self) -> float:
        """The most a passage seen in no list read so far can score."""
        if self.universe is not None:  # every tagged passage is a candidate or scored already
            return 0.0
        return sum(lst.tail for lst in self.lists) * (1 + SLACK)

    def bound(self, cand: _Candidate) -> float:
        missing = sum(lst.tail for lst in self.lists if lst.term not in cand.terms)
        return (cand.partial + missing) * (1 + SLACK)

    def threshold(self) -> float | None:
        """What a passage must beat to enter the results: None while there are fewer than
        `limit`, when any positive score would."""
        return self.found[-1].score if len(self.found) >= self.limit else None

    # -- the loop ---------------------------------------------------------------------------------

    def run(self) -> bool:
        """Read and fetch until the top `limit` is settled (True) or the budget is spent (False)."""
        first = self.reads.first_postings or posting_budget(self.limit)
        shares = share_budget([(lst.term, lst.df) for lst in self.lists], first)
        for lst in self.lists:
            self.read_list(lst, max(1, min(shares[lst.term], self.left())))
        if self.wanted:
            self.read_tagged()
        batch = max(self.limit, 20)
        reserve = min(fetch_reserve(self.limit), self.reads.budget // 4)
        while True:
            theta = self.threshold()

            def open_(value: float, theta: float | None = theta) -> bool:
                return value > 0 if theta is None else value >= theta

            unseen = self.unseen_bound()
            best = heapq.nlargest(batch, self.candidates.values(), key=lambda c: (self.bound(c), c.pid))
            pending = [c for c in best if open_(self.bound(c))]
            if not pending and not open_(unseen):
                return True
            room = self.left()
            if room <= 0:
                return False
            unfinished = [lst for lst in self.lists if not lst.done]
            if room <= reserve and pending:
                # Too little left to settle: fetch the likeliest results, most certain first.
                likeliest = heapq.nlargest(
                    room, self.candidates.values(), key=lambda c: (c.partial, self.bound(c), c.pid)
                )
                self.fetch([c for c in likeliest if open_(self.bound(c))][:batch])
            elif pending and (len(pending) >= batch or not unfinished or not open_(unseen)):
                # A full batch, or all that is left to settle: one round trip for many.
                self.fetch(pending[:room])
            else:
                widest = max(unfinished, key=lambda lst: lst.tail)
                # Outside the reserve, or nothing left to fetch: read on, never a posting at a time.
                count = room - reserve if room > reserve else room
                self.read_list(widest, min(self.reads.more_postings, count))


@dataclass(frozen=True)
class Reads:
    """How a search spends its reads (the defaults serve the API; tests shrink them to exercise
    the continued reads and the stopping rule on small corpora)."""

    budget: int = READ_BUDGET
    first_postings: int | None = None  # default: posting_budget(limit)
    more_postings: int = MORE_POSTINGS


class Searcher:
    def __init__(self, table: MemoryTable, reads: Reads | None = None) -> None:
        self._table = table
        self._reads = reads or Reads()

    def search(self, query: str, limit: int, tags: Sequence[str] = ()) -> SearchResult:
        budget_end = self._table.items_read + self._reads.budget
        version = CURRENT
        terms = query_terms(query, version.stemmer)[:MAX_LOOKUP_TERMS]
        counters = self._counters(version, terms, with_stats=True)
        stats = counters.get(keys.STATS)
        if stats is None or int(stats.get("passages", 0)) <= 0:
            return SearchResult([], exhaustive=True)
        if read_version(stats) != version:  # a tenant not yet reindexed
            version = read_version(stats)
            terms = query_terms(query, version.stemmer)[:MAX_LOOKUP_TERMS]
            counters = self._counters(version, terms, with_stats=False)
        passages = int(stats["passages"])
        avg_length = int(stats.get("tokens", 0)) / passages
        known = [(t, counters[version.df_sk(t)]) for t in terms if version.df_sk(t) in counters]
        lists = [
            _List(t, df, idf(passages, df), blocks=int(counter.get("nb", 0)))
            for t, counter in known
            if (df := int(counter.get("df", 0))) > 0
        ]
        # The rarest terms carry the most weight; a long query keeps only its best terms.
        lists = sorted(lists, key=lambda lst: (-lst.idf, lst.term))[:MAX_QUERY_TERMS]
        if not lists:
            return SearchResult([], exhaustive=True)
        if version.blocks:
            blocks = _BlockSearch(
                self._table, version, lists, avg_length, limit, frozenset(tags), budget_end, self._reads
            )
            return blocks.run()
        state = _Search(
            self._table, version, lists, avg_length, limit, frozenset(tags), budget_end, self._reads
        )
        exhaustive = state.run()
        return SearchResult(state.found[:limit], exhaustive)

    def _counters(self, version: IndexVersion, terms: list[str], *, with_stats: bool) -> dict[str, Item]:
        sks = [version.df_sk(t) for t in terms]
        return {
            item["sk"]: item
            for item in self._table.batch_get(
                [keys.STATS, *sks] if with_stats else sks, doing="searching memory"
            )
        }


@dataclass
class _BlockSearch(_Lists):
    """One search of a block index (version 3): whole posting lists, scored exactly.

    1. The lists are read whole, rarest first, while their blocks (the counters' `nb`) fit in what
       is left of the budget beyond a reserve for fetching; a list that does not fit is unread.
    2. Every passage seen is scored from the postings read. With every list read these scores are
       exact BM25; otherwise they are partial, and an unread list can add at most its
       `idf * (K1 + 1)` (`unread`, the same for every passage).
    3. Candidates are fetched best first (ties newest first), confirmed `live` and carrying the
       wanted tags, and, with unread lists, re-scored exactly from their term maps, until the
       `limit`-th score is above the next candidate's bound. The answer is exhaustive when no
       passage seen in no list read can reach that score either (`unread` below it), or every list
       was read.
    """

    scores: dict[str, float] = field(default_factory=dict)

    def read_list(self, lst: _List, cap: int) -> bool:
        """Add the list's contributions to `scores`; False if `cap` items ran out first."""
        start: str | None = None
        idf_, avg, scores = lst.idf, self.avg_length, self.scores
        while True:
            items, start = self.table.query_prefix(
                self.version.posting_prefix(lst.term),
                doing="searching memory",
                limit=cap,
                start_sk=start,
                projection="#tf, #dl",
                names={"#tf": "tf", "#dl": "dl"},
                consistent=False,
                fast=True,
            )
            cap -= len(items)
            for block in items:
                lengths = block.get("dl") or {}
                for pid, tf in (block.get("tf") or {}).items():
                    scores[pid] = scores.get(pid, 0.0) + idf_ * tf_factor(tf, lengths[pid], avg)
            if start is None:
                return True
            if cap <= 0:
                return False

    def read_tagged(self) -> set[str] | None:
        """The ids carrying the filter's first tag, if they fit in `TAG_BUDGET` items."""
        tag = sorted(self.wanted)[0]
        items, more = self.table.query_prefix(
            keys.tag_prefix(tag),
            doing="searching memory",
            limit=max(1, min(TAG_BUDGET, self.left())),
            newest_first=True,
            projection="pid",
            consistent=False,
        )
        return {item["pid"] for item in items} if more is None else None

    def run(self) -> SearchResult:
        reserve = min(fetch_reserve(self.limit), self.reads.budget // 4)
        universe = self.read_tagged() if self.wanted else None
        unread = 0.0
        for lst in self.lists:
            room = self.left() - reserve
            if lst.blocks > room or not self.read_list(lst, room):
                unread += lst.idf * (K1 + 1.0)
        exact = unread == 0.0
        scores = self.scores
        if universe is not None:
            scores = {pid: score for pid, score in scores.items() if pid in universe}
        # Best first, equal scores newest first (ids are ULIDs): the order of the answer.
        order = sorted(scores.items(), key=lambda pair: (pair[1], pair[0]), reverse=True)
        names = LIST_NAMES if exact else passage_names(self.version)
        projection = ", ".join(names)
        found: list[Passage] = []
        position = 0
        batch = self.limit
        while True:
            theta = found[self.limit - 1].score if len(found) >= self.limit else None
            if theta is not None and exact:
                return SearchResult(found, exhaustive=True)  # the rest rank below, ties included
            if position >= len(order) or (
                theta is not None and (order[position][1] + unread) * (1 + SLACK) < theta
            ):
                settled = exact or (theta is not None and unread * (1 + SLACK) < theta)
                return SearchResult(found, exhaustive=settled)
            room = self.left()
            if room <= 0:
                return SearchResult(found, exhaustive=False)
            group = order[position : position + min(batch, room)]
            position += len(group)
            batch = max(self.limit, 25)
            fetched = {
                item.get("id"): item
                for item in self.table.batch_get(
                    [keys.passage_sk(pid) for pid, _ in group],
                    doing="searching memory",
                    projection=projection,
                    names=names,
                    consistent=False,
                )
            }
            for pid, partial in group:
                item = fetched.get(pid)
                if item is None or not is_live(item) or not self.wanted <= set(item.get("tags") or ()):
                    continue  # being written or deleted, or without the tags: never a result
                score = partial if exact else self._exact(item)
                found.append(passage_from_item(item, score))
            found.sort(key=_rank_order)
            del found[self.limit :]

    def _exact(self, item: Item) -> float:
        tfs = passage_terms(item, self.version)
        length = int(item.get("length", 0))
        return sum(lst.idf * tf_factor(tfs.get(lst.term, 0), length, self.avg_length) for lst in self.lists)
