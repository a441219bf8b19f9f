"""Access to one tenant's partition of the Memory table with the low-level DynamoDB client.

Callers build and read plain Python items (`str`, `int`, `Decimal` numbers as read back, `list`,
`dict`): this adapter is the one place memory items are (de)serialised, with the project's shared
helpers (`heartbeat.dal.dynamo.serialize` / `deserialize` / `value`, boto3's TypeSerializer). An
item's `sk` is its sort key; the partition key is added here, always the tenant the table was made
for, so callers pass sort keys only and cannot name another tenant. It counts the items it reads
(`items_read`, the search budget) and the bytes DynamoDB would bill for them (`bytes_read`), and
turns `ClientError`s it does not expect into `DependencyError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import (
    AWS_ERRORS,
    cancellation_codes,
    deserialize,
    deserialize_fast,
    error_code,
    serialize,
    value,
)
from heartbeat.errors import DependencyError
from heartbeat.retry import Backoff

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]

BATCH_GET_MAX = 100
BATCH_WRITE_MAX = 25
TRANSACTION_MAX = 100
CONDITION_FAILED = "ConditionalCheckFailedException"
_UNPROCESSED = Backoff(8, base_s=0.05, max_s=1.0)  # a batch's unprocessed items, tried again
_CONFLICTS = Backoff(7, base_s=0.02, max_s=0.5)  # transactions cancelled by a concurrent one


def dependency_error(exc: Exception, doing: str) -> DependencyError:
    code = error_code(exc)
    if code == "ResourceNotFoundException":
        return DependencyError(f"{doing} failed: the memory table does not exist ({code})")
    if code in {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}:
        return DependencyError(f"{doing} failed: memory storage is busy, try again shortly ({code})")
    return DependencyError(f"{doing} failed ({code or 'unknown error'})")


def _values(values: Item | None) -> dict[str, Any]:
    return {name: value(v) for name, v in (values or {}).items()}


def _expression(condition: str | None, names: dict[str, str] | None, values: Item | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if condition:
        out["ConditionExpression"] = condition
    if names:
        out["ExpressionAttributeNames"] = names
    if values:
        out["ExpressionAttributeValues"] = _values(values)
    return out


class MemoryTable:
    def __init__(self, client: DynamoDBClient, table_name: str, tenant_id: str) -> None:
        if not tenant_id:
            raise ValueError("tenant_id must not be empty")
        self.client = client
        self.name = table_name
        self.tenant_id = tenant_id
        self.items_read = 0

    # -- the wire form (only here) --------------------------------------------------------------

    def _key(self, sk: str) -> Item:
        return {"pk": {"S": self.tenant_id}, "sk": {"S": sk}}

    def _wire(self, item: Item) -> Item:
        return serialize({**item, "pk": self.tenant_id})

    def _read(self, item: Item, fast: bool) -> Item:
        return deserialize_fast(item) if fast else deserialize(item)

    # -- transaction actions --------------------------------------------------------------------

    def put_action(
        self,
        item: Item,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: Item | None = None,
    ) -> Item:
        return {"Put": {"Item": self._wire(item), **_expression(condition, names, values)}}

    def update_action(
        self,
        sk: str,
        expression: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: Item | None = None,
    ) -> Item:
        return {
            "Update": {
                "Key": self._key(sk),
                "UpdateExpression": expression,
                **_expression(condition, names, values),
            }
        }

    def delete_action(
        self,
        sk: str,
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: Item | None = None,
    ) -> Item:
        return {"Delete": {"Key": self._key(sk), **_expression(condition, names, values)}}

    # -- reads ----------------------------------------------------------------------------------

    def get(
        self,
        sk: str,
        *,
        doing: str,
        projection: str | None = None,
        names: dict[str, str] | None = None,
    ) -> Item | None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": self._key(sk), "ConsistentRead": True}
        if projection:
            kwargs["ProjectionExpression"] = projection
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            response = self.client.get_item(**kwargs)
        except AWS_ERRORS as exc:
            raise dependency_error(exc, doing) from exc
        item = response.get("Item")
        if item is None:
            return None
        self.items_read += 1
        return deserialize(item)

    def query_prefix(
        self,
        prefix: str,
        *,
        doing: str,
        limit: int | None = None,
        newest_first: bool = False,
        start_sk: str | None = None,
        projection: str | None = None,
        names: dict[str, str] | None = None,
        filter_expression: str | None = None,
        filter_values: Item | None = None,
        consistent: bool = True,
        fast: bool = False,
    ) -> tuple[list[Item], str | None]:
        """One page of items whose sk begins with `prefix`; the sk to continue from, or None.
        `fast`: deserialise with `deserialize_fast` (the search's posting blocks)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": self.tenant_id}, ":prefix": {"S": prefix}},
            "ScanIndexForward": not newest_first,
            "ConsistentRead": consistent,
        }
        if limit is not None:
            kwargs["Limit"] = limit
        if start_sk is not None:
            kwargs["ExclusiveStartKey"] = self._key(start_sk)
        if projection:
            kwargs["ProjectionExpression"] = projection
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
            kwargs["ExpressionAttributeValues"].update(_values(filter_values))
        try:
            response = self.client.query(**kwargs)
        except AWS_ERRORS as exc:
            raise dependency_error(exc, doing) from exc
        self.items_read += int(response.get("ScannedCount", response.get("Count", 0)))
        last = response.get("LastEvaluatedKey")
        items = [self._read(item, fast) for item in response.get("Items", [])]
        return items, (last["sk"]["S"] if last else None)

    def query_all(self, prefix: str, *, doing: str, **kwargs: Any) -> list[Item]:
        """Every item whose sk begins with `prefix`, page after page."""
        found: list[Item] = []
        start: str | None = None
        while True:
            items, start = self.query_prefix(prefix, doing=doing, start_sk=start, **kwargs)
            found.extend(items)
            if start is None:
                return found

    def batch_get(
        self,
        sks: Sequence[str],
        *,
        doing: str,
        projection: str | None = None,
        names: dict[str, str] | None = None,
        consistent: bool = True,
    ) -> list[Item]:
        """The items that exist among `sks`, in no particular order."""
        found: list[Item] = []
        unique = list(dict.fromkeys(sks))
        for start in range(0, len(unique), BATCH_GET_MAX):
            request: dict[str, Any] = {
                self.name: {"Keys": [self._key(sk) for sk in unique[start : start + BATCH_GET_MAX]]}
            }
            request[self.name]["ConsistentRead"] = consistent
            if projection:
                request[self.name]["ProjectionExpression"] = projection
            if names:
                request[self.name]["ExpressionAttributeNames"] = names
            for _ in _UNPROCESSED.attempts():
                try:
                    response = self.client.batch_get_item(RequestItems=request)
                except AWS_ERRORS as exc:
                    raise dependency_error(exc, doing) from exc
                items = response.get("Responses", {}).get(self.name, [])
                self.items_read += len(items)
                found.extend(deserialize(item) for item in items)
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
            else:
                raise DependencyError(f"{doing} failed: memory storage is busy, try again shortly")
        return found

    # -- writes ---------------------------------------------------------------------------------

    def put(
        self,
        item: Item,
        *,
        doing: str,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: Item | None = None,
    ) -> bool:
        """Put `item`; False if `condition` did not hold (nothing written)."""
        kwargs = {"TableName": self.name, "Item": self._wire(item), **_expression(condition, names, values)}
        return self._conditional(self.client.put_item, kwargs, condition, doing) is not None

    def update(
        self,
        sk: str,
        expression: str,
        *,
        doing: str,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: Item | None = None,
        returns: str = "NONE",
    ) -> Item | None:
        """UpdateItem; the attributes `returns` names (`UPDATED_NEW`, `ALL_NEW`, ...; {} for
        `NONE`), or None if `condition` did not hold (nothing written)."""
        kwargs = {
            "TableName": self.name,
            "Key": self._key(sk),
            "UpdateExpression": expression,
            "ReturnValues": returns,
            **_expression(condition, names, values),
        }
        response = self._conditional(self.client.update_item, kwargs, condition, doing)
        return None if response is None else deserialize(response.get("Attributes") or {})

    def delete(
        self,
        sk: str,
        *,
        doing: str,
        condition: str | None = None,
        names: dict[str, str] | None = None,
        values: Item | None = None,
    ) -> bool:
        """Delete the item at `sk`; False if `condition` did not hold (nothing deleted)."""
        kwargs = {"TableName": self.name, "Key": self._key(sk), **_expression(condition, names, values)}
        return self._conditional(self.client.delete_item, kwargs, condition, doing) is not None

    @staticmethod
    def _conditional(
        call: Callable[..., Any], kwargs: dict[str, Any], condition: str | None, doing: str
    ) -> dict[str, Any] | None:
        """`call(**kwargs)`'s response, or None when its `condition` did not hold."""
        try:
            return dict(call(**kwargs))
        except AWS_ERRORS as exc:
            if condition and error_code(exc) == CONDITION_FAILED:
                return None
            raise dependency_error(exc, doing) from exc

    def put_many(self, items: Iterable[Item], *, doing: str) -> None:
        """Unconditional puts with BatchWriteItem (idempotent: the same item twice is one)."""
        self._batch_write(({"PutRequest": {"Item": self._wire(item)}} for item in items), doing)

    def delete_many(self, sks: Iterable[str], *, doing: str) -> None:
        """Unconditional deletes with BatchWriteItem (idempotent)."""
        self._batch_write(({"DeleteRequest": {"Key": self._key(sk)}} for sk in sks), doing)

    def _batch_write(self, requests: Iterable[Item], doing: str) -> None:
        pending = list(requests)
        for start in range(0, len(pending), BATCH_WRITE_MAX):
            request: dict[str, Any] = {self.name: pending[start : start + BATCH_WRITE_MAX]}
            for _ in _UNPROCESSED.attempts():
                try:
                    response = self.client.batch_write_item(RequestItems=request)
                except AWS_ERRORS as exc:
                    raise dependency_error(exc, doing) from exc
                request = dict(response.get("UnprocessedItems") or {})
                if not request:
                    break
            else:
                raise DependencyError(f"{doing} failed: memory storage is busy, try again shortly")

    def transact(self, actions: list[Item]) -> None:
        """TransactWriteItems of actions built by `put_action`, `update_action` and
        `delete_action`. Cancellations by a concurrent transaction on the same item (two inserts
        sharing a term's counter) are retried with jittered backoff; any other `ClientError`
        (e.g. a failed condition) is left to the caller."""
        for action in actions:
            next(iter(action.values()))["TableName"] = self.name
        conflict: Exception | None = None
        for _ in _CONFLICTS.attempts():
            try:
                self.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
                return
            except AWS_ERRORS as exc:
                codes = cancellation_codes(exc)
                if "TransactionConflict" not in codes or "ConditionalCheckFailed" in codes:
                    raise
                conflict = exc
        assert conflict is not None
        raise conflict
