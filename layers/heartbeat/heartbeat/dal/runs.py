"""The Runs table: run records, slot claims and the tenants' concurrency slots.

| pk | sk | item |
| --- | --- | --- |
| `{tenant}#{task}` | `run#{run_id}` | a run record (TTL `expires_at`); a scheduled run's id is derived from its slot, so the record is also the slot's claim |
| `{tenant}#concurrency` | `slot#{n}` | one of the tenant's K run slots, held until `lease_until` |

Every write that decides something (who owns a slot, who runs a queued run, who holds a
concurrency slot) is a conditional write, so concurrent deliveries agree without locks.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import (
    AWS_ERRORS,
    decode_cursor,
    deserialize,
    encode_cursor,
    error_code,
    serialize,
    value,
)
from heartbeat.errors import DependencyError, NotFoundError
from heartbeat.models.run import RUN_SK_PREFIX, Run, run_from_item, run_to_item, runs_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONCURRENCY_PK_SUFFIX = "#concurrency"
SLOT_SK_PREFIX = "slot#"


def _conditional_failed(exc: Exception) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


class RunsTable:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @property
    def table_name(self) -> str:
        return self._table

    @staticmethod
    def run_key(tenant_id: str, task_id: str, run_id: str) -> dict[str, Any]:
        return {"pk": {"S": runs_pk(tenant_id, task_id)}, "sk": {"S": RUN_SK_PREFIX + run_id}}

    # -- slots -------------------------------------------------------------------------------
    def claim_slot(self, run: Run) -> bool:
        """Store `run` unless a record with its id exists. A scheduled run's id is derived from its
        slot (`slot_run_id`), so this one conditional put is the slot's claim: False means another
        delivery of the same slot got there first, and nothing is written."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(run_to_item(run)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except AWS_ERRORS as exc:
            if _conditional_failed(exc):
                return False
            raise DependencyError(f"claiming the slot failed ({error_code(exc)})") from exc
        return True

    # -- run records -------------------------------------------------------------------------
    def insert(self, run: Run) -> None:
        """Store a new run record under an id fixed before the call. A record already there is
        this write's own (botocore retried a put whose answer was lost): the insert succeeded."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(run_to_item(run)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except AWS_ERRORS as exc:
            if _conditional_failed(exc):
                return
            raise DependencyError(f"saving the run failed ({error_code(exc)})") from exc

    def find(self, tenant_id: str, task_id: str, run_id: str) -> Run | None:
        try:
            return self.get(tenant_id, task_id, run_id)
        except NotFoundError:
            return None

    def get(self, tenant_id: str, task_id: str, run_id: str) -> Run:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=self.run_key(tenant_id, task_id, run_id), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the run failed ({error_code(exc)})") from exc
        if "Item" not in response:
            raise NotFoundError(f"no run with id '{run_id}'", param="run_id")
        return run_from_item(deserialize(response["Item"]))

    def save_if(self, run: Run, statuses: Iterable[str], *, or_reason: str | None = None) -> bool:
        """Write the whole record if it is still in one of `statuses` (or, with `or_reason`, has
        that reason). False when another writer moved it on first."""
        condition, names, values = self._status_condition(statuses, or_reason)
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(run_to_item(run)),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except AWS_ERRORS as exc:
            if _conditional_failed(exc):
                return False
            raise DependencyError(f"saving the run failed ({error_code(exc)})") from exc
        return True

    @staticmethod
    def _status_condition(
        statuses: Iterable[str], or_reason: str | None
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        names = {"#s": "status"}
        values: dict[str, Any] = {}
        options = []
        for index, status in enumerate(statuses):
            values[f":s{index}"] = value(status)
            options.append(f":s{index}")
        condition = f"#s IN ({', '.join(options)})"
        if or_reason is not None:
            names["#r"] = "reason"
            values[":r"] = value(or_reason)
            condition = f"({condition}) OR #r = :r"
        return f"attribute_exists(pk) AND ({condition})", names, values

    def set_reason_if_queued(self, tenant_id: str, task_id: str, run_id: str, reason: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self.run_key(tenant_id, task_id, run_id),
                UpdateExpression="SET #r = :r",
                ConditionExpression="#s = :queued",
                ExpressionAttributeNames={"#r": "reason", "#s": "status"},
                ExpressionAttributeValues={":r": value(reason), ":queued": value("queued")},
            )
        except AWS_ERRORS as exc:
            if _conditional_failed(exc):
                return
            raise DependencyError(f"updating the run failed ({error_code(exc)})") from exc

    def page(
        self, tenant_id: str, task_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Run], str | None]:
        """One page of a task's runs, newest first, and the cursor of the next page."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": runs_pk(tenant_id, task_id)},
                ":prefix": {"S": RUN_SK_PREFIX},
            },
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = {
                "pk": {"S": runs_pk(tenant_id, task_id)},
                "sk": {"S": decode_cursor(cursor, RUN_SK_PREFIX)},
            }
        try:
            response = self._client.query(**query)
        except AWS_ERRORS as exc:
            raise DependencyError(f"listing runs failed ({error_code(exc)})") from exc
        runs = [run_from_item(deserialize(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return runs, (encode_cursor(last) if last and len(runs) == limit else None)

    # -- tenant concurrency ------------------------------------------------------------------
    # A slot is taken inside the executor's start transaction (`TaskStateTable.start`, with
    # `take_slot_item`) and given back inside its finish transaction (`release_slot_item`), so
    # neither costs a request of its own.
    @staticmethod
    def preferred_slot(run_id: str, limit: int) -> int:
        """The slot a run tries first: spread by its id, so concurrent runs of one tenant rarely
        try the same one, and the common case needs no read of which slots are free."""
        return zlib.crc32(run_id.encode()) % limit

    def take_slot_item(
        self, tenant_id: str, index: int, run_id: str, *, now_ms: int, until_ms: int
    ) -> dict[str, Any]:
        """The transaction item that takes slot `index` until `until_ms` (epoch ms) if it is free or
        its holder's time has passed (a crashed run frees its slot at its expiry)."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._concurrency_key(tenant_id, index),
                "UpdateExpression": "SET lease_until = :until, run_id = :run",
                "ConditionExpression": "attribute_not_exists(lease_until) OR lease_until < :now",
                "ExpressionAttributeValues": {
                    ":until": value(until_ms),
                    ":run": value(run_id),
                    ":now": value(now_ms),
                },
            }
        }

    def release_slot_item(self, tenant_id: str, index: int, run_id: str) -> dict[str, Any]:
        """The transaction item that gives slot `index` back if `run_id` still holds it."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._concurrency_key(tenant_id, index),
                "UpdateExpression": "REMOVE lease_until, run_id",
                "ConditionExpression": "run_id = :run",
                "ExpressionAttributeValues": {":run": value(run_id)},
            }
        }

    def free_slots(self, tenant_id: str, *, limit: int, now_ms: int) -> list[int]:
        """The tenant's slots (of `limit`) that are free or expired now: one strongly consistent
        Query, made only after the preferred slot turned out to be taken."""
        try:
            response = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": tenant_id + CONCURRENCY_PK_SUFFIX}},
                ConsistentRead=True,
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the tenant's run slots failed ({error_code(exc)})") from exc
        held = set()
        for item in response.get("Items", []):
            slot = deserialize(item)
            until = slot.get("lease_until")
            if until is not None and int(until) >= now_ms:
                held.add(str(slot["sk"]))
        return [index for index in range(limit) if f"{SLOT_SK_PREFIX}{index}" not in held]

    def release_concurrency(self, tenant_id: str, index: int, run_id: str) -> None:
        """Give a slot back on its own: only when a run ends without its finish transaction."""
        try:
            self._client.update_item(**self.release_slot_item(tenant_id, index, run_id)["Update"])
        except AWS_ERRORS as exc:
            if _conditional_failed(exc):
                return  # it expired and another run holds it now (or it was released already)
            raise DependencyError(f"releasing a run slot failed ({error_code(exc)})") from exc

    def finish_record_item(
        self, run: Run, statuses: Iterable[str], *, or_reason: str | None = None
    ) -> dict[str, Any]:
        """The transaction item of `save_if`: the whole record, if it is still in one of `statuses`
        (or, with `or_reason`, has that reason)."""
        condition, names, values = self._status_condition(statuses, or_reason)
        return {
            "Put": {
                "TableName": self._table,
                "Item": serialize(run_to_item(run)),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    @staticmethod
    def _concurrency_key(tenant_id: str, index: int) -> dict[str, Any]:
        return {"pk": {"S": tenant_id + CONCURRENCY_PK_SUFFIX}, "sk": {"S": f"{SLOT_SK_PREFIX}{index}"}}
