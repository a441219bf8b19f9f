"""The executor's writes to task items: the lease and the run state, as conditional updates that
touch only those attributes (never the user's fields), so a concurrent PATCH is not clobbered.
A run's start and finish are each one transaction that also writes its run record and takes or
gives back the tenant's run slot (see `start` and `finish`).

Beyond `TaskState`, a task item carries:
- `lease_until` (epoch ms) and `lease_run_id`: the run that holds the task. Taken with a condition
  (free, or expired), so two runs of one task never overlap, and a crashed run's lease expires.
- `backoff_until` (ISO time): after a failed run, scheduled slots before it are skipped.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import AWS_ERRORS, cancellation_codes, deserialize, error_code, value
from heartbeat.dal.runs import RunsTable
from heartbeat.dal.tasks import TASK_PREFIX
from heartbeat.errors import DependencyError
from heartbeat.models.task import Task, task_from_item
from heartbeat.retry import Backoff

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from heartbeat.models.run import Run

LEASE_EXPIRED_REASON = "lease_expired"  # the reason of a run whose lease expired before it finished
_FAILED = "ConditionalCheckFailed"
_CANCEL_CODES = frozenset({"None", _FAILED, "TransactionConflict"})
_CONFLICTS = Backoff(3)  # transactions cancelled by a concurrent write only: try again at once


@dataclass(frozen=True)
class TaskSnapshot:
    """A task as read by the executor, with the attributes only the executor uses."""

    task: Task
    lease_until_ms: int | None = None
    lease_run_id: str | None = None
    backoff_until: str | None = None
    subscriptions: tuple[dict[str, Any], ...] = ()  # what the tenant's enabled webhooks want
    meta: dict[str, Any] = field(default_factory=dict)  # the tenant's #meta item
    also: tuple[str, dict[str, Any] | None] | None = None  # (sort key, item or None) read with it

    def lease_held(self, now_ms: int) -> bool:
        return self.lease_until_ms is not None and self.lease_until_ms >= now_ms


class StartResult(enum.Enum):
    STARTED = "started"
    LEASE_HELD = "lease_held"  # another run holds the task (or the task is gone)
    RUN_TAKEN = "run_taken"  # another delivery already started (or finished) this run
    SLOT_TAKEN = "slot_taken"  # the tenant's run slot tried is held by another run


@dataclass(frozen=True)
class FinishResult:
    """Which parts of a finished run were written: its record, the task's state (False: the
    lease was lost or the task is gone), the tenant slot's release (False: it had expired).
    `unchanged`: the state was written against the task as the run read it (so a failure was
    counted, and an auto-disable applied); False when the task had been changed meanwhile."""

    record: bool
    state: bool
    slot: bool
    unchanged: bool = False


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

    def load(
        self, tenant_id: str, task_id: str, *, also: tuple[str, dict[str, Any]] | None = None
    ) -> TaskSnapshot | None:
        """The task with its lease and backoff (consistent read), or None when it does not exist.
        The tenant's `#meta` item comes in the same request (BatchGetItem): it says which events
        the tenant's enabled webhooks want (and holds the tenant's budget). `also` = (table, key)
        reads one more item in that request (the executor's: today's usage), in `snapshot.also`."""
        if not task_id.startswith(TASK_PREFIX):
            return None
        from heartbeat.dal.webhooks import META_SK, subscriptions_from_meta

        task_key = self._key(tenant_id, task_id)
        keys = [task_key, {"pk": {"S": tenant_id}, "sk": {"S": META_SK}}]
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        if also is not None:
            request[also[0]] = {"Keys": [also[1]], "ConsistentRead": True}
        items: dict[str, list[dict[str, Any]]] = {}
        try:
            for _ in range(5):
                response = self._client.batch_get_item(RequestItems=request)
                for table, found_items in response.get("Responses", {}).items():
                    items.setdefault(table, []).extend(found_items)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise DependencyError("reading the task failed (its keys stayed unprocessed)")
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the task failed ({error_code(exc)})") from exc
        found = {item["sk"]["S"]: deserialize(item) for item in items.get(self._table, [])}
        item = found.get(task_id)
        if item is None:
            return None
        lease_until = item.get("lease_until")
        extra = items.get(also[0], []) if also is not None else []
        return TaskSnapshot(
            task=task_from_item(item),
            lease_until_ms=int(lease_until) if lease_until is not None else None,
            lease_run_id=item.get("lease_run_id"),
            backoff_until=item.get("backoff_until"),
            subscriptions=tuple(subscriptions_from_meta(found.get(META_SK, {}))),
            meta=found.get(META_SK, {}),
            also=(also[1]["sk"]["S"], deserialize(extra[0]) if extra else None) if also is not None else None,
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
        slot: int,
    ) -> StartResult:
        """In one transaction: take the task's lease (free or expired), move the run from `queued`
        to `running`, and take the tenant's run slot `slot` until the lease's end. None of them
        happens unless all can. A write racing this one (TransactionConflict) is retried."""
        items: list[Any] = [
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
            runs.take_slot_item(tenant_id, slot, run_id, now_ms=now_ms, until_ms=lease_until_ms),
        ]
        for _ in _CONFLICTS.attempts():
            try:
                self._client.transact_write_items(TransactItems=items)
            except AWS_ERRORS as exc:
                codes = cancellation_codes(exc)
                if not codes or any(code not in _CANCEL_CODES for code in codes):
                    raise DependencyError(f"starting the run failed ({error_code(exc)})") from exc
                run_code, lease_code, slot_code = codes[1], codes[0], codes[2]
                if run_code == _FAILED:
                    return StartResult.RUN_TAKEN
                if lease_code == _FAILED:
                    return StartResult.LEASE_HELD
                if slot_code == _FAILED:
                    return StartResult.SLOT_TAKEN
                continue  # only conflicts: another write was touching one of the items
            return StartResult.STARTED
        raise DependencyError("starting the run failed: its items kept changing under concurrent writes")

    def finish(
        self,
        tenant_id: str,
        task_id: str,
        run_id: str,
        state: RunState,
        *,
        expected_version: int,
        runs: RunsTable,
        record: Run,
        slot: int | None,
        usage_item: dict[str, Any] | None = None,
    ) -> FinishResult:
        """In one transaction: write the run's final `record` (if it is still `running`, or was
        marked `lease_expired` by the delivery that released its dead lease), record it in the
        task's state and release the lease (if this run still holds it), and give the tenant's run
        slot back (if this run still holds it).

        Each part keeps its own condition: when one fails the transaction is tried again without it,
        so a lost lease or slot never stops the record (as separate writes would behave). With
        `usage_item` (`UsageTable.add_item`) the run's usage is added to its day in the same write. The
        task's `next_run_at` is written only if the task is unchanged since it was read (a PATCH
        computes its own): a changed task is tried again without it, then without the task. A
        failed run of a task changed meanwhile (re-enabled, edited) records its status but not its
        error count, backoff or auto-disable: those belong to the task as it is now."""
        parts: dict[str, list[dict[str, Any]]] = {
            "record": [runs.finish_record_item(record, ("running",), or_reason=LEASE_EXPIRED_REASON)],
            "state": [
                self._state_item(
                    tenant_id,
                    task_id,
                    state,
                    expected_version=expected_version,
                    lease_run_id=run_id,
                    with_version=v,
                )
                for v in (True, False)
            ],
        }
        if slot is not None:
            parts["slot"] = [runs.release_slot_item(tenant_id, slot, run_id)]
        if usage_item is not None:  # the run's tokens added to its tenant's day (no condition)
            parts["usage"] = [usage_item]
        choice = dict.fromkeys(parts, 0)  # which alternative of each part is tried; gone: dropped
        # Each failed condition drops an alternative; conflicts alone get _CONFLICTS' attempts.
        attempts = replace(_CONFLICTS, attempts_max=sum(map(len, parts.values())) + _CONFLICTS.attempts_max)
        for _ in attempts.attempts():
            names = list(choice)
            if not names:
                break
            try:
                items: list[Any] = [parts[n][choice[n]] for n in names]
                self._client.transact_write_items(TransactItems=items)
            except AWS_ERRORS as exc:
                codes = cancellation_codes(exc)
                if len(codes) != len(names) or any(code not in _CANCEL_CODES for code in codes):
                    raise DependencyError(f"recording the finished run failed ({error_code(exc)})") from exc
                for name, code in zip(names, codes, strict=True):
                    if code == _FAILED:
                        choice[name] += 1
                        if choice[name] == len(parts[name]):
                            del choice[name]
                continue
            return FinishResult(
                record="record" in choice,
                state="state" in choice,
                slot="slot" in choice,
                unchanged=choice.get("state") == 0,
            )
        if not choice:
            return FinishResult(record=False, state=False, slot=False)
        raise DependencyError(
            "recording the finished run failed: its items kept changing under concurrent writes"
        )

    def record_skip(self, tenant_id: str, task_id: str, state: RunState, *, expected_version: int) -> bool:
        """Record a skipped slot in the task's state (never touching the lease or the error count).
        `next_run_at` only if the task is unchanged since it was read; False when it is gone."""
        for with_version in (True, False):
            item = self._state_item(
                tenant_id,
                task_id,
                state,
                expected_version=expected_version,
                lease_run_id=None,
                with_version=with_version,
            )["Update"]
            try:
                self._client.update_item(**item)
            except AWS_ERRORS as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    continue  # first: the task changed (retry without next_run_at); then: it is gone
                raise DependencyError(f"updating the task's state failed ({error_code(exc)})") from exc
            return True
        return False

    def _state_item(
        self,
        tenant_id: str,
        task_id: str,
        state: RunState,
        *,
        expected_version: int,
        lease_run_id: str | None,
        with_version: bool,
    ) -> dict[str, Any]:
        """The UpdateItem (as a transaction item) of the task's state fields only. With
        `lease_run_id`: only while that run holds the lease, which it releases. With `with_version`:
        `next_run_at` too, only if the task's `version` is `expected_version`."""
        update = _Update()
        update.set("last_status", state.last_status)
        update.set("last_run_at", state.last_run_at)
        update.set("last_run_id", state.last_run_id)
        if state.counts:
            update.set("last_error", state.last_error)
            # A failure counts only against the task it ran as (with_version); a success always clears.
            if with_version or state.last_status != "error":
                update.set("consecutive_errors", state.consecutive_errors)
                update.set("backoff_until", state.backoff_until)
        if state.disabled_reason is not None and with_version:
            update.set("enabled", False)
            update.set("disabled_reason", state.disabled_reason)
            update.set("updated_at", state.updated_at)
            update.remove("next_run_at")
            update.names["#version"] = "version"
            update.values[":one"] = value(1)
            update.sets.append("#version = #version + :one")
        elif with_version:
            update.set("next_run_at", state.next_run_at)
        conditions = ["attribute_exists(pk)"]
        if lease_run_id is not None:
            update.remove("lease_until")
            update.remove("lease_run_id")
            conditions.append("lease_run_id = :lease_run")
            update.values[":lease_run"] = value(lease_run_id)
        if with_version:
            update.names["#version"] = "version"
            update.values[":expected"] = value(expected_version)
            conditions.append("#version = :expected")
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._key(tenant_id, task_id),
                "UpdateExpression": update.expression(),
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeNames": update.names,
                "ExpressionAttributeValues": update.values,
            }
        }
