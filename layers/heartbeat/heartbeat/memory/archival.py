"""Archival memory: passages and the index that finds them, kept consistent on insert and delete.

The passage item is the source of truth, and its `status` says whether search may return it:

- insert: put the passage as `indexing` -> write its postings, each chunk of up to 50 terms in one
  transaction with its document-frequency increments (`ADD`, so concurrent inserts never lose a
  count; each posting `Put` is conditional, so a retried chunk is skipped, not counted twice) ->
  tag items -> one transaction flips the passage to `live` and adds it to the tenant's stats.
- delete: one transaction flips `live` to `deleting` and takes it out of the stats; from then on
  search and get ignore it -> postings are removed with their decrements (conditional on the
  posting existing, so a retry never decrements twice) -> tag items -> the passage item.

Search only returns passages it has re-read as `live`, so a crash at any step never makes a deleted
passage (or half an insert) searchable, and a retried delete finishes the clean-up.

The same text inserted again by the same source (a task, or the API) is not stored twice: a
marker item `same#{source}#{sha256(text)}`, put conditionally before the passage, names the passage
that holds it, and the insert answers that passage (`existing=True`). A marker whose passage has
gone (deleted, or an insert that failed) is taken over by the next insert.

A passage is indexed in every version the tenant needs (`heartbeat.memory.index`: the one search
reads and the current one), each with its own term map on the passage item; delete removes the
postings of every map the item holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from heartbeat.dal.dynamo import AWS_ERRORS, cancellation_codes, error_code
from heartbeat.errors import ConflictError, DependencyError, InvalidRequestError, NotFoundError
from heartbeat.ids import new_id
from heartbeat.memory import keys
from heartbeat.memory.index import CURRENT, INDEX_ATTR, VERSIONS, IndexVersion, write_versions
from heartbeat.memory.limits import MAX_SEARCH_LIMIT, check_passage_text, check_tags
from heartbeat.memory.ranking import impact_rank
from heartbeat.memory.records import Passage
from heartbeat.memory.table import (
    Item,
    MemoryTable,
    dependency_error,
    get_n,
    get_s,
    n,
    s,
)
from heartbeat.memory.tokens import term_frequencies
from heartbeat.timeutil import iso, utcnow

LIVE = "live"
INDEXING = "indexing"
DELETING = "deleting"

TERMS_PER_TRANSACTION = 50  # two actions per term, under DynamoDB's 100
PASSAGE_ID_LENGTH = len(keys.PASSAGE_ID_PREFIX) + 1 + 26

# What listing reads of a passage (all but its term map), and what search adds to re-score it.
LIST_NAMES = {
    "#id": "id",
    "#text": "text",
    "#tags": "tags",
    "#created": "created_at",
    "#run": "run_id",
    "#task": "task_id",
    "#status": "status",
}
LIST_PROJECTION = ", ".join(LIST_NAMES)


def passage_names(version: IndexVersion) -> dict[str, str]:
    """What search reads of a passage to return and re-score it in `version`."""
    return {**LIST_NAMES, "#terms": version.terms_attr, "#length": "length"}


def passage_from_item(item: Item, score: float | None = None) -> Passage:
    tags = tuple(v["S"] for v in item.get("tags", {}).get("L", []))
    return Passage(
        id=get_s(item, "id") or item["sk"]["S"].removeprefix(keys.PASSAGE),
        text=get_s(item, "text") or "",
        tags=tags,
        created_at=get_s(item, "created_at") or "",
        run_id=get_s(item, "run_id"),
        task_id=get_s(item, "task_id"),
        score=score,
    )


def passage_terms(item: Item, version: IndexVersion) -> dict[str, int]:
    return {term: int(v["N"]) for term, v in item.get(version.terms_attr, {}).get("M", {}).items()}


def indexed_versions(item: Item) -> list[IndexVersion]:
    """The versions whose postings the passage item says were written."""
    return [v for v in VERSIONS.values() if v.terms_attr in item]


def term_map(tfs: dict[str, int]) -> Item:
    return {"M": {term: n(tf) for term, tf in tfs.items()}}


def is_live(item: Item) -> bool:
    return get_s(item, "status") == LIVE


def build_passage_item(
    table: MemoryTable, passage: Passage, status: str, versions: Sequence[IndexVersion]
) -> tuple[Item, dict[IndexVersion, dict[str, int]], int]:
    """The passage item, its term frequencies in each of `versions` and its length in terms (the
    same in every version)."""
    tfs: dict[IndexVersion, dict[str, int]] = {}
    length = 0
    for version in versions:
        tfs[version], length = term_frequencies(passage.text, version.number)
    item = table.item(
        keys.passage_sk(passage.id),
        id=s(passage.id),
        text=s(passage.text),
        created_at=s(passage.created_at),
        status=s(status),
        length=n(length),
        **{version.terms_attr: term_map(version_tfs) for version, version_tfs in tfs.items()},
    )
    if passage.tags:
        item["tags"] = {"L": [s(tag) for tag in passage.tags]}
    if passage.run_id:
        item["run_id"] = s(passage.run_id)
    if passage.task_id:
        item["task_id"] = s(passage.task_id)
    return item, tfs, length


def build_posting_item(
    table: MemoryTable,
    version: IndexVersion,
    term: str,
    passage_id: str,
    tf: int,
    length: int,
    tags: Sequence[str],
) -> Item:
    item = table.item(
        version.posting_sk(term, impact_rank(tf, length), passage_id),
        pid=s(passage_id),
        tf=n(tf),
        dl=n(length),
    )
    if tags:
        item["tags"] = {"L": [s(tag) for tag in tags]}
    return item


def _chunks(terms: Sequence[str]) -> list[Sequence[str]]:
    return [terms[i : i + TERMS_PER_TRANSACTION] for i in range(0, len(terms), TERMS_PER_TRANSACTION)]


def _only_condition_failures(exc: Exception) -> bool:
    codes = cancellation_codes(exc)
    return (
        error_code(exc) == "TransactionCanceledException"
        and "ConditionalCheckFailed" in codes
        and all(code in {"None", "ConditionalCheckFailed"} for code in codes)
    )


class ArchivalMemory:
    def __init__(self, table: MemoryTable) -> None:
        self._table = table

    # -- insert ---------------------------------------------------------------------------------

    def insert(
        self,
        text: str,
        tags: Sequence[str] | None = None,
        *,
        run_id: str | None = None,
        task_id: str | None = None,
    ) -> Passage:
        check_passage_text(text)
        clean_tags = tuple(check_tags(tags))
        passage = Passage(
            id=new_id(keys.PASSAGE_ID_PREFIX),
            text=text,
            tags=clean_tags,
            created_at=iso(utcnow()),
            run_id=run_id,
            task_id=task_id,
        )
        existing = self._claim_text(keys.same_text_sk(task_id, text), passage.id)
        if existing is not None:
            return existing
        stats = self._table.get(keys.STATS, doing="storing the passage")
        item, tfs, length = build_passage_item(self._table, passage, INDEXING, write_versions(stats))
        try:
            self._table.client.put_item(
                TableName=self._table.name, Item=item, ConditionExpression="attribute_not_exists(sk)"
            )
        except AWS_ERRORS as exc:
            raise dependency_error(exc, "storing the passage") from exc
        try:
            for version, version_tfs in tfs.items():
                self.index_postings(version, passage.id, version_tfs, length, passage.tags)
            self._table.batch_write(
                ({"PutRequest": {"Item": self._tag_item(tag, passage.id)}} for tag in passage.tags),
                doing="tagging the passage",
            )
            self._commit(passage.id, length, first=stats is None)
        except DependencyError:
            # Best effort: undo what was indexed. If this fails too, the passage stays
            # `indexing` (never searchable) and a delete of its id finishes the job.
            self._purge(passage.id)
            raise
        return passage

    def _claim_text(self, marker_sk: str, passage_id: str) -> Passage | None:
        """Point the text's marker at `passage_id`, or answer the passage it already names."""
        marker = {**self._table.key(marker_sk), "pid": s(passage_id)}
        try:
            self._table.client.put_item(
                TableName=self._table.name, Item=marker, ConditionExpression="attribute_not_exists(sk)"
            )
            return None
        except AWS_ERRORS as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise dependency_error(exc, "storing the passage") from exc
        held = self._table.get(marker_sk, doing="storing the passage")
        holder = get_s(held, "pid") if held else None
        item = self._table.get(keys.passage_sk(holder), doing="storing the passage") if holder else None
        if item is not None and get_s(item, "status") in (LIVE, INDEXING):
            return replace(passage_from_item(item), existing=True)
        try:  # the passage it named is gone: this insert takes the marker over
            self._table.client.put_item(TableName=self._table.name, Item=marker)
        except AWS_ERRORS as exc:
            raise dependency_error(exc, "storing the passage") from exc
        return None

    def index_postings(
        self,
        version: IndexVersion,
        passage_id: str,
        tfs: dict[str, int],
        length: int,
        tags: Sequence[str],
    ) -> None:
        """Write a passage's postings in `version` with their df increments (idempotent)."""
        for chunk in _chunks(sorted(tfs)):
            actions: list[Item] = []
            for term in chunk:
                posting = build_posting_item(self._table, version, term, passage_id, tfs[term], length, tags)
                actions.append({"Put": {"Item": posting, "ConditionExpression": "attribute_not_exists(sk)"}})
                actions.append(self._df_update(version, term, +1))
            try:
                self._table.transact(actions)
            except AWS_ERRORS as exc:
                if _only_condition_failures(exc):
                    continue  # this chunk was written by an earlier attempt
                raise dependency_error(exc, "indexing the passage") from exc

    def _commit(self, passage_id: str, length: int, *, first: bool = False) -> None:
        stats = self._stats_update(+1, +length)
        if first:
            # The tenant's first passage: its index starts on the current version.
            update = stats["Update"]
            update["UpdateExpression"] += f" SET {INDEX_ATTR} = if_not_exists({INDEX_ATTR}, :v)"
            update["ExpressionAttributeValues"][":v"] = n(CURRENT.number)
        try:
            self._table.transact(
                [
                    {
                        "Update": {
                            "Key": self._table.key(keys.passage_sk(passage_id)),
                            "UpdateExpression": "SET #status = :live",
                            "ConditionExpression": "#status = :indexing",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {":live": s(LIVE), ":indexing": s(INDEXING)},
                        }
                    },
                    stats,
                ]
            )
        except AWS_ERRORS as exc:
            if _only_condition_failures(exc):
                raise ConflictError(f"passage '{passage_id}' was deleted while it was being stored") from exc
            raise dependency_error(exc, "storing the passage") from exc

    # -- read -----------------------------------------------------------------------------------

    def get(self, passage_id: str) -> Passage:
        item = None
        if self._valid_id(passage_id):
            item = self._table.get(keys.passage_sk(passage_id), doing="reading the passage")
        if item is None or not is_live(item):
            raise NotFoundError(f"no archival passage with id '{passage_id}'", param="id")
        return passage_from_item(item)

    def recent(self, limit: int, tags: Sequence[str] | None = None) -> list[Passage]:
        """Newest first; with tags, only passages carrying all of them."""
        limit = min(limit, MAX_SEARCH_LIMIT)
        wanted = check_tags(tags)
        if wanted:
            return self._recent_tagged(limit, wanted)
        return self.page(limit)[0]

    def page(self, limit: int, cursor: str | None = None) -> tuple[list[Passage], str | None]:
        """Newest first, `limit` passages after `cursor` (a passage id a previous page answered),
        and the cursor of the next page (None on the last), so every passage is reachable once."""
        limit = min(limit, MAX_SEARCH_LIMIT)
        if cursor is not None and not self._valid_id(cursor):
            raise InvalidRequestError(
                "cursor is not one this API gave: pass the next_cursor of the previous page", param="cursor"
            )
        found: list[Passage] = []
        start = keys.passage_sk(cursor) if cursor is not None else None
        while len(found) <= limit:  # one more than a page: whether a next page exists
            items, start = self._table.query_prefix(
                keys.PASSAGE,
                doing="listing passages",
                limit=limit + 1,
                newest_first=True,
                start_sk=start,
                projection=LIST_PROJECTION,
                names=LIST_NAMES,
                filter_expression="#status = :live",
                filter_values={":live": s(LIVE)},
            )
            found.extend(passage_from_item(item) for item in items)
            if start is None:
                break
        if len(found) > limit:
            return found[:limit], found[limit - 1].id
        return found, None

    def _recent_tagged(self, limit: int, tags: list[str], max_scanned: int = 500) -> list[Passage]:
        found: list[Passage] = []
        start: str | None = None
        scanned = 0
        while len(found) < limit and scanned < max_scanned:
            page = min(2 * limit, max_scanned - scanned)
            items, start = self._table.query_prefix(
                keys.tag_prefix(tags[0]),
                doing="listing passages",
                limit=page,
                newest_first=True,
                start_sk=start,
            )
            scanned += len(items)
            ids = [get_s(item, "pid") or "" for item in items]
            fetched = {
                get_s(p, "id"): p
                for p in self._table.batch_get(
                    [keys.passage_sk(i) for i in ids],
                    doing="listing passages",
                    projection=LIST_PROJECTION,
                    names=LIST_NAMES,
                )
            }
            for pid in ids:
                item = fetched.get(pid)
                if item is not None and is_live(item):
                    passage = passage_from_item(item)
                    if set(tags) <= set(passage.tags):
                        found.append(passage)
            if start is None:
                break
        return found[:limit]

    # -- delete ---------------------------------------------------------------------------------

    def delete(self, passage_id: str) -> None:
        if not self._valid_id(passage_id):
            raise NotFoundError(f"no archival passage with id '{passage_id}'", param="id")
        item = self._table.get(keys.passage_sk(passage_id), doing="reading the passage")
        if item is None:
            raise NotFoundError(f"no archival passage with id '{passage_id}'", param="id")
        if is_live(item):
            try:
                self._table.transact(
                    [
                        {
                            "Update": {
                                "Key": self._table.key(keys.passage_sk(passage_id)),
                                "UpdateExpression": "SET #status = :deleting",
                                "ConditionExpression": "#status = :live",
                                "ExpressionAttributeNames": {"#status": "status"},
                                "ExpressionAttributeValues": {":deleting": s(DELETING), ":live": s(LIVE)},
                            }
                        },
                        self._stats_update(-1, -get_n(item, "length")),
                    ]
                )
            except AWS_ERRORS as exc:
                if not _only_condition_failures(exc):
                    raise dependency_error(exc, "deleting the passage") from exc
                # Someone else is deleting it: finish the clean-up with them, then report it gone.
                self._purge(passage_id)
                raise NotFoundError(f"no archival passage with id '{passage_id}'", param="id") from exc
            self._purge(passage_id, {**item, "status": s(DELETING)})
            return
        # `indexing` (an insert crashed) or `deleting` (a delete crashed): finish the clean-up;
        # the caller never saw this passage as live.
        self._purge(passage_id, item)
        raise NotFoundError(f"no archival passage with id '{passage_id}'", param="id")

    def _purge(self, passage_id: str, item: Item | None = None) -> None:
        """Remove the postings, tag items and passage item of a passage that is not `live`."""
        if item is None:
            item = self._table.get(keys.passage_sk(passage_id), doing="deleting the passage")
            if item is None:
                return
        if is_live(item):
            return
        tags = [v["S"] for v in item.get("tags", {}).get("L", [])]
        length = get_n(item, "length")
        for version in indexed_versions(item):
            self.unindex_postings(version, passage_id, passage_terms(item, version), length)
        self._table.batch_write(
            ({"DeleteRequest": {"Key": self._table.key(keys.tag_sk(tag, passage_id))}} for tag in tags),
            doing="deleting the passage",
        )
        self._release_text(item, passage_id)
        try:
            self._table.client.delete_item(
                TableName=self._table.name,
                Key=self._table.key(keys.passage_sk(passage_id)),
                ConditionExpression="#status <> :live",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":live": s(LIVE)},
            )
        except AWS_ERRORS as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise dependency_error(exc, "deleting the passage") from exc

    def _release_text(self, item: Item, passage_id: str) -> None:
        """Remove the passage's same-text marker, if it still names this passage."""
        text = get_s(item, "text")
        if text is None:
            return
        try:
            self._table.client.delete_item(
                TableName=self._table.name,
                Key=self._table.key(keys.same_text_sk(get_s(item, "task_id"), text)),
                ConditionExpression="pid = :pid",
                ExpressionAttributeValues={":pid": s(passage_id)},
            )
        except AWS_ERRORS as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise dependency_error(exc, "deleting the passage") from exc

    def unindex_postings(
        self, version: IndexVersion, passage_id: str, tfs: dict[str, int], length: int
    ) -> None:
        """Remove a passage's postings in `version` with their df decrements (idempotent), then
        the counters left unused."""
        for chunk in _chunks(sorted(tfs)):
            try:
                self._table.transact(
                    [
                        action
                        for term in chunk
                        for action in self._unpost(version, term, passage_id, tfs[term], length)
                    ]
                )
            except AWS_ERRORS as exc:
                if not _only_condition_failures(exc):
                    raise dependency_error(exc, "deleting the passage") from exc
                # Part of this chunk is already gone (an earlier attempt, or a crashed insert):
                # remove what is left term by term.
                for term in chunk:
                    try:
                        self._table.transact(self._unpost(version, term, passage_id, tfs[term], length))
                    except AWS_ERRORS as term_exc:
                        if not _only_condition_failures(term_exc):
                            raise dependency_error(term_exc, "deleting the passage") from term_exc
        self._drop_unused_terms(version, sorted(tfs))

    def _drop_unused_terms(self, version: IndexVersion, terms: list[str]) -> None:
        """Delete the document-frequency counters of `terms` that no passage uses any more, so a
        tenant's index shrinks with its passages. One read finds them; each delete is conditional
        (`df <= 0`), so a passage inserted meanwhile keeps its term."""
        counters = self._table.batch_get(
            [version.df_sk(term) for term in terms], doing="deleting the passage", projection="sk, df"
        )
        for item in counters:
            if get_n(item, "df") > 0:
                continue
            try:
                self._table.client.delete_item(
                    TableName=self._table.name,
                    Key=self._table.key(item["sk"]["S"]),
                    ConditionExpression="df <= :zero",
                    ExpressionAttributeValues={":zero": n(0)},
                )
            except AWS_ERRORS as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise dependency_error(exc, "deleting the passage") from exc

    # -- items ----------------------------------------------------------------------------------

    def _unpost(self, version: IndexVersion, term: str, passage_id: str, tf: int, length: int) -> list[Item]:
        key = self._table.key(version.posting_sk(term, impact_rank(tf, length), passage_id))
        return [
            {"Delete": {"Key": key, "ConditionExpression": "attribute_exists(sk)"}},
            self._df_update(version, term, -1),
        ]

    def _df_update(self, version: IndexVersion, term: str, delta: int) -> Item:
        return {
            "Update": {
                "Key": self._table.key(version.df_sk(term)),
                "UpdateExpression": "ADD df :d",
                "ExpressionAttributeValues": {":d": n(delta)},
            }
        }

    def _stats_update(self, passages: int, tokens: int) -> Item:
        return {
            "Update": {
                "Key": self._table.key(keys.STATS),
                "UpdateExpression": "ADD passages :p, tokens :t",
                "ExpressionAttributeValues": {":p": n(passages), ":t": n(tokens)},
            }
        }

    def _tag_item(self, tag: str, passage_id: str) -> Item:
        return self._table.item(keys.tag_sk(tag, passage_id), pid=s(passage_id))

    @staticmethod
    def _valid_id(passage_id: str) -> bool:
        return (
            isinstance(passage_id, str)
            and len(passage_id) == PASSAGE_ID_LENGTH
            and passage_id.startswith(f"{keys.PASSAGE_ID_PREFIX}_")
            and passage_id[4:].isalnum()
        )
