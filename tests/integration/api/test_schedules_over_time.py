"""Changing a task whose schedule has moved on: a one-time task that has run, a rate whose start
has passed. What EventBridge is sent must still be something it accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from heartbeat.errors import InvalidRequestError
from heartbeat.models.requests import TaskCreate, TaskPatch


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))


@pytest.fixture
def gateway(aws):
    from heartbeat.dal.schedules import SchedulesGateway, ScheduleTarget

    env = aws.env
    target = ScheduleTarget(
        group=env["SCHEDULE_GROUP"],
        executor_arn=env["EXECUTOR_ARN"],
        role_arn=env["SCHEDULER_ROLE_ARN"],
        dlq_arn=env["SCHEDULE_DLQ_ARN"],
    )
    return SchedulesGateway(aws.scheduler, target)


@pytest.fixture
def service(aws, gateway, clock):
    from heartbeat.dal.tasks import TasksTable
    from heartbeat.tasks.service import TaskPolicy, TaskService

    return TaskService(
        TasksTable(aws.dynamodb, aws.env["TASKS_TABLE"]),
        gateway,
        TaskPolicy(quota=100, default_model="offline/heartbeat"),
        clock=clock,
    )


def eventbridge(aws) -> list[dict]:
    group = aws.env["SCHEDULE_GROUP"]
    return [
        aws.scheduler.get_schedule(Name=s["Name"], GroupName=group)
        for s in aws.scheduler.list_schedules(GroupName=group)["Schedules"]
    ]


def test_a_one_time_task_that_has_run_can_still_be_disabled_and_enabled(aws, service, clock):
    task = service.create(
        "tenant-a",
        TaskCreate(name="once", prompt="p", schedule={"type": "at", "at": "2026-11-22T12:30:00Z"}),
    )
    clock.now += timedelta(days=1)  # it has fired; EventBridge deleted the schedule after it ran
    (schedule,) = eventbridge(aws)
    aws.scheduler.delete_schedule(Name=schedule["Name"], GroupName=aws.env["SCHEDULE_GROUP"])

    disabled = service.update("tenant-a", task.id, TaskPatch(enabled=False))
    assert disabled.enabled is False and disabled.state.next_run_at is None
    enabled = service.update("tenant-a", task.id, TaskPatch(enabled=True))
    assert enabled.enabled is True and enabled.state.next_run_at is None  # nothing left to run
    assert eventbridge(aws) == []  # no past at() is put back
    with pytest.raises(InvalidRequestError, match="in the past"):  # a new time must still lie ahead
        service.update("tenant-a", task.id, TaskPatch(schedule={"type": "at", "at": "2026-11-22T13:00:00Z"}))


def test_a_rate_whose_start_has_passed_is_sent_its_next_firing_and_keeps_its_phase(aws, service, clock):
    task = service.create(
        "tenant-a",
        TaskCreate(name="rate", prompt="p", schedule={"type": "every", "minutes": 15}),
    )
    (created,) = eventbridge(aws)
    assert created["StartDate"] == datetime(2026, 11, 22, 12, 1, tzinfo=UTC)  # the next whole minute

    clock.now = datetime(2026, 11, 22, 15, 7, tzinfo=UTC)
    service.update("tenant-a", task.id, TaskPatch(enabled=False))
    service.update("tenant-a", task.id, TaskPatch(enabled=True))
    (updated,) = eventbridge(aws)
    assert updated["State"] == "ENABLED" and updated["ScheduleExpression"] == "rate(15 minutes)"
    # 12:01 + 15 min steps: 15:01, then 15:16 — never a StartDate in the past
    assert updated["StartDate"] == datetime(2026, 11, 22, 15, 16, tzinfo=UTC)
    assert service.get("tenant-a", task.id).state.next_run_at == "2026-11-22T15:16:00.000Z"


def test_auto_disable_of_a_rate_sends_no_start_date_in_the_past(aws, service, gateway):
    """What the executor sends when it disables a failing task's schedule."""
    task = service.create(
        "tenant-a",
        TaskCreate(name="rate", prompt="p", schedule={"type": "every", "minutes": 15}),
    )
    (schedule,) = eventbridge(aws)
    sent = []
    aws.scheduler.meta.events.register(
        "provide-client-params.scheduler.UpdateSchedule", lambda params, **_: sent.append(dict(params))
    )
    gateway.disable(schedule["Name"], now=datetime(2026, 11, 22, 12, 0, 30, tzinfo=UTC))
    assert sent[-1]["State"] == "DISABLED" and sent[-1]["StartDate"] == schedule["StartDate"]  # still ahead
    gateway.disable(schedule["Name"], now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert sent[-1]["State"] == "DISABLED" and "StartDate" not in sent[-1]
    (disabled,) = eventbridge(aws)
    assert disabled["State"] == "DISABLED" and disabled["ScheduleExpression"] == "rate(15 minutes)"
    assert service.get("tenant-a", task.id).schedule["type"] == "every"
