"""EventBridge Scheduler: one schedule per task (two for a cron whose day fields are both
restricted), named deterministically from tenant and task, targeting the executor."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.dal.shards import ExecutorTargets
from heartbeat.errors import DependencyError, InvalidRequestError

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

    from heartbeat.schedule import EventBridgeSchedule

# The context attribute EventBridge Scheduler replaces with the slot's time when it invokes.
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


def schedule_names(tenant_id: str, task_id: str, count: int) -> list[str]:
    """`hb-<12 hex of sha256(tenant)>-<task id>-<n>`: at most 52 characters of [0-9a-z_-],
    unique per tenant and task, and derivable without a read."""
    tenant_hash = hashlib.sha256(tenant_id.encode()).hexdigest()[:12]
    return [f"hb-{tenant_hash}-{task_id}-{n}" for n in range(1, count + 1)]


def flexible_time_window(minutes: int) -> dict[str, Any]:
    """EventBridge's FlexibleTimeWindow for a task's `flexible_window_minutes` (0: off)."""
    return {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": minutes} if minutes > 0 else {"Mode": "OFF"}


def schedule_input(tenant_id: str, task_id: str) -> str:
    return json.dumps({"tenant_id": tenant_id, "task_id": task_id, "scheduled_time": SCHEDULED_TIME})


@dataclass(frozen=True)
class ScheduleTarget:
    """Where schedules point and how they retry: the stack's executor, role and dead-letter queue.
    With `executors`, a tenant's schedules target its shard (`ExecutorTargets.for_tenant`);
    without, every schedule targets `executor_arn`."""

    group: str
    executor_arn: str
    role_arn: str
    dlq_arn: str | None = None
    max_retries: int = 3
    max_event_age_seconds: int = 3600
    executors: ExecutorTargets | None = None

    def arn_for(self, tenant_id: str) -> str:
        return self.executors.for_tenant(tenant_id) if self.executors else self.executor_arn


class SchedulesGateway:
    def __init__(self, client: EventBridgeSchedulerClient, target: ScheduleTarget) -> None:
        self._client = client
        self._target = target

    def put(
        self,
        name: str,
        schedule: EventBridgeSchedule,
        *,
        tenant_id: str,
        task_id: str,
        enabled: bool,
        one_time: bool,
        create: bool,
        flexible_window_minutes: int = 0,
        max_event_age_seconds: int | None = None,
        token: str | None = None,
    ) -> None:
        """Create, or replace whole (UpdateSchedule replaces every field), one schedule. With a
        flexible window, EventBridge invokes at a random time up to that many minutes after each
        slot; the slot itself is still what `<aws.scheduler.scheduled-time>` carries.
        `max_event_age_seconds` (60-86400): the task's catch-up window, after which EventBridge
        stops retrying a delivery the executor would only record as missed (default: the target's).
        `token` (the request's ClientToken) makes a retry of the same write, after an answer that
        was lost, a no-op on AWS; a create that finds its schedule already there (our own earlier
        attempt: names derive from a task id fixed before the first call) replaces it instead."""
        target: dict[str, Any] = {
            "Arn": self._target.arn_for(tenant_id),
            "RoleArn": self._target.role_arn,
            "Input": schedule_input(tenant_id, task_id),
            "RetryPolicy": {
                "MaximumRetryAttempts": self._target.max_retries,
                "MaximumEventAgeInSeconds": min(
                    max(max_event_age_seconds or self._target.max_event_age_seconds, 60), 86_400
                ),
            },
        }
        if self._target.dlq_arn:
            target["DeadLetterConfig"] = {"Arn": self._target.dlq_arn}
        request: dict[str, Any] = {
            "Name": name,
            "GroupName": self._target.group,
            "ScheduleExpression": schedule.expression,
            "ScheduleExpressionTimezone": schedule.timezone,
            "FlexibleTimeWindow": flexible_time_window(flexible_window_minutes),
            "State": "ENABLED" if enabled else "DISABLED",
            "Target": target,
            "ActionAfterCompletion": "DELETE" if one_time else "NONE",
        }
        if schedule.start is not None:  # a rate() counts from its start, as next_run_at does
            request["StartDate"] = schedule.start
        if token is not None:
            request["ClientToken"] = token
        call = self._client.create_schedule if create else self._client.update_schedule
        try:
            call(**request)
        except AWS_ERRORS as exc:
            code = error_code(exc)
            if create and code == "ConflictException":
                self._client_update(request, code)
                return
            if not create and code == "ResourceNotFoundException":
                # A one-time schedule deletes itself after it runs: putting it back is a create.
                self.put(
                    name,
                    schedule,
                    tenant_id=tenant_id,
                    task_id=task_id,
                    enabled=enabled,
                    one_time=one_time,
                    create=True,
                    flexible_window_minutes=flexible_window_minutes,
                    max_event_age_seconds=max_event_age_seconds,
                    token=token,
                )
                return
            if isinstance(exc, ClientError) and code == "ValidationException":
                message = exc.response.get("Error", {}).get("Message", "")
                raise InvalidRequestError(
                    f"EventBridge Scheduler rejected the schedule: {message}", param="schedule"
                ) from exc
            raise DependencyError(f"saving the schedule failed ({code})") from exc

    def _client_update(self, request: dict[str, Any], after: str) -> None:
        try:
            self._client.update_schedule(**request)
        except AWS_ERRORS as exc:
            raise DependencyError(f"saving the schedule failed ({after}, then {error_code(exc)})") from exc

    def delete(self, name: str) -> None:
        """Delete one schedule; one already gone counts as deleted."""
        try:
            self._client.delete_schedule(Name=name, GroupName=self._target.group)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return
            raise DependencyError(f"deleting the schedule failed ({error_code(exc)})") from exc

    def disable(self, name: str, *, now: datetime) -> None:
        """Disable an existing schedule, keeping everything else (the executor's auto-disable).
        Reads the schedule because UpdateSchedule replaces every field. A StartDate that has passed
        is left out: EventBridge refuses one in the past, and re-enabling (a PATCH) sets it anew."""
        try:
            current = self._client.get_schedule(Name=name, GroupName=self._target.group)
            request: dict[str, Any] = {
                key: current[key]
                for key in (
                    "Name",
                    "GroupName",
                    "ScheduleExpression",
                    "ScheduleExpressionTimezone",
                    "FlexibleTimeWindow",
                    "Target",
                    "ActionAfterCompletion",
                    "StartDate",
                    "EndDate",
                )
                if key in current
            }
            if "StartDate" in request and request["StartDate"] <= now:
                del request["StartDate"]
            request["State"] = "DISABLED"
            self._client.update_schedule(**request)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return
            raise DependencyError(f"updating the schedule failed ({error_code(exc)})") from exc
