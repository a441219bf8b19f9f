"""Moving a tenant's archival index to the current version (`heartbeat.memory.index`) while it
stays searchable.

A tenant on an older version is searched in that version until the end; every passage stored
since this code runs is already indexed in both (`index.write_versions`). `reindex`:

1. backfills the current version for each live passage that lacks it: its postings and df
   increments (idempotent chunks, as an insert writes them), then its term map, set only if the
   passage is still live and still lacks it. If that fails (the passage is being deleted, or
   another reindex got there first) the postings it wrote are removed again unless the map is
   there, so a delete never leaves postings behind;
2. switches the tenant's `stats` to the current version in one update: from then on search reads
   it, and it already holds every passage;
3. removes the old version: each passage's old term map, then its postings and counters.

It is resumable: `max_passages` bounds one call's backfill and a later call goes on (passages
already done are skipped). Run it after every writer runs this code (a passage an older writer
stores during the backfill would be indexed in the old version only).
"""

from __future__ import annotations

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.memory import keys
from heartbeat.memory.archival import LIVE, ArchivalMemory, is_live, term_map
from heartbeat.memory.index import CURRENT, INDEX_ATTR, VERSIONS, IndexVersion, read_version
from heartbeat.memory.table import Item, MemoryTable, dependency_error, get_s, n, s
from heartbeat.memory.tokens import term_frequencies

PAGE = 100
_DOING = "reindexing memory"


def reindex(table: MemoryTable, archival: ArchivalMemory, *, max_passages: int | None = None) -> bool:
    """True once the tenant reads the current version and the old one is gone; False if
    `max_passages` backfills were done and more remain."""
    stats = table.get(keys.STATS, doing=_DOING)
    if stats is not None and read_version(stats) != CURRENT:
        if not _backfill(table, archival, max_passages):
            return False
        _update(table, keys.STATS, f"SET {INDEX_ATTR} = :v", {":v": n(CURRENT.number)})
    for old in VERSIONS.values():
        if old != CURRENT:
            _drop_version(table, old)
    return True


def _backfill(table: MemoryTable, archival: ArchivalMemory, max_passages: int | None) -> bool:
    names = {"#text": "text", "#tags": "tags", "#status": "status", "#cur": CURRENT.terms_attr}
    done = 0
    start: str | None = None
    while True:
        items, start = table.query_prefix(
            keys.PASSAGE,
            doing=_DOING,
            limit=PAGE,
            start_sk=start,
            projection="sk, #text, #tags, #status, #cur",
            names=names,
        )
        for item in items:
            if not is_live(item) or CURRENT.terms_attr in item:
                continue  # indexed already, or never searchable (its delete cleans up)
            if max_passages is not None and done >= max_passages:
                return False
            _backfill_one(table, archival, item)
            done += 1
        if start is None:
            return True


def _backfill_one(table: MemoryTable, archival: ArchivalMemory, item: Item) -> None:
    sk = item["sk"]["S"]
    pid = sk.removeprefix(keys.PASSAGE)
    tags = [v["S"] for v in item.get("tags", {}).get("L", [])]
    tfs, length = term_frequencies(get_s(item, "text") or "", CURRENT.number)
    archival.index_postings(CURRENT, pid, tfs, length, tags)
    try:
        table.client.update_item(
            TableName=table.name,
            Key=table.key(sk),
            UpdateExpression="SET #cur = :terms",
            ConditionExpression="#status = :live AND attribute_not_exists(#cur)",
            ExpressionAttributeNames={"#cur": CURRENT.terms_attr, "#status": "status"},
            ExpressionAttributeValues={":terms": term_map(tfs), ":live": s(LIVE)},
        )
    except AWS_ERRORS as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise dependency_error(exc, _DOING) from exc
        now = table.get(sk, doing=_DOING, projection="sk, " + CURRENT.terms_attr)
        if now is None or CURRENT.terms_attr not in now:
            archival.unindex_postings(CURRENT, pid, tfs, length)


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
                _update(table, item["sk"]["S"], f"REMOVE {old.terms_attr}", None)
        if start is None:
            break
    for prefix in (old.posting, old.df):
        while True:
            items, _ = table.query_prefix(prefix, doing=_DOING, limit=PAGE * 10, projection="sk")
            if not items:
                break
            table.batch_write(
                ({"DeleteRequest": {"Key": table.key(i["sk"]["S"])}} for i in items), doing=_DOING
            )


def _update(table: MemoryTable, sk: str, expression: str, values: Item | None) -> None:
    kwargs: Item = {"TableName": table.name, "Key": table.key(sk), "UpdateExpression": expression}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    try:
        table.client.update_item(**kwargs)
    except AWS_ERRORS as exc:
        raise dependency_error(exc, _DOING) from exc
