"""The executor's writes to task items: the lease and the run state, as conditional UpdateItems that
touch only those attributes (never the user's fields), so a concurrent PATCH is not clobbered.

Beyond `TaskState`, a task item carries:
- `lease_until` (epoch ms) and `lease_run_id`: the run that holds the task. Taken with a condition
  (free, or expired), so two runs of one task never overlap, and a crashed run's lease expires.
- `backoff_until` (ISO time): after a failed run, scheduled slots before it are skipped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from heartbeat.dal.dynamo import deserialize, error_code, value
from heartbeat.dal.runs import RunsTable, cancellation_codes
from heartbeat.dal.tasks import TASK_PREFIX
from heartbeat.errors import DependencyError
from heartbeat.models.task import Task, task_from_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class TaskSnapshot:
    """A task as read by the executor, with the attributes only the executor uses."""

    task: Task
    lease_until_ms: int | None = None
    lease_run_id: str | None = None
    backoff_until: str | None = None

    def lease_held(self, now_ms: int) -> bool:
        return self.lease_until_ms is not None and self.lease_until_ms >= now_ms


class StartResult(enum.Enum):
    STARTED = "started"
    LEASE_HELD = "lease_held"  # another run holds the task (or the task is gone)
    RUN_TAKEN = "run_taken"  # another delivery already started (or finished) this run


@dataclass(frozen=True)
class RunState:
    """What one run leaves in the task's state. `consecutive_errors`/`last_error`/`backoff_until`
    are written only when `counts` (ok and error runs), never by a skipped slot."""

    last_status: str
    last_run_at: str
    last_run_id: str
    next_run_at: str | None
    counts: bool = False
    consecutive_errors: int = 0
    last_error: str | None = None
    backoff_until: str | None = None
    disabled_reason: str | None = None  # set: the task is disabled with this reason
    updated_at: str | None = None  # with disabled_reason: the task's updated_at


class _Update:
    """Builds one UpdateExpression with its names and values."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def set(self, name: str, v: Any) -> None:
        if v is None:
            self.remove(name)
            return
        self.names[f"#{name}"] = name
        self.values[f":{name}"] = value(v)
        self.sets.append(f"#{name} = :{name}")

    def remove(self, name: str) -> None:
        self.names[f"#{name}"] = name
        self.removes.append(f"#{name}")

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)


class TaskStateTable:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _key(self, tenant_id: str, task_id: str) -> dict[str, Any]:
        return {"pk": {"S": tenant_id}, "sk": {"S": task_id}}

    def load(self, tenant_id: str, task_id: str) -> TaskSnapshot | None:
        """The task with its lease and backoff (consistent read), or None when it does not exist."""
        if not task_id.startswith(TASK_PREFIX):
            return None
        try:
            response = self._client.get_item(
                TableName=self._table, Key=self._key(tenant_id, task_id), ConsistentRead=True
            )
        except ClientError as exc:
            raise DependencyError(f"reading the task failed ({error_code(exc)})") from exc
        if "Item" not in response:
            return None
        item = deserialize(response["Item"])
        lease_until = item.get("lease_until")
        return TaskSnapshot(
            task=task_from_item(item),
            lease_until_ms=int(lease_until) if lease_until is not None else None,
            lease_run_id=item.get("lease_run_id"),
            backoff_until=item.get("backoff_until"),
        )

    def start(
        self,
        tenant_id: str,
        task_id: str,
        *,
        runs: RunsTable,
        run_id: str,
        started_at: str,
        now_ms: int,
        lease_until_ms: int,
    ) -> StartResult:
        """In one transaction: take the task's lease (free or expired) and move the run from
        `queued` to `running`. Neither happens unless both can."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": self._key(tenant_id, task_id),
                            "UpdateExpression": "SET lease_until = :until, lease_run_id = :run",
                            "ConditionExpression": (
                                "attribute_exists(pk) AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                            ),
                            "ExpressionAttributeValues": {
                                ":until": value(lease_until_ms),
                                ":run": value(run_id),
                                ":now": value(now_ms),
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": runs.table_name,
                            "Key": runs.run_key(tenant_id, task_id, run_id),
                            "UpdateExpression": "SET #s = :running, started_at = :started REMOVE #r",
                            "ConditionExpression": "#s = :queued",
                            "ExpressionAttributeNames": {"#s": "status", "#r": "reason"},
                            "ExpressionAttributeValues": {
                                ":running": value("running"),
                                ":queued": value("queued"),
                                ":started": value(started_at),
                            },
                        }
                    },
                ]
            )
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return StartResult.RUN_TAKEN
            if codes and codes[0] == "ConditionalCheckFailed":
                return StartResult.LEASE_HELD
            raise DependencyError(f"starting the run failed ({error_code(exc)})") from exc
        return StartResult.STARTED

    def finish(
        self, tenant_id: str, task_id: str, run_id: str, state: RunState, *, expected_version: int
    ) -> bool:
        """Record a finished run in the task's state and release the lease, if this run still holds
        it. `next_run_at` is written only if the task is unchanged since it was read (a PATCH
        computes its own). False when the lease was lost or the task is gone."""
        return self._update(
            tenant_id,
            task_id,
            state,
            expected_version=expected_version,
            lease_condition="lease_run_id = :lease_run",
            lease_run_id=run_id,
            release=True,
        )

    def record_skip(self, tenant_id: str, task_id: str, state: RunState, *, expected_version: int) -> bool:
        """Record a skipped slot in the task's state (never touching the lease or the error count)."""
        return self._update(
            tenant_id,
            task_id,
            state,
            expected_version=expected_version,
            lease_condition=None,
            lease_run_id=None,
            release=False,
        )

    def _update(
        self,
        tenant_id: str,
        task_id: str,
        state: RunState,
        *,
        expected_version: int,
        lease_condition: str | None,
        lease_run_id: str | None,
        release: bool,
    ) -> bool:
        for with_version in (True, False):
            update = _Update()
            update.set("last_status", state.last_status)
            update.set("last_run_at", state.last_run_at)
            update.set("last_run_id", state.last_run_id)
            if state.counts:
                update.set("consecutive_errors", state.consecutive_errors)
                update.set("last_error", state.last_error)
                update.set("backoff_until", state.backoff_until)
            if state.disabled_reason is not None:
                update.set("enabled", False)
                update.set("disabled_reason", state.disabled_reason)
                update.set("updated_at", state.updated_at)
                update.remove("next_run_at")
                update.names["#version"] = "version"
                update.values[":one"] = value(1)
                update.sets.append("#version = #version + :one")
            elif with_version:
                update.set("next_run_at", state.next_run_at)
            if release:
                update.remove("lease_until")
                update.remove("lease_run_id")
            conditions = ["attribute_exists(pk)"]
            if lease_condition is not None:
                conditions.append(lease_condition)
                update.values[":lease_run"] = value(lease_run_id)
            if with_version:
                update.names["#version"] = "version"
                update.values[":expected"] = value(expected_version)
                conditions.append("#version = :expected")
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key=self._key(tenant_id, task_id),
                    UpdateExpression=update.expression(),
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames=update.names,
                    ExpressionAttributeValues=update.values,
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    continue  # first: the task changed (retry without next_run_at); then: give up
                raise DependencyError(f"updating the task's state failed ({error_code(exc)})") from exc
            return True
        return False
