"""Moving a tenant's archival index to the current version (`heartbeat.memory.index`) while it
stays searchable.

A tenant on an older version is searched in that version until the end; every passage stored
since this code runs is already indexed in both (`index.write_versions`). `reindex`:

1. backfills the current version for each live passage that lacks it, oldest first: its ordinal
   (set on the passage before anything else, and only once, so a retried backfill reuses it and
   ordinals follow creation order), its postings and df increments (idempotent chunks, as an
   insert writes them), then its term map, set only if the passage is still live and still lacks
   it. If that fails (the passage is being deleted, or another reindex got there first) the
   postings it wrote are removed again unless the map is there, so a delete never leaves postings
   behind. The last passage done is remembered on `stats` (`reindex_sk`), so the next call starts
   after it instead of reading the done passages again;
2. switches the tenant's `stats` to the current version in one update: from then on search reads
   it, and it already holds every passage;
3. removes the old versions: each passage's old term maps, then their postings and counters.

It is resumable and idempotent: `max_passages` bounds one call's backfill and a later call goes on.
Nobody has to remember it: every insert for a tenant on an older version takes a bounded step
(`MemoryStore.insert_passage`), and `heartbeat memory reindex` runs it to the end for a tenant.
"""

from __future__ import annotations

from heartbeat.memory import keys
from heartbeat.memory.archival import LIVE, ArchivalMemory, is_live
from heartbeat.memory.index import CURRENT, INDEX_ATTR, VERSIONS, IndexVersion, read_version
from heartbeat.memory.table import Item, MemoryTable
from heartbeat.memory.tokens import term_frequencies

PAGE = 100
CURSOR_ATTR = "reindex_sk"
_DOING = "reindexing memory"


def reindex(table: MemoryTable, archival: ArchivalMemory, *, max_passages: int | None = None) -> bool:
    """True once the tenant reads the current version and the old ones are gone; False if
    `max_passages` backfills were done and more remain."""
    stats = table.get(keys.STATS, doing=_DOING)
    if stats is not None and read_version(stats) != CURRENT:
        if not _backfill(table, archival, max_passages, stats.get(CURSOR_ATTR)):
            return False
        table.update(
            keys.STATS,
            f"SET {INDEX_ATTR} = :v REMOVE {CURSOR_ATTR}",
            doing=_DOING,
            values={":v": CURRENT.number},
        )
    for old in VERSIONS.values():
        if old != CURRENT:
            _drop_version(table, old)
    return True


def _backfill(
    table: MemoryTable, archival: ArchivalMemory, max_passages: int | None, cursor: str | None
) -> bool:
    names = {"#text": "text", "#tags": "tags", "#status": "status", "#cur": CURRENT.terms_attr, "#o": "o"}
    done = 0
    start = cursor
    while True:
        items, start = table.query_prefix(
            keys.PASSAGE,
            doing=_DOING,
            limit=PAGE,
            start_sk=start,
            projection="sk, #text, #tags, #status, #cur, #o",
            names=names,
        )
        todo = [item for item in items if is_live(item) and CURRENT.terms_attr not in item]
        limited = max_passages is not None and len(todo) > max_passages - done
        if limited:
            assert max_passages is not None
            todo = todo[: max(max_passages - done, 0)]
        # Ordinals for the passages that have none yet, in creation order (one ADD a page).
        missing = sum("o" not in item for item in todo)
        next_ordinal = _reserve(table, missing) if missing else 0
        for item in todo:
            if "o" not in item:
                item["o"], next_ordinal = next_ordinal, next_ordinal + 1
            _backfill_one(table, archival, item)
            done += 1
        last = todo if limited else items  # a page done: the next call starts after it
        scanned = last[-1]["sk"] if last else None
        if scanned is not None and scanned != cursor:
            table.update(keys.STATS, f"SET {CURSOR_ATTR} = :sk", doing=_DOING, values={":sk": scanned})
            cursor = scanned
        if limited:
            return False
        if start is None:
            return True


def _reserve(table: MemoryTable, count: int) -> int:
    stats = table.update(keys.STATS, "ADD seq :n", doing=_DOING, values={":n": count}, returns="UPDATED_NEW")
    assert stats is not None
    return int(stats["seq"]) - count + 1


def _backfill_one(table: MemoryTable, archival: ArchivalMemory, item: Item) -> None:
    sk = item["sk"]
    pid = sk.removeprefix(keys.PASSAGE)
    names = {"#status": "status", "#o": "o"}
    # The ordinal first, once: a retry of this passage finds it and reuses it.
    if (
        table.update(
            sk,
            "SET #o = :o",
            doing=_DOING,
            condition="#status = :live AND (attribute_not_exists(#o) OR #o = :o)",
            names=names,
            values={":o": item["o"], ":live": LIVE},
        )
        is None
    ):
        now = table.get(sk, doing=_DOING, projection="sk, #status, #o", names=names)
        if now is None or not is_live(now) or "o" not in now:
            return  # being deleted: never searchable again
        item["o"] = now["o"]
    ordinal = int(item["o"])
    tfs, length = term_frequencies(item.get("text") or "", CURRENT.stemmer)
    archival.index_postings(CURRENT, pid, tfs, length, list(item.get("tags") or ()), ordinal)
    if (
        table.update(
            sk,
            "SET #cur = :terms",
            doing=_DOING,
            condition="#status = :live AND attribute_not_exists(#cur)",
            names={"#cur": CURRENT.terms_attr, "#status": "status"},
            values={":terms": tfs, ":live": LIVE},
        )
        is None
    ):
        now = table.get(sk, doing=_DOING, projection="sk, #cur", names={"#cur": CURRENT.terms_attr})
        if now is None or CURRENT.terms_attr not in now:
            archival.unindex_postings(CURRENT, pid, tfs, length, ordinal)


def _drop_version(table: MemoryTable, old: IndexVersion) -> None:
    """Remove `old`'s term maps from the passages, then its postings and counters (in that order,
    so a tenant with neither postings nor counters left has no maps left either)."""
    if not any(
        table.query_prefix(p, doing=_DOING, limit=1, projection="sk")[0] for p in (old.df, old.posting)
    ):
        return
    start: str | None = None
    while True:
        items, start = table.query_prefix(
            keys.PASSAGE, doing=_DOING, limit=PAGE, start_sk=start, projection="sk, " + old.terms_attr
        )
        for item in items:
            if old.terms_attr in item:
                table.update(item["sk"], f"REMOVE {old.terms_attr}", doing=_DOING)
        if start is None:
            break
    for prefix in (old.posting, old.df):
        while True:
            items, _ = table.query_prefix(prefix, doing=_DOING, limit=PAGE * 10, projection="sk")
            if not items:
                break
            table.delete_many((i["sk"] for i in items), doing=_DOING)
