"""Bulk import of archival passages with BatchWriteItem (25 items a request, no transactions):
for seeding a tenant, migrations and the search benchmark.

Order: postings (or posting blocks) and tag items, then the document-frequency counters (one atomic
ADD per distinct term of the whole batch), then the passages as `live`, then the stats. A crash
part-way leaves postings whose passage does not exist (search ignores them) and counters slightly
high; it never makes a passage searchable that is not stored. Use `ArchivalMemory.insert` for
single writes.

In a block index (version 3) each chunk of passages takes a range of ordinals whose blocks no other
writer can touch: it reserves `len(chunk) + 2 * BLOCK` ordinals with one ADD on `stats.seq` and uses
the whole blocks inside that range, so its blocks are new items, written whole with plain puts,
while single inserts go on beside it. The unused ordinals are burned; they cost nothing (a block
exists only where a passage is).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from heartbeat.ids import new_id
from heartbeat.memory import index, keys
from heartbeat.memory.archival import LIVE, build_passage_item, build_posting_item
from heartbeat.memory.index import CURRENT, INDEX_ATTR, IndexVersion, is_new_tenant, write_versions
from heartbeat.memory.limits import check_passage_text, check_tags
from heartbeat.memory.records import Passage
from heartbeat.memory.table import Item, MemoryTable
from heartbeat.timeutil import iso, utcnow

_DOING = "importing passages"


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
    stats = table.get(keys.STATS, doing=_DOING)
    first = is_new_tenant(stats) and versions is None
    chosen = list(versions) if versions is not None else write_versions(stats)
    ids: list[str] = []
    passage_items: list[Item] = []
    counts: Counter[tuple[IndexVersion, str, str]] = Counter()  # (version, term, "df" | "nb")
    tokens = 0
    batch: list[tuple[str, Sequence[str] | None]] = []
    for pair in passages:
        batch.append(pair)
        if len(batch) >= chunk:
            tokens += _index_chunk(table, batch, chosen, ids, passage_items, counts)
            batch = []
    if batch:
        tokens += _index_chunk(table, batch, chosen, ids, passage_items, counts)
    by_counter: dict[str, Item] = {}
    for (version, term, name), count in counts.items():
        by_counter.setdefault(version.df_sk(term), {})[name] = count
    for sk, adds in by_counter.items():
        expression = "ADD " + ", ".join(f"{name} :{name}" for name in adds)
        table.update(sk, expression, doing=_DOING, values={f":{name}": v for name, v in adds.items()})
    table.put_many(passage_items, doing=_DOING)
    if ids:
        expression, values = "ADD passages :p, tokens :t", {":p": len(ids), ":t": tokens}
        if first:  # the tenant's first passages: its index starts on the current version
            expression += f" SET {INDEX_ATTR} = if_not_exists({INDEX_ATTR}, :v)"
            values[":v"] = CURRENT.number
        table.update(keys.STATS, expression, doing=_DOING, values=values)
    return ids


def reserve_ordinals(table: MemoryTable, count: int) -> int:
    """The first of `count` consecutive ordinals whose blocks hold no other passage's postings:
    whole blocks inside a range reserved with one ADD (see the module docstring)."""
    block = index.BLOCK
    span = count + 2 * block
    stats = table.update(keys.STATS, "ADD seq :n", doing=_DOING, values={":n": span}, returns="UPDATED_NEW")
    assert stats is not None
    end = int(stats["seq"])  # the reserved ordinals are end - span + 1 .. end
    return -(-(end - span + 1) // block) * block


def _index_chunk(
    table: MemoryTable,
    batch: list[tuple[str, Sequence[str] | None]],
    versions: Sequence[IndexVersion],
    ids: list[str],
    passage_items: list[Item],
    counts: Counter[tuple[IndexVersion, str, str]],
) -> int:
    """Write the postings and tag items of `batch`; collect its passage items and counts."""
    now = iso(utcnow())
    index_items: list[Item] = []
    blocks: dict[str, Item] = {}
    next_ordinal = reserve_ordinals(table, len(batch)) if any(v.blocks for v in versions) else None
    tokens = 0
    for text, tags in batch:
        check_passage_text(text)
        passage = Passage(
            id=new_id(keys.PASSAGE_ID_PREFIX), text=text, tags=tuple(check_tags(tags)), created_at=now
        )
        item, tfs, length = build_passage_item(passage, LIVE, versions, next_ordinal)
        passage_items.append(item)
        for version, version_tfs in tfs.items():
            for term, tf in version_tfs.items():
                counts[(version, term, "df")] += 1
                if version.blocks:
                    assert next_ordinal is not None
                    sk = version.block_sk(term, next_ordinal)
                    if sk not in blocks:
                        blocks[sk] = {"sk": sk, "tf": {}, "dl": {}}
                        counts[(version, term, "nb")] += 1
                    blocks[sk]["tf"][passage.id] = tf
                    blocks[sk]["dl"][passage.id] = length
                else:
                    index_items.append(
                        build_posting_item(version, term, passage.id, tf, length, passage.tags)
                    )
        for tag in passage.tags:
            index_items.append({"sk": keys.tag_sk(tag, passage.id), "pid": passage.id})
        tokens += length
        ids.append(passage.id)
        if next_ordinal is not None:
            next_ordinal += 1
    table.put_many([*index_items, *blocks.values()], doing=_DOING)
    return tokens
