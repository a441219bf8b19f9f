"""Usage counters and budgets in DynamoDB.

| table | pk | sk | item |
| --- | --- | --- | --- |
| Runs | `{tenant}#usage` | `day#YYYY-MM-DD` | one tenant's usage on one UTC day: `runs`, `input_tokens`, `output_tokens`, `cached_tokens`, `total_tokens`, `cost_usd`, `exhausted_at` (TTL `expires_at`, 100 days) |
| Tasks | `{tenant}` | `#meta` | the tenant's item (`task_count`), with `daily_token_budget` when an operator set one |

A finished run adds to its day's item with an `ADD` inside the run's finish transaction
(`add_item`), so counting costs no request of its own and concurrent runs never lose an update.
The item is one per tenant and day: its writes are the tenant's run finishes, which its concurrency
limit bounds (see docs/decisions/2026-12-01-budgets-and-usage.md), so it is never a hot key.
The executor reads the tenant's budget and the day's usage in one `BatchGetItem` (`budget`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import AWS_ERRORS, deserialize, error_code, value
from heartbeat.dal.tasks import META_SK
from heartbeat.errors import DependencyError
from heartbeat.models.usage import BudgetView, DayUsage, effective_budget

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from heartbeat.soul.types import Usage

USAGE_PK_SUFFIX = "#usage"
DAY_SK_PREFIX = "day#"
BUDGET_ATTRIBUTE = "daily_token_budget"
RETENTION = timedelta(days=100)  # GET /v1/usage answers up to 90 days


def day_from_item(item: dict[str, Any]) -> DayUsage:
    return DayUsage(
        date=str(item["sk"])[len(DAY_SK_PREFIX) :],
        runs=int(item.get("runs", 0)),
        input_tokens=int(item.get("input_tokens", 0)),
        output_tokens=int(item.get("output_tokens", 0)),
        cached_tokens=int(item.get("cached_tokens", 0)),
        total_tokens=int(item.get("total_tokens", 0)),
        cost_usd=float(item.get("cost_usd", 0)),
        exhausted_at=item.get("exhausted_at"),
    )


class UsageTable:
    def __init__(self, client: DynamoDBClient, runs_table: str, tasks_table: str) -> None:
        self._client = client
        self._runs = runs_table
        self._tasks = tasks_table

    def _day_key(self, tenant_id: str, day: str) -> dict[str, Any]:
        return {"pk": {"S": tenant_id + USAGE_PK_SUFFIX}, "sk": {"S": DAY_SK_PREFIX + day}}

    def _meta_key(self, tenant_id: str) -> dict[str, Any]:
        return {"pk": {"S": tenant_id}, "sk": {"S": META_SK}}

    # -- the executor --------------------------------------------------------------------------
    def add_item(self, tenant_id: str, day: str, usage: Usage, cost_usd: float | None) -> dict[str, Any]:
        """The transaction item that adds one finished run to its day (creating the day's item)."""
        expires = datetime.fromisoformat(day).replace(tzinfo=UTC) + RETENTION
        return {
            "Update": {
                "TableName": self._runs,
                "Key": self._day_key(tenant_id, day),
                "UpdateExpression": (
                    "ADD #runs :one, input_tokens :input, output_tokens :output, cached_tokens :cached, "
                    "total_tokens :total, cost_usd :cost SET expires_at = :expires"
                ),
                "ExpressionAttributeNames": {"#runs": "runs"},
                "ExpressionAttributeValues": {
                    ":one": value(1),
                    ":input": value(usage.input_tokens + usage.cache_write_tokens),
                    ":output": value(usage.output_tokens),
                    ":cached": value(usage.cache_read_tokens),
                    ":total": value(usage.total_tokens),
                    ":cost": {"N": str(Decimal(str(cost_usd or 0)))},
                    ":expires": value(int(expires.timestamp())),
                },
            }
        }

    def day_request(self, tenant_id: str, day: str) -> tuple[str, dict[str, Any]]:
        """(table, key) of the tenant's usage item for `day`: read with the task at a run's start."""
        return self._runs, self._day_key(tenant_id, day)

    def budget(self, tenant_id: str, day: str, *, default: int) -> BudgetView:
        """The tenant's budget and the day's usage so far: one strongly consistent BatchGetItem."""
        request: dict[str, Any] = {
            self._tasks: {
                "Keys": [self._meta_key(tenant_id)],
                "ProjectionExpression": BUDGET_ATTRIBUTE,
                "ConsistentRead": True,
            },
            self._runs: {"Keys": [self._day_key(tenant_id, day)], "ConsistentRead": True},
        }
        found: dict[str, list[dict[str, Any]]] = {self._tasks: [], self._runs: []}
        for _ in range(5):
            try:
                response = self._client.batch_get_item(RequestItems=request)
            except AWS_ERRORS as exc:
                raise DependencyError(f"reading the tenant's budget failed ({error_code(exc)})") from exc
            for table, items in response.get("Responses", {}).items():
                found.setdefault(table, []).extend(deserialize(i) for i in items)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise DependencyError("reading the tenant's budget failed: DynamoDB kept the keys unprocessed")
        meta = found[self._tasks][0] if found[self._tasks] else {}
        return budget_from(meta, found[self._runs][0] if found[self._runs] else None, day, default=default)

    def mark_exhausted(self, tenant_id: str, day: str, at: str) -> bool:
        """Record that the day's `budget.exhausted` event goes out; True for the one caller that
        wrote the marker (a conditional write: exactly once per tenant and day)."""
        try:
            self._client.update_item(
                TableName=self._runs,
                Key=self._day_key(tenant_id, day),
                UpdateExpression="SET exhausted_at = :at",
                ConditionExpression="attribute_not_exists(exhausted_at)",
                ExpressionAttributeValues={":at": value(at)},
            )
        except AWS_ERRORS as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise DependencyError(f"recording the exhausted budget failed ({error_code(exc)})") from exc
        return True

    # -- the API and the operator ----------------------------------------------------------------
    def days(self, tenant_id: str, first: str, last: str) -> list[DayUsage]:
        """The tenant's day items from `first` to `last` (ISO dates, inclusive)."""
        query: dict[str, Any] = {
            "TableName": self._runs,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": tenant_id + USAGE_PK_SUFFIX},
                ":first": {"S": DAY_SK_PREFIX + first},
                ":last": {"S": DAY_SK_PREFIX + last},
            },
        }
        out: list[DayUsage] = []
        while True:
            try:
                response = self._client.query(**query)
            except AWS_ERRORS as exc:
                raise DependencyError(f"reading usage failed ({error_code(exc)})") from exc
            out.extend(day_from_item(deserialize(item)) for item in response.get("Items", []))
            last_key = response.get("LastEvaluatedKey")
            if not last_key:
                return out
            query["ExclusiveStartKey"] = last_key

    def budget_override(self, tenant_id: str) -> int | None:
        try:
            response = self._client.get_item(
                TableName=self._tasks,
                Key=self._meta_key(tenant_id),
                ProjectionExpression=BUDGET_ATTRIBUTE,
                ConsistentRead=True,
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the tenant's budget failed ({error_code(exc)})") from exc
        raw = response.get("Item", {}).get(BUDGET_ATTRIBUTE)
        return int(raw["N"]) if raw is not None else None

    def set_budget_override(self, tenant_id: str, daily_tokens: int | None) -> None:
        """Set (or, with None, remove: back to the deployment's default) the tenant's daily budget.
        Only that attribute of the tenant's item is touched (its task count stays)."""
        request: dict[str, Any] = {
            "TableName": self._tasks,
            "Key": self._meta_key(tenant_id),
            "ExpressionAttributeNames": {"#b": BUDGET_ATTRIBUTE},
        }
        if daily_tokens is None:
            request["UpdateExpression"] = "REMOVE #b"
        else:
            request["UpdateExpression"] = "SET #b = :b"
            request["ExpressionAttributeValues"] = {":b": value(daily_tokens)}
        try:
            self._client.update_item(**request)
        except AWS_ERRORS as exc:
            raise DependencyError(f"saving the tenant's budget failed ({error_code(exc)})") from exc


def budget_from(
    meta: dict[str, Any], day_item: dict[str, Any] | None, day: str, *, default: int
) -> BudgetView:
    """The budget view from the tenant's #meta item and its usage item of `day` (None: no runs yet)."""
    override = meta.get(BUDGET_ATTRIBUTE)
    return BudgetView(
        daily_tokens=effective_budget(int(override) if override is not None else None, default),
        today=day_from_item(day_item) if day_item is not None else DayUsage(date=day),
    )
