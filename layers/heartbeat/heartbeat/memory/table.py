"""Access to one tenant's partition of the Memory table with the low-level DynamoDB client.

Every key this class builds has `pk` = the tenant it was made for, so callers pass sort keys only
and cannot name another tenant. It counts the items it reads (`items_read`), which is how the
search budget is checked, and turns `ClientError`s it does not expect into `DependencyError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import AWS_ERRORS, cancellation_codes, error_code
from heartbeat.errors import DependencyError
from heartbeat.retry import Backoff

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = dict[str, Any]

BATCH_GET_MAX = 100
BATCH_WRITE_MAX = 25
TRANSACTION_MAX = 100
_UNPROCESSED = Backoff(8, base_s=0.05, max_s=1.0)  # a batch's unprocessed items, tried again
_CONFLICTS = Backoff(7, base_s=0.02, max_s=0.5)  # transactions cancelled by a concurrent one


def dependency_error(exc: Exception, doing: str) -> DependencyError:
    code = error_code(exc)
    if code == "ResourceNotFoundException":
        return DependencyError(f"{doing} failed: the memory table does not exist ({code})")
    if code in {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}:
        return DependencyError(f"{doing} failed: memory storage is busy, try again shortly ({code})")
    return DependencyError(f"{doing} failed ({code or 'unknown error'})")


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def get_s(item: Item, name: str) -> str | None:
    attr = item.get(name)
    return attr["S"] if attr and "S" in attr else None


def get_n(item: Item, name: str, default: int = 0) -> int:
    attr = item.get(name)
    return int(attr["N"]) if attr and "N" in attr else default


class MemoryTable:
    def __init__(self, client: DynamoDBClient, table_name: str, tenant_id: str) -> None:
        if not tenant_id:
            raise ValueError("tenant_id must not be empty")
        self.client = client
        self.name = table_name
        self.tenant_id = tenant_id
        self.items_read = 0

    def key(self, sk: str) -> Item:
        return {"pk": s(self.tenant_id), "sk": s(sk)}

    def item(self, sk: str, **attrs: dict[str, Any]) -> Item:
        return {"pk": s(self.tenant_id), "sk": s(sk), **attrs}

    def get(self, sk: str, *, doing: str, projection: str | None = None) -> Item | None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": self.key(sk), "ConsistentRead": True}
        if projection:
            kwargs["ProjectionExpression"] = projection
        try:
            response = self.client.get_item(**kwargs)
        except AWS_ERRORS as exc:
            raise dependency_error(exc, doing) from exc
        item = response.get("Item")
        if item is not None:
            self.items_read += 1
        return item

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
        filter_values: dict[str, Any] | None = None,
        consistent: bool = True,
    ) -> tuple[list[Item], str | None]:
        """One page of items whose sk begins with `prefix`; the sk to continue from, or None."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": s(self.tenant_id), ":prefix": s(prefix)},
            "ScanIndexForward": not newest_first,
            "ConsistentRead": consistent,
        }
        if limit is not None:
            kwargs["Limit"] = limit
        if start_sk is not None:
            kwargs["ExclusiveStartKey"] = self.key(start_sk)
        if projection:
            kwargs["ProjectionExpression"] = projection
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
            kwargs["ExpressionAttributeValues"].update(filter_values or {})
        try:
            response = self.client.query(**kwargs)
        except AWS_ERRORS as exc:
            raise dependency_error(exc, doing) from exc
        self.items_read += int(response.get("ScannedCount", response.get("Count", 0)))
        last = response.get("LastEvaluatedKey")
        return list(response.get("Items", [])), (last["sk"]["S"] if last else None)

    def batch_get(
        self,
        sks: Sequence[str],
        *,
        doing: str,
        projection: str | None = None,
        names: dict[str, str] | None = None,
    ) -> list[Item]:
        """The items that exist among `sks`, in no particular order (strongly consistent)."""
        found: list[Item] = []
        unique = list(dict.fromkeys(sks))
        for start in range(0, len(unique), BATCH_GET_MAX):
            request: dict[str, Any] = {
                self.name: {"Keys": [self.key(sk) for sk in unique[start : start + BATCH_GET_MAX]]}
            }
            request[self.name]["ConsistentRead"] = True
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
                found.extend(items)
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
            else:
                raise DependencyError(f"{doing} failed: memory storage is busy, try again shortly")
        return found

    def batch_write(self, requests: Iterable[Item], *, doing: str) -> None:
        """Idempotent puts and deletes (`{"PutRequest": ...}` / `{"DeleteRequest": ...}`)."""
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
        """TransactWriteItems. Cancellations by a concurrent transaction on the same item (two
        inserts sharing a term's counter) are retried with jittered backoff; any other
        `ClientError` (e.g. a failed condition) is left to the caller."""
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
