"""What EventBridge Scheduler sends the target, and how long it keeps retrying."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from heartbeat_cli.local.delivery import (
    Invocation,
    ScheduleDefinition,
    dead_letter_message,
    next_retry_at,
    retry_delay,
)

SLOT = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def definition(**target: object) -> ScheduleDefinition:
    return ScheduleDefinition.from_api(
        {
            "Arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/g/s1",
            "Name": "s1",
            "GroupName": "g",
            "ScheduleExpression": "cron(30 2 * * ? *)",
            "ScheduleExpressionTimezone": "America/New_York",
            "State": "ENABLED",
            "CreationDate": SLOT - timedelta(days=1),
            "LastModificationDate": SLOT - timedelta(days=1),
            "ActionAfterCompletion": "NONE",
            "Target": {
                "Arn": "arn:aws:lambda:us-east-1:123456789012:function:exec",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "Input": json.dumps(
                    {
                        "t": "<aws.scheduler.scheduled-time>",
                        "id": "<aws.scheduler.execution-id>",
                        "n": "<aws.scheduler.attempt-number>",
                        "arn": "<aws.scheduler.schedule-arn>",
                    }
                ),
                **target,
            },
        }
    )


def test_the_input_gets_the_context_attributes() -> None:
    invocation = Invocation(definition(), SLOT, "exec-1", attempt=2)
    assert invocation.payload() == {
        "t": "2026-03-08T07:30:00Z",
        "id": "exec-1",
        "n": "2",
        "arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/g/s1",
    }


def test_a_target_without_a_retry_policy_gets_eventbridges_defaults() -> None:
    schedule = definition()
    assert (schedule.max_retries, schedule.max_event_age) == (185, timedelta(hours=24))
    assert schedule.timezone == "America/New_York" and schedule.enabled


def test_retries_back_off_until_the_attempts_are_spent() -> None:
    schedule = definition(RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600})
    first = Invocation(schedule, SLOT, "e")
    assert next_retry_at(first, SLOT) == SLOT + timedelta(seconds=1)
    assert next_retry_at(first.retry(), SLOT) == SLOT + timedelta(seconds=2)
    assert next_retry_at(first.retry().retry(), SLOT) is None  # 2 retries made
    assert retry_delay(10) == timedelta(seconds=60)


def test_retries_stop_at_the_maximum_event_age() -> None:
    schedule = definition(RetryPolicy={"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60})
    late = Invocation(schedule, SLOT, "e", attempt=3)
    assert next_retry_at(late, SLOT + timedelta(seconds=57)) is None
    assert next_retry_at(late, SLOT + timedelta(seconds=50)) == SLOT + timedelta(seconds=54)


def test_the_dead_letter_event_says_why() -> None:
    schedule = definition(RetryPolicy={"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60})
    message = dead_letter_message(Invocation(schedule, SLOT, "e"), TimeoutError("took too long"))
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "TimeoutError"
    assert attributes["ERROR_MESSAGE"] == "took too long"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "0"
    assert attributes["GROUP_ARN"] == "arn:aws:scheduler:us-east-1:123456789012:schedule-group/g"
    assert json.loads(message["MessageBody"])["t"] == "2026-03-08T07:30:00Z"
