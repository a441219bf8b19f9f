"""Core memory: a tenant's labelled blocks, always in the Soul's prompt.

Each block carries a `version`; every change is a conditional write on the version it read, so
two runs appending at once both land (the loser re-reads and retries) instead of one overwriting
the other.
"""

from __future__ import annotations

from collections.abc import Callable

from heartbeat.errors import ConflictError, InvalidRequestError, NotFoundError
from heartbeat.memory import keys
from heartbeat.memory.limits import (
    DEFAULT_BLOCK_LIMIT,
    MAX_CORE_BLOCKS,
    check_block_limit,
    check_block_value,
    check_description,
    check_label,
)
from heartbeat.memory.records import CoreBlock
from heartbeat.memory.table import Item, MemoryTable
from heartbeat.retry import Backoff
from heartbeat.timeutil import iso, utcnow

_RACES = Backoff(8, base_s=0.01, max_s=1.28)  # a block's version changed between read and write


def _block(item: Item) -> CoreBlock:
    return CoreBlock(
        label=item.get("label") or item["sk"].removeprefix(keys.CORE),
        value=item.get("value") or "",
        limit=int(item.get("limit", DEFAULT_BLOCK_LIMIT)),
        description=item.get("description"),
        updated_at=item.get("updated_at"),
    )


class CoreMemory:
    def __init__(self, table: MemoryTable) -> None:
        self._table = table

    def blocks(self) -> list[CoreBlock]:
        """Every block of the tenant, by label."""
        items, _ = self._table.query_prefix(keys.CORE, doing="reading core memory", limit=MAX_CORE_BLOCKS + 1)
        return [_block(item) for item in items]

    def get(self, label: str) -> CoreBlock:
        check_label(label)
        item = self._table.get(keys.core_sk(label), doing="reading a core memory block")
        if item is None:
            raise NotFoundError(f"no core memory block with label '{label}'", param="label")
        return _block(item)

    def delete(self, label: str) -> None:
        """Remove the block: it leaves the Soul's prompt from the next run. 404 if there is none."""
        check_label(label)
        if not self._table.delete(
            keys.core_sk(label), doing="deleting a core memory block", condition="attribute_exists(sk)"
        ):
            raise NotFoundError(f"no core memory block with label '{label}'", param="label")

    def put(
        self, label: str, value: str, *, limit: int | None = None, description: str | None = None
    ) -> CoreBlock:
        """Create or replace a block. `limit` and `description` keep their stored values (or the
        defaults) when omitted."""
        check_label(label)
        if limit is not None:
            check_block_limit(limit)
        if description is not None:
            check_description(description)

        def change(current: CoreBlock | None) -> CoreBlock:
            new_limit = limit if limit is not None else (current.limit if current else DEFAULT_BLOCK_LIMIT)
            new_description = description if description is not None else (current and current.description)
            check_block_value(label, value, new_limit)
            return CoreBlock(label, value, new_limit, new_description or None)

        return self._write(label, change, create=True)

    def append(self, label: str, content: str) -> CoreBlock:
        """Add `content` to the end of the block, on a new line."""
        if not isinstance(content, str) or not content:
            raise InvalidRequestError("content must be a non-empty string", param="content")

        def change(current: CoreBlock | None) -> CoreBlock:
            assert current is not None
            value = f"{current.value}\n{content}" if current.value else content
            check_block_value(label, value, current.limit)
            return CoreBlock(label, value, current.limit, current.description)

        return self._write(label, change, create=False)

    def replace(self, label: str, old_content: str, new_content: str) -> CoreBlock:
        """Replace every occurrence of `old_content` in the block with `new_content`."""
        if not isinstance(old_content, str) or not old_content:
            raise InvalidRequestError("old_content must be a non-empty string", param="old_content")
        if not isinstance(new_content, str):
            raise InvalidRequestError("new_content must be a string", param="new_content")

        def change(current: CoreBlock | None) -> CoreBlock:
            assert current is not None
            if old_content not in current.value:
                raise InvalidRequestError(
                    f"old_content was not found in core memory block '{label}': "
                    "quote the exact text to replace",
                    param="old_content",
                )
            value = current.value.replace(old_content, new_content)
            check_block_value(label, value, current.limit)
            return CoreBlock(label, value, current.limit, current.description)

        return self._write(label, change, create=False)

    def _write(
        self, label: str, change: Callable[[CoreBlock | None], CoreBlock], *, create: bool
    ) -> CoreBlock:
        check_label(label)
        for _ in _RACES.attempts():
            item = self._table.get(keys.core_sk(label), doing="reading a core memory block")
            if item is None and not create:
                known = ", ".join(b.label for b in self.blocks()) or "none yet"
                raise NotFoundError(
                    f"no core memory block with label '{label}' (existing blocks: {known})", param="label"
                )
            if item is None and len(self.blocks()) >= MAX_CORE_BLOCKS:
                raise InvalidRequestError(
                    f"a tenant has at most {MAX_CORE_BLOCKS} core memory blocks: reuse or delete one",
                    param="label",
                )
            current = _block(item) if item is not None else None
            block = change(current)
            block = CoreBlock(block.label, block.value, block.limit, block.description, iso(utcnow()))
            version = int(item.get("version", 0)) if item is not None else 0
            new_item: Item = {
                "sk": keys.core_sk(label),
                "label": label,
                "value": block.value,
                "limit": block.limit,
                "updated_at": block.updated_at or "",
                "version": version + 1,
            }
            if block.description:
                new_item["description"] = block.description
            if item is None:
                written = self._table.put(
                    new_item, doing="writing a core memory block", condition="attribute_not_exists(sk)"
                )
            else:
                written = self._table.put(
                    new_item,
                    doing="writing a core memory block",
                    condition="version = :v",
                    values={":v": version},
                )
            if not written:
                continue
            return block
        raise ConflictError(
            f"core memory block '{label}' kept changing while we wrote it: try again", param="label"
        )
