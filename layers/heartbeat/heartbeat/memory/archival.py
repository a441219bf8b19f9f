"""Archival memory: passages and the index that finds them, kept consistent on insert and delete.

The passage item is the source of truth, and its `status` says whether search may return it:

- insert: take an ordinal (`ADD seq 1` on the tenant's stats; a lost answer burns one) -> put the
  passage as `indexing` -> write its postings, each chunk of up to 50 terms in one transaction
  with its document-frequency increments (`ADD`, so concurrent inserts never lose a count). In the
  block index (version 3) one read of the chunk's blocks first says which exist and which hold the
  passage already: a new block is a conditional `Put`, an existing one `SET tf.#id, dl.#id` on
  condition that it exists and lacks the passage, so a retried chunk is skipped, never counted
  twice, and a block created or emptied meanwhile is read again -> tag items -> one transaction
  flips the passage to `live` and adds it to the tenant's stats.
- delete: one transaction flips `live` to `deleting` and takes it out of the stats; from then on
  search and get ignore it -> postings are removed with their decrements (conditional on the
  posting existing, so a retry never decrements twice) -> tag items -> the passage item. A term
  left in no passage loses its counter and its (empty) blocks.

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
from heartbeat.memory.index import (
    CURRENT,
    INDEX_ATTR,
    VERSIONS,
    IndexVersion,
    is_new_tenant,
    write_versions,
)
from heartbeat.memory.limits import MAX_SEARCH_LIMIT, check_passage_text, check_tags
from heartbeat.memory.ranking import impact_rank
from heartbeat.memory.records import Passage
from heartbeat.memory.table import Item, MemoryTable, dependency_error
from heartbeat.memory.tokens import term_frequencies
from heartbeat.retry import Backoff
from heartbeat.timeutil import iso, utcnow

LIVE = "live"
INDEXING = "indexing"
DELETING = "deleting"

TERMS_PER_TRANSACTION = 50  # two actions per term, under DynamoDB's 100
PASSAGE_ID_LENGTH = len(keys.PASSAGE_ID_PREFIX) + 1 + 26
_BLOCK_RACES = Backoff(8, base_s=0.01, max_s=0.5)  # a block created or emptied between read and write

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
    return Passage(
        id=item.get("id") or item["sk"].removeprefix(keys.PASSAGE),
        text=item.get("text") or "",
        tags=tuple(item.get("tags") or ()),
        created_at=item.get("created_at") or "",
        run_id=item.get("run_id"),
        task_id=item.get("task_id"),
        score=score,
    )


def passage_terms(item: Item, version: IndexVersion) -> dict[str, int]:
    return {term: int(tf) for term, tf in (item.get(version.terms_attr) or {}).items()}


def indexed_versions(item: Item) -> list[IndexVersion]:
    """The versions whose postings the passage item says were written."""
    return [v for v in VERSIONS.values() if v.terms_attr in item]


def is_live(item: Item) -> bool:
    return item.get("status") == LIVE


def build_passage_item(
    passage: Passage, status: str, versions: Sequence[IndexVersion], ordinal: int | None
) -> tuple[Item, dict[IndexVersion, dict[str, int]], int]:
    """The passage item, its term frequencies in each of `versions` and its length in terms (the
    same in every version). `ordinal`: its place in the tenant's block index (version 3)."""
    tfs: dict[IndexVersion, dict[str, int]] = {}
    length = 0
    for version in versions:
        tfs[version], length = term_frequencies(passage.text, version.stemmer)
    item: Item = {
        "sk": keys.passage_sk(passage.id),
        "id": passage.id,
        "text": passage.text,
        "created_at": passage.created_at,
        "status": status,
        "length": length,
        **{version.terms_attr: version_tfs for version, version_tfs in tfs.items()},
    }
    if ordinal is not None:
        item["o"] = ordinal
    if passage.tags:
        item["tags"] = list(passage.tags)
    if passage.run_id:
        item["run_id"] = passage.run_id
    if passage.task_id:
        item["task_id"] = passage.task_id
    return item, tfs, length


