"""The local EventBridge Scheduler, on moto (in process) with a clock the tests move."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from heartbeat_cli.local.clock import ManualClock
from heartbeat_cli.local.scheduler import LocalScheduler

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:heartbeat-local-executor"
ROLE = "arn:aws:iam::123456789012:role/scheduler"
DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq"
INPUT = json.dumps(
    {"task": "t1", "at": "<aws.scheduler.scheduled-time>", "n": "<aws.scheduler.attempt-number>"}
)


class Target:
    """Records every invocation; fails the first `failures` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.failures = failures
        self._lock = threading.Lock()

    def __call__(self, arn: str, payload: Any) -> None:
        with self._lock:
            self.calls.append((arn, payload))
            if len(self.calls) <= self.failures:
                raise RuntimeError("executor unavailable")

    def times(self) -> list[str]:
        return sorted(p["at"] for _, p in self.calls)


class CountingClient:
    """The scheduler client, counting GetSchedule calls."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.gets = 0

    def get_schedule(self, **kwargs: Any) -> Any:
        self.gets += 1
        return self._client.get_schedule(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        sqs.create_queue(QueueName="dlq")
        yield {"scheduler": CountingClient(boto3.client("scheduler", region_name="us-east-1")), "sqs": sqs}


def create(aws: dict[str, Any], name: str, expression: str, tz: str = "UTC", **extra: Any) -> None:
    target = {"Arn": TARGET, "RoleArn": ROLE, "Input": INPUT, **extra.pop("target", {})}
    aws["scheduler"].create_schedule(
        Name=name,
        ScheduleExpression=expression,
        ScheduleExpressionTimezone=tz,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target,
        **extra,
    )


@pytest.fixture
def run(aws: dict[str, Any]) -> Iterator[Any]:
    started: list[LocalScheduler] = []

    def start(clock: ManualClock, target: Target, workers: int = 4) -> LocalScheduler:
        scheduler = LocalScheduler(aws["scheduler"], target, clock, sqs=aws["sqs"], workers=workers)
        scheduler.start()
        started.append(scheduler)
        assert scheduler.drain(10)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.stop()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def advance_hourly(clock: ManualClock, scheduler: LocalScheduler, days: int) -> None:
    """Let days pass an hour at a time (a slot older than the retry policy's maximum age, 24 h by
    default, is dropped rather than delivered late, so one jump of days would lose slots)."""
    for _ in range(24 * days):
        clock.advance(timedelta(hours=1))
        assert scheduler.drain(10)


def test_a_jump_past_the_maximum_event_age_drops_the_old_slots(aws: dict[str, Any], run: Any) -> None:
    create(
        aws,
        "hourly",
        "cron(0 * * * ? *)",
        target={"RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 3600}},
    )
    clock, target = ManualClock(at("2026-11-22T12:30:00")), Target()
    scheduler = run(clock, target)
    clock.advance(timedelta(hours=3))  # 15:30: the 13:00 and 14:00 slots are over an hour old
    assert scheduler.drain(5)
    assert target.times() == ["2026-11-22T15:00:00Z"]


def test_a_cron_schedule_fires_at_each_minute_with_its_scheduled_time(aws: dict[str, Any], run: Any) -> None:
    create(aws, "every-minute", "cron(* * * * ? *)")
    clock, target = ManualClock(at("2026-11-22T12:00:30")), Target()
    scheduler = run(clock, target)
    assert target.calls == []
    clock.advance(timedelta(seconds=29))  # 12:00:59: not yet
    assert scheduler.drain(5) and target.calls == []
    clock.advance(timedelta(seconds=1))
    assert scheduler.drain(5)
    assert target.calls == [(TARGET, {"task": "t1", "at": "2026-11-22T12:01:00Z", "n": "1"})]
    clock.advance(timedelta(minutes=3))  # three more minutes pass while the clock jumps
    assert scheduler.drain(5)
    assert target.times()[1:] == ["2026-11-22T12:02:00Z", "2026-11-22T12:03:00Z", "2026-11-22T12:04:00Z"]


def test_spring_forward_skips_the_missing_hour_and_fall_back_fires_once(
    aws: dict[str, Any], run: Any
) -> None:
    create(aws, "two-thirty", "cron(30 2 * * ? *)", "America/New_York")
    create(aws, "one-thirty", "cron(30 1 * * ? *)", "America/New_York")
    clock, target = ManualClock(at("2027-03-13T00:00:00")), Target()
    scheduler = run(clock, target)
    advance_hourly(clock, scheduler, days=3)
    two_thirty = sorted(p["at"] for _, p in target.calls)
    # 02:30 does not exist on 2027-03-14 in New York: that day has only the 01:30 run.
    assert two_thirty == [
        "2027-03-13T06:30:00Z",
        "2027-03-13T07:30:00Z",  # 01:30 and 02:30 EST
        "2027-03-14T06:30:00Z",  # 01:30 EST; 02:30 skipped
        "2027-03-15T05:30:00Z",
        "2027-03-15T06:30:00Z",  # 01:30 and 02:30 EDT
    ]


def test_fall_back_runs_the_repeated_time_once(aws: dict[str, Any], run: Any) -> None:
    create(aws, "one-thirty", "cron(30 1 * * ? *)", "America/New_York")
    clock, target = ManualClock(at("2027-11-06T12:00:00")), Target()
    scheduler = run(clock, target)
    advance_hourly(clock, scheduler, days=2)
    # 01:30 happens twice on 2027-11-07 (05:30Z EDT, 06:30Z EST); the schedule runs on one of them.
    fall_back_day = [t for t in target.times() if t.startswith("2027-11-07")]
    assert len(fall_back_day) == 1 and fall_back_day[0] in ("2027-11-07T05:30:00Z", "2027-11-07T06:30:00Z")
    assert target.times()[-1] == "2027-11-08T06:30:00Z"


def test_disabled_schedules_do_not_fire_until_enabled(aws: dict[str, Any], run: Any) -> None:
    create(aws, "paused", "cron(* * * * ? *)", State="DISABLED")
    clock, target = ManualClock(at("2026-11-22T12:00:30")), Target()
    scheduler = run(clock, target)
    clock.advance(timedelta(minutes=2))
    assert scheduler.drain(5) and target.calls == []
    current = aws["scheduler"].get_schedule(Name="paused")
    aws["scheduler"].update_schedule(
        Name="paused",
        ScheduleExpression=current["ScheduleExpression"],
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=current["Target"],
        State="ENABLED",
    )
    scheduler.notify("scheduler")
    assert scheduler.drain(5)
    clock.advance(timedelta(minutes=1))
    assert scheduler.drain(5)
    assert target.times() == ["2026-11-22T12:03:00Z"]


def test_start_and_end_dates_bound_the_firing(aws: dict[str, Any], run: Any) -> None:
    create(
        aws,
        "bounded",
        "rate(1 minute)",
        StartDate=at("2030-01-01T00:02:00"),
        EndDate=at("2030-01-01T00:04:00"),
    )
    clock, target = ManualClock(at("2030-01-01T00:00:00")), Target()
    scheduler = run(clock, target)
    clock.advance(timedelta(minutes=10))
    assert scheduler.drain(5)
    assert target.times() == ["2030-01-01T00:02:00Z", "2030-01-01T00:03:00Z", "2030-01-01T00:04:00Z"]


def test_a_one_time_schedule_fires_once_and_deletes_itself(aws: dict[str, Any], run: Any) -> None:
    create(aws, "once", "at(2026-11-22T08:00:00)", "America/New_York", ActionAfterCompletion="DELETE")
    clock, target = ManualClock(at("2026-11-22T12:00:00")), Target()
    scheduler = run(clock, target)
    clock.advance(timedelta(hours=2))
    assert scheduler.drain(5)
    assert target.times() == ["2026-11-22T13:00:00Z"]
    names = [s["Name"] for s in aws["scheduler"].list_schedules()["Schedules"]]
    assert names == []


def test_failures_are_retried_then_dead_lettered(aws: dict[str, Any], run: Any) -> None:
    policy = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    create(
        aws,
        "flaky",
        "at(2026-11-22T12:01:00)",
        target={"RetryPolicy": policy, "DeadLetterConfig": {"Arn": DLQ}},
    )
    clock, target = ManualClock(at("2026-11-22T12:00:00")), Target(failures=10)
    scheduler = run(clock, target)
    for _ in range(5):
        clock.advance(timedelta(seconds=30))
        assert scheduler.drain(5)
    assert [p["n"] for _, p in target.calls] == ["1", "2", "3"]
    queue = aws["sqs"].get_queue_url(QueueName="dlq")["QueueUrl"]
    messages = aws["sqs"].receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(messages[0]["Body"])["n"] == "3"
    assert messages[0]["MessageAttributes"]["RETRY_ATTEMPTS"]["StringValue"] == "2"


def test_a_retry_that_succeeds_is_not_dead_lettered(aws: dict[str, Any], run: Any) -> None:
    create(aws, "flaky", "at(2026-11-22T12:01:00)", target={"DeadLetterConfig": {"Arn": DLQ}})
    clock, target = ManualClock(at("2026-11-22T12:00:00")), Target(failures=1)
    scheduler = run(clock, target)
    clock.advance(timedelta(minutes=1))  # fires, fails; the retry is due a second later
    assert scheduler.drain(5)
    clock.advance(timedelta(seconds=1))
    assert scheduler.drain(5)
    assert [p["n"] for _, p in target.calls] == ["1", "2"]
    queue = aws["sqs"].get_queue_url(QueueName="dlq")["QueueUrl"]
    assert "Messages" not in aws["sqs"].receive_message(QueueUrl=queue)


def test_only_changed_schedules_are_read_again(aws: dict[str, Any], run: Any) -> None:
    for n in range(5):
        create(aws, f"s{n}", "cron(0 * * * ? *)")
    clock, target = ManualClock(at("2026-11-22T12:00:30")), Target()
    scheduler = run(clock, target)
    assert aws["scheduler"].gets == 5
    create(aws, "new", "cron(15 * * * ? *)")
    aws["scheduler"].delete_schedule(Name="s0")
    scheduler.notify("scheduler")
    assert scheduler.drain(5)
    assert aws["scheduler"].gets == 6
    scheduler.notify("dynamodb")  # not a schedule write: nothing is read
    assert scheduler.drain(5) and aws["scheduler"].gets == 6
    planned = {arn.rsplit("/", 1)[1]: when for arn, when in scheduler.planned().items()}
    assert set(planned) == {"s1", "s2", "s3", "s4", "new"}
    assert planned["new"] == at("2026-11-22T12:15:00")


def test_many_runs_at_once_share_the_bounded_pool(aws: dict[str, Any], run: Any) -> None:
    for n in range(20):
        create(aws, f"s{n}", "cron(* * * * ? *)")
    active, peak, lock = 0, 0, threading.Lock()
    gate = threading.Event()

    def slow(arn: str, payload: Any) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        gate.wait(0.05)
        with lock:
            active -= 1

    clock = ManualClock(at("2026-11-22T12:00:30"))
    scheduler = LocalScheduler(aws["scheduler"], slow, clock, workers=3)
    scheduler.start()
    try:
        assert scheduler.drain(10)
        clock.advance(timedelta(seconds=30))
        assert scheduler.drain(20)
        assert peak == 3
    finally:
        scheduler.stop()


def test_a_flexible_window_fires_inside_the_window_with_the_slot_as_its_scheduled_time(
    aws: dict[str, Any],
) -> None:
    aws["scheduler"].create_schedule(
        Name="flexible",
        ScheduleExpression="cron(0 9 * * ? *)",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        Target={"Arn": TARGET, "RoleArn": ROLE, "Input": INPUT},
    )
    clock, target = ManualClock(at("2026-11-22T08:59:00")), Target()
    offsets: list[timedelta] = []

    def three_quarters(window: timedelta) -> timedelta:
        offsets.append(window)
        return window * 0.75

    scheduler = LocalScheduler(
        aws["scheduler"], target, clock, sqs=aws["sqs"], flexible_offset=three_quarters
    )
    scheduler.start()
    try:
        assert scheduler.drain(10)
        clock.advance(timedelta(minutes=8))  # 09:07: inside the window, before its fire time
        assert scheduler.drain(5) and target.calls == []
        clock.advance(timedelta(seconds=31))  # 09:07:31, past 09:07:30
        assert scheduler.drain(5)
        assert target.times() == ["2026-11-22T09:00:00Z"]  # the slot, not the fire time
        assert offsets[0] == timedelta(minutes=10)
        assert scheduler.planned()[next(iter(scheduler.planned()))] == at("2026-11-23T09:07:30")
    finally:
        scheduler.stop()
