"""The executor's own EventBridge Scheduler calls: a one-time retry schedule for a run that waits
for a tenant slot, and removing the schedules of a task row that no longer exists."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.dal.schedules import schedule_names
from heartbeat.errors import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

logger = logging.getLogger(__name__)

RETRY_PREFIX = "hb-retry-"
# A task has at most this many schedules (two for a cron whose day fields are both restricted).
MAX_SCHEDULES_PER_TASK = 2


def retry_schedule_name(run_id: str) -> str:
    return f"{RETRY_PREFIX}{run_id}"


@dataclass(frozen=True)
class RetryTarget:
    group: str
    role_arn: str
    dlq_arn: str | None = None


class RetrySchedules:
    """One pending one-time schedule per queued run (`hb-retry-{run_id}`), deleted by Scheduler
    after it fires. Putting it again moves it to the new time."""

    def __init__(self, client: EventBridgeSchedulerClient, target: RetryTarget) -> None:
        self._client = client
        self._target = target

    def schedule(self, run_id: str, at: datetime, payload: dict[str, Any], *, executor_arn: str) -> str:
        name = retry_schedule_name(run_id)
        target: dict[str, Any] = {
            "Arn": executor_arn,
            "RoleArn": self._target.role_arn,
            "Input": json.dumps(payload),
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
        }
        if self._target.dlq_arn:
            target["DeadLetterConfig"] = {"Arn": self._target.dlq_arn}
        request: dict[str, Any] = {
            "Name": name,
            "GroupName": self._target.group,
            "ScheduleExpression": f"at({at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": target,
            "ActionAfterCompletion": "DELETE",
            "Description": "Heartbeat: a run waiting for a free tenant slot",
        }
        try:
            self._client.create_schedule(**request)
        except AWS_ERRORS as exc:
            if error_code(exc) != "ConflictException":
                raise DependencyError(f"scheduling the run's retry failed ({error_code(exc)})") from exc
            try:
                self._client.update_schedule(**request)
            except AWS_ERRORS as again:
                raise DependencyError(f"scheduling the run's retry failed ({error_code(again)})") from again
        return name


class OrphanJanitor:
    """Deletes the schedules of a task whose row is gone. The API creates a task's schedule a
    moment before its row, so a schedule younger than `grace` is left alone: its row may be on
    the way (or the API's own rollback will remove it)."""

    def __init__(
        self,
        client: EventBridgeSchedulerClient,
        group: str,
        *,
        grace: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._group = group
        self._grace = grace
        self._clock = clock

    def sweep(self, tenant_id: str, task_id: str) -> list[str]:
        """The names of the schedules it deleted."""
        deleted = []
        for name in schedule_names(tenant_id, task_id, MAX_SCHEDULES_PER_TASK):
            try:
                current = self._client.get_schedule(Name=name, GroupName=self._group)
            except AWS_ERRORS as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    continue
                raise DependencyError(f"reading schedule {name} failed ({error_code(exc)})") from exc
            created = current.get("CreationDate")
            if created is None or self._clock() - created < self._grace:
                logger.info("schedule %s of missing task %s is new; left for the API", name, task_id)
                continue
            try:
                self._client.delete_schedule(Name=name, GroupName=self._group)
            except AWS_ERRORS as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    continue
                raise DependencyError(f"deleting schedule {name} failed ({error_code(exc)})") from exc
            deleted.append(name)
        return deleted