def build_posting_item(
    version: IndexVersion, term: str, passage_id: str, tf: int, length: int, tags: Sequence[str]
) -> Item:
    """A posting of an index with one item per posting (versions 1 and 2)."""
    item: Item = {
        "sk": version.posting_sk(term, impact_rank(tf, length), passage_id),
        "pid": passage_id,
        "tf": tf,
        "dl": length,
    }
    if tags:
        item["tags"] = list(tags)
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
        self.behind = False  # the last insert found the tenant's index on an older version

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
        # The passage's ordinal (a lost answer burns one, harmlessly), and the tenant's stats.
        stats = self._table.update(
            keys.STATS, "ADD seq :one", doing="storing the passage", values={":one": 1}, returns="ALL_NEW"
        )
        assert stats is not None
        ordinal = int(stats["seq"])
        versions = write_versions(stats)
        self.behind = versions != [CURRENT]
        item, tfs, length = build_passage_item(passage, INDEXING, versions, ordinal)
        if not self._table.put(item, doing="storing the passage", condition="attribute_not_exists(sk)"):
            raise ConflictError(f"passage '{passage.id}' exists already")
        try:
            for version, version_tfs in tfs.items():
                self.index_postings(version, passage.id, version_tfs, length, passage.tags, ordinal)
            self._table.put_many(
                (self._tag_item(tag, passage.id) for tag in passage.tags), doing="tagging the passage"
            )
            self._commit(passage.id, length, first=is_new_tenant(stats))
        except DependencyError:
            # Best effort: undo what was indexed. If this fails too, the passage stays
            # `indexing` (never searchable) and a delete of its id finishes the job.
            self._purge(passage.id)
            raise
        return passage

    def _claim_text(self, marker_sk: str, passage_id: str) -> Passage | None:
        """Point the text's marker at `passage_id`, or answer the passage it already names."""
        marker = {"sk": marker_sk, "pid": passage_id}
        if self._table.put(marker, doing="storing the passage", condition="attribute_not_exists(sk)"):
            return None
        held = self._table.get(marker_sk, doing="storing the passage")
        holder = held.get("pid") if held else None
        item = self._table.get(keys.passage_sk(holder), doing="storing the passage") if holder else None
        if item is not None and item.get("status") in (LIVE, INDEXING):
            return replace(passage_from_item(item), existing=True)
        # The passage it named is gone: this insert takes the marker over.
        self._table.put(marker, doing="storing the passage")
        return None

    def index_postings(
        self,
        version: IndexVersion,
        passage_id: str,
        tfs: dict[str, int],
        length: int,
        tags: Sequence[str],
        ordinal: int | None = None,
    ) -> None:
        """Write a passage's postings in `version` with their df increments (idempotent)."""
        if version.blocks:
            if ordinal is None:
                raise ValueError("a block index needs the passage's ordinal")
            for chunk in _chunks(sorted(tfs)):
                self._post_to_blocks(version, chunk, passage_id, ordinal, tfs, length)
            return
        for chunk in _chunks(sorted(tfs)):
            actions: list[Item] = []
            for term in chunk:
                posting = build_posting_item(version, term, passage_id, tfs[term], length, tags)
                actions.append(self._table.put_action(posting, condition="attribute_not_exists(sk)"))
                actions.append(self._df_update(version, term, +1))
            try:
                self._table.transact(actions)
            except AWS_ERRORS as exc:
                if _only_condition_failures(exc):
                    continue  # this chunk was written by an earlier attempt
                raise dependency_error(exc, "indexing the passage") from exc

    def _post_to_blocks(
        self,
        version: IndexVersion,
        chunk: Sequence[str],
        passage_id: str,
        ordinal: int,
        tfs: dict[str, int],
        length: int,
    ) -> None:
        """Add the passage to its block of each term of `chunk`, with the df (and, for a new
        block, block-count) increments, in one transaction. One read first says which blocks
        exist and whether they hold the passage already (a retried chunk is then skipped); a
        block created or emptied meanwhile fails the transaction's condition and is read again."""
        sks = {term: version.block_sk(term, ordinal) for term in chunk}
        names = {"#tf": "tf", "#dl": "dl", "#pid": passage_id}
        for _ in _BLOCK_RACES.attempts():
            held = {
                item["sk"]: item
                for item in self._table.batch_get(
                    list(sks.values()),
                    doing="indexing the passage",
                    projection="sk, #tf.#pid",
                    names={"#tf": "tf", "#pid": passage_id},
                )
            }
            todo = [term for term in chunk if passage_id not in (held.get(sks[term]) or {}).get("tf", {})]
            if not todo:
                return  # written by an earlier attempt
            actions: list[Item] = []
            for term in todo:
                tf, new_block = tfs[term], sks[term] not in held
                if new_block:
                    block = {"sk": sks[term], "tf": {passage_id: tf}, "dl": {passage_id: length}}
                    actions.append(self._table.put_action(block, condition="attribute_not_exists(sk)"))
                else:
                    actions.append(
                        self._table.update_action(
                            sks[term],
                            "SET #tf.#pid = :tf, #dl.#pid = :dl",
                            condition="attribute_exists(sk) AND attribute_not_exists(#tf.#pid)",
                            names=names,
                            values={":tf": tf, ":dl": length},
                        )
                    )
                actions.append(self._df_update(version, term, +1, blocks=int(new_block)))
            try:
                self._table.transact(actions)
                return
            except AWS_ERRORS as exc:
                if not _only_condition_failures(exc):
                    raise dependency_error(exc, "indexing the passage") from exc
        raise DependencyError("indexing the passage failed: its index blocks kept changing, try again")

    def _commit(self, passage_id: str, length: int, *, first: bool = False) -> None:
        stats = self._stats_update(+1, +length, first=first)
        status = self._table.update_action(
            keys.passage_sk(passage_id),
            "SET #status = :live",
            condition="#status = :indexing",
            names={"#status": "status"},
            values={":live": LIVE, ":indexing": INDEXING},
        )
        try:
            self._table.transact([status, stats])
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
                filter_values={":live": LIVE},
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
            ids = [item.get("pid") or "" for item in items]
            fetched = {
                p.get("id"): p
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
            flip = self._table.update_action(
                keys.passage_sk(passage_id),
                "SET #status = :deleting",
                condition="#status = :live",
                names={"#status": "status"},
                values={":deleting": DELETING, ":live": LIVE},
            )
            try:
                self._table.transact([flip, self._stats_update(-1, -int(item.get("length", 0)))])
            except AWS_ERRORS as exc:
                if not _only_condition_failures(exc):
                    raise dependency_error(exc, "deleting the passage") from exc
                # Someone else is deleting it: finish the clean-up with them, then report it gone.
                self._purge(passage_id)
                raise NotFoundError(f"no archival passage with id '{passage_id}'", param="id") from exc
            self._purge(passage_id, {**item, "status": DELETING})
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
        length = int(item.get("length", 0))
        ordinal = int(item["o"]) if "o" in item else None
        for version in indexed_versions(item):
            self.unindex_postings(version, passage_id, passage_terms(item, version), length, ordinal)
        self._table.delete_many(
            (keys.tag_sk(tag, passage_id) for tag in item.get("tags") or ()), doing="deleting the passage"
        )
        self._release_text(item, passage_id)
        self._table.delete(
            keys.passage_sk(passage_id),
            doing="deleting the passage",
            condition="#status <> :live",
            names={"#status": "status"},
            values={":live": LIVE},
        )

    def _release_text(self, item: Item, passage_id: str) -> None:
        """Remove the passage's same-text marker, if it still names this passage."""
        text = item.get("text")
        if text is None:
            return
        self._table.delete(
            keys.same_text_sk(item.get("task_id"), text),
            doing="deleting the passage",
            condition="pid = :pid",
            values={":pid": passage_id},
        )

    def unindex_postings(
        self,
        version: IndexVersion,
        passage_id: str,
        tfs: dict[str, int],
        length: int,
        ordinal: int | None = None,
    ) -> None:
        """Remove a passage's postings in `version` with their df decrements (idempotent), then
        the counters (and, in a block index, the emptied blocks) of the terms left unused."""
        if version.blocks and ordinal is None:
            raise ValueError("a block index needs the passage's ordinal")
        for chunk in _chunks(sorted(tfs)):
            try:
                self._table.transact(
                    [
                        action
                        for term in chunk
                        for action in self._unpost(version, term, passage_id, tfs[term], length, ordinal)
                    ]
                )
            except AWS_ERRORS as exc:
                if not _only_condition_failures(exc):
                    raise dependency_error(exc, "deleting the passage") from exc
                # Part of this chunk is already gone (an earlier attempt, or a crashed insert):
                # remove what is left term by term.
                for term in chunk:
                    try:
                        self._table.transact(
                            self._unpost(version, term, passage_id, tfs[term], length, ordinal)
                        )
                    except AWS_ERRORS as term_exc:
                        if not _only_condition_failures(term_exc):
                            raise dependency_error(term_exc, "deleting the passage") from term_exc
        self._drop_unused_terms(version, sorted(tfs))

    def _drop_unused_terms(self, version: IndexVersion, terms: list[str]) -> None:
        """Delete the document-frequency counters of `terms` that no passage uses any more, so a
        tenant's index shrinks with its passages. One read finds them; each delete is conditional
        (`df <= 0`), so a passage inserted meanwhile keeps its term. In a block index the term's
        blocks go first, each only if it is empty (a block emptied while its term is still used
        elsewhere stays until then: a small item, counted in `nb`)."""
        counters = self._table.batch_get(
            [version.df_sk(term) for term in terms], doing="deleting the passage", projection="sk, df"
        )
        for counter in counters:
            if int(counter.get("df", 0)) > 0:
                continue
            if version.blocks:
                term = counter["sk"].removeprefix(version.df)
                for block in self._table.query_all(
                    version.posting_prefix(term), doing="deleting the passage", projection="sk"
                ):
                    self._drop_empty_block(version, term, block["sk"])
            self._table.delete(
                counter["sk"],
                doing="deleting the passage",
                condition="df <= :zero AND (attribute_not_exists(nb) OR nb <= :zero)",
                values={":zero": 0},
            )

    def _drop_empty_block(self, version: IndexVersion, term: str, sk: str) -> None:
        """Delete a block if it is empty, with its term's block count, in one transaction."""
        try:
            self._table.transact(
                [
                    self._table.delete_action(
                        sk,
                        # attribute_exists first: a block another delete removed fails the
                        # condition instead of making `size` an error
                        condition="attribute_exists(#tf) AND size(#tf) = :zero",
                        names={"#tf": "tf"},
                        values={":zero": 0},
                    ),
                    self._table.update_action(version.df_sk(term), "ADD nb :d", values={":d": -1}),
                ]
            )
        except AWS_ERRORS as exc:
            if not _only_condition_failures(exc):
                raise dependency_error(exc, "deleting the passage") from exc

    # -- items ----------------------------------------------------------------------------------

    def _unpost(
        self,
        version: IndexVersion,
        term: str,
        passage_id: str,
        tf: int,
        length: int,
        ordinal: int | None,
    ) -> list[Item]:
        if version.blocks:
            assert ordinal is not None
            remove = self._table.update_action(
                version.block_sk(term, ordinal),
                "REMOVE #tf.#pid, #dl.#pid",
                condition="attribute_exists(#tf.#pid)",
                names={"#tf": "tf", "#dl": "dl", "#pid": passage_id},
            )
        else:
            remove = self._table.delete_action(
                version.posting_sk(term, impact_rank(tf, length), passage_id),
                condition="attribute_exists(sk)",
            )
        return [remove, self._df_update(version, term, -1)]

    def _df_update(self, version: IndexVersion, term: str, delta: int, *, blocks: int = 0) -> Item:
        if blocks:
            return self._table.update_action(
                version.df_sk(term), "ADD df :d, nb :b", values={":d": delta, ":b": blocks}
            )
        return self._table.update_action(version.df_sk(term), "ADD df :d", values={":d": delta})

    def _stats_update(self, passages: int, tokens: int, *, first: bool = False) -> Item:
        expression, values = "ADD passages :p, tokens :t", {":p": passages, ":t": tokens}
        if first:  # the tenant's first passage: its index starts on the current version
            expression += f" SET {INDEX_ATTR} = if_not_exists({INDEX_ATTR}, :v)"
            values[":v"] = CURRENT.number
        return self._table.update_action(keys.STATS, expression, values=values)

    def _tag_item(self, tag: str, passage_id: str) -> Item:
        return {"sk": keys.tag_sk(tag, passage_id), "pid": passage_id}

    @staticmethod
    def _valid_id(passage_id: str) -> bool:
        return (
            isinstance(passage_id, str)
            and len(passage_id) == PASSAGE_ID_LENGTH
            and passage_id.startswith(f"{keys.PASSAGE_ID_PREFIX}_")
            and passage_id[4:].isalnum()
        )
