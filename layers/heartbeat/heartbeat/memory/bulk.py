"""Bulk import of archival passages with BatchWriteItem (25 items a request, no transactions):
for seeding a tenant, migrations and the search benchmark.

Order: postings and tag items, then the document-frequency counters (one atomic ADD per distinct
term of the whole batch), then the passages as `live`, then the stats. A crash part-way leaves
postings whose passage does not exist (search ignores them) and counters slightly high; it never
makes a passage searchable that is not stored. Use `ArchivalMemory.insert` for single writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from heartbeat.dal.dynamo import AWS_ERRORS
from heartbeat.ids import new_id
from heartbeat.memory import keys
from heartbeat.memory.archival import LIVE, build_passage_item, build_posting_item
from heartbeat.memory.index import CURRENT, INDEX_ATTR, IndexVersion, write_versions
from heartbeat.memory.limits import check_passage_text, check_tags
from heartbeat.memory.records import Passage
from heartbeat.memory.table import Item, MemoryTable, dependency_error, n
from heartbeat.timeutil import iso, utcnow


def import_passages(
    table: MemoryTable,
    passages: Iterable[tuple[str, Sequence[str] | None]],
    *,
    chunk: int = 2000,
    versions: Sequence[IndexVersion] | None = None,
) -> list[str]:
    """Store `(text, tags)` pairs; the new passage ids, in order. Index items are written chunk by
    chunk; the passage items wait (in memory) until every counter is in place. `versions`: the
    index versions to write (default: those the tenant needs, `index.write_versions`)."""
    stats = table.get(keys.STATS, doing="importing passages")
    first = stats is None and versions is None
    chosen = list(versions) if versions is not None else write_versions(stats)
    ids: list[str] = []
    passage_items: list[Item] = []
    df: Counter[tuple[IndexVersion, str]] = Counter()
    tokens = 0
    batch: list[tuple[str, Sequence[str] | None]] = []
    for pair in passages:
        batch.append(pair)
        if len(batch) >= chunk:
            tokens += _index_chunk(table, batch, chosen, ids, passage_items, df)
            batch = []
    if batch:
        tokens += _index_chunk(table, batch, chosen, ids, passage_items, df)
    for (version, term), count in df.items():
        _add(table, version.df_sk(term), "ADD df :d", {":d": n(count)})
    table.batch_write(({"PutRequest": {"Item": i}} for i in passage_items), doing="importing passages")
    if ids:
        expression, values = "ADD passages :p, tokens :t", {":p": n(len(ids)), ":t": n(tokens)}
        if first:  # the tenant's first passages: its index starts on the current version
            expression += f" SET {INDEX_ATTR} = if_not_exists({INDEX_ATTR}, :v)"
            values[":v"] = n(CURRENT.number)
        _add(table, keys.STATS, expression, values)
    return ids


def _index_chunk(
    table: MemoryTable,
    batch: list[tuple[str, Sequence[str] | None]],
    versions: Sequence[IndexVersion],
    ids: list[str],
    passage_items: list[Item],
    df: Counter[tuple[IndexVersion, str]],
) -> int:
    """Write the postings and tag items of `batch`; collect its passage items and counts."""
    now = iso(utcnow())
    index_items: list[Item] = []
    tokens = 0
    for text, tags in batch:
        check_passage_text(text)
        passage = Passage(
            id=new_id(keys.PASSAGE_ID_PREFIX), text=text, tags=tuple(check_tags(tags)), created_at=now
        )
        item, tfs, length = build_passage_item(table, passage, LIVE, versions)
        passage_items.append(item)
        for version, version_tfs in tfs.items():
            for term, tf in version_tfs.items():
                index_items.append(
                    build_posting_item(table, version, term, passage.id, tf, length, passage.tags)
                )
            df.update((version, term) for term in version_tfs)
        for tag in passage.tags:
            index_items.append(table.item(keys.tag_sk(tag, passage.id), pid={"S": passage.id}))
        tokens += length
        ids.append(passage.id)
    table.batch_write(({"PutRequest": {"Item": i}} for i in index_items), doing="importing passages")
    return tokens


def _add(table: MemoryTable, sk: str, expression: str, values: dict[str, dict[str, str]]) -> None:
    try:
        table.client.update_item(
            TableName=table.name,
            Key=table.key(sk),
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )
    except AWS_ERRORS as exc:
        raise dependency_error(exc, "importing passages") from exc
