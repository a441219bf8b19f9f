"""`MemoryStore`: one tenant's memory, as the executor, the tools and the API use it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from heartbeat.errors import DependencyError
from heartbeat.memory.archival import ArchivalMemory
from heartbeat.memory.bulk import import_passages
from heartbeat.memory.core import CoreMemory
from heartbeat.memory.limits import check_query, check_search_limit, check_tags
from heartbeat.memory.records import CoreBlock, Passage
from heartbeat.memory.search import Searcher, SearchResult
from heartbeat.memory.table import MemoryTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LAZY_REINDEX_STEP = 20  # older passages moved to the current index by each insert of a tenant behind
_log = logging.getLogger(__name__)


class MemoryStore:
    """Bound to one tenant when built: nothing it does can read or write another tenant's items.

    `client` is a boto3 DynamoDB client (`boto3.client("dynamodb")`), `table_name` the Memory
    table. `items_read` counts the items its reads returned or scanned (the search budget).
    """

    def __init__(self, client: DynamoDBClient, table_name: str, tenant_id: str) -> None:
        self._table = MemoryTable(client, table_name, tenant_id)
        self._core = CoreMemory(self._table)
        self._archival = ArchivalMemory(self._table)
        self._searcher = Searcher(self._table)

    @property
    def tenant_id(self) -> str:
        return self._table.tenant_id

    @property
    def items_read(self) -> int:
        return self._table.items_read

    # core memory

    def core_blocks(self) -> list[CoreBlock]:
        return self._core.blocks()

    def get_block(self, label: str) -> CoreBlock:
        return self._core.get(label)

    def put_block(
        self, label: str, value: str, *, limit: int | None = None, description: str | None = None
    ) -> CoreBlock:
        return self._core.put(label, value, limit=limit, description=description)

    def delete_block(self, label: str) -> None:
        self._core.delete(label)

    def append_block(self, label: str, content: str) -> CoreBlock:
        return self._core.append(label, content)

    def replace_in_block(self, label: str, old_content: str, new_content: str) -> CoreBlock:
        return self._core.replace(label, old_content, new_content)

    # archival memory

    def insert_passage(
        self,
        text: str,
        tags: Sequence[str] | None = None,
        *,
        run_id: str | None = None,
        task_id: str | None = None,
    ) -> Passage:
        """Store a passage. For a tenant whose index is an older version, then move up to
        `LAZY_REINDEX_STEP` older passages to the current one (`reindex`), so every tenant that
        writes is migrated without an operator; a failure there is logged, the passage is stored."""
        passage = self._archival.insert(text, tags, run_id=run_id, task_id=task_id)
        if self._archival.behind:
            try:
                self.reindex(max_passages=LAZY_REINDEX_STEP)
            except DependencyError as exc:
                _log.warning("memory reindex step for tenant %s failed: %s", self.tenant_id, exc)
        return passage

    def import_passages(self, passages: Iterable[tuple[str, Sequence[str] | None]]) -> list[str]:
        """Bulk-store `(text, tags)` pairs with batch writes (seeding, migrations, benchmarks)."""
        return import_passages(self._table, passages)

    def get_passage(self, passage_id: str) -> Passage:
        return self._archival.get(passage_id)

    def delete_passage(self, passage_id: str) -> None:
        self._archival.delete(passage_id)

    def list_passages(
        self, limit: int | None = None, cursor: str | None = None
    ) -> tuple[list[Passage], str | None]:
        """Newest first, one page after `cursor`, and the next page's cursor (None on the last)."""
        return self._archival.page(check_search_limit(limit), cursor)

    def search(
        self, query: str | None = None, *, limit: int | None = None, tags: Sequence[str] | None = None
    ) -> list[Passage]:
        """Best first, each with its `score`; without a query (or an empty one), newest first."""
        return self.search_result(query, limit=limit, tags=tags).passages

    def search_result(
        self, query: str | None = None, *, limit: int | None = None, tags: Sequence[str] | None = None
    ) -> SearchResult:
        """`search`, saying whether the ranking is certain (`exhaustive`): False when the read
        budget ran out before no unseen passage could enter the top `limit`."""
        count = check_search_limit(limit)
        wanted = check_tags(tags)
        if query is not None:
            check_query(query)
        if query is None or not query.strip():
            return SearchResult(self._archival.recent(count, wanted), exhaustive=True)
        return self._searcher.search(query, count, wanted)

    def reindex(self, max_passages: int | None = None) -> bool:
        """Move the tenant's archival index to the current version (see `heartbeat.memory.reindex`);
        True once it is done, False if `max_passages` ran out first (call again to go on)."""
        from heartbeat.memory.reindex import reindex

        return reindex(self._table, self._archival, max_passages=max_passages)
