"""How EventBridge Scheduler delivers one invocation: the schedule as the scheduler sees it, the
target's Input with its context attributes filled in, the retry policy, the dead-letter event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# EventBridge Scheduler's defaults when a target names no RetryPolicy.
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE = 86400
# EventBridge documents "exponential backoff" without numbers; locally: 1 s, 2 s, 4 s ... up to 60 s.
FIRST_RETRY_DELAY = timedelta(seconds=1)
MAX_RETRY_DELAY = timedelta(seconds=60)


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _window(value: Any) -> timedelta:
    if not value or value.get("Mode") != "FLEXIBLE":
        return timedelta(0)
    return timedelta(minutes=int(value.get("MaximumWindowInMinutes", 0)))


@dataclass(frozen=True)
class ScheduleDefinition:
    """One schedule, from GetSchedule."""

    arn: str
    name: str
    group: str
    expression: str
    timezone: str
    enabled: bool
    start: datetime | None
    end: datetime | None
    created: datetime
    modified: datetime
    delete_after_completion: bool
    target_arn: str
    input: str | None
    max_retries: int
    max_event_age: timedelta
    dead_letter_arn: str | None
    # FlexibleTimeWindow: each slot fires at a random time up to this long after it (0: at the slot).
    flexible_window: timedelta = timedelta(0)

    @classmethod
    def from_api(cls, response: dict[str, Any]) -> ScheduleDefinition:
        target = response.get("Target") or {}
        retry = target.get("RetryPolicy") or {}
        created = _when(response.get("CreationDate")) or datetime.now(UTC)
        return cls(
            arn=response["Arn"],
            name=response["Name"],
            group=response.get("GroupName") or "default",
            expression=response["ScheduleExpression"],
            timezone=response.get("ScheduleExpressionTimezone") or "UTC",
            enabled=(response.get("State") or "ENABLED") == "ENABLED",
            start=_when(response.get("StartDate")),
            end=_when(response.get("EndDate")),
            created=created,
            modified=_when(response.get("LastModificationDate")) or created,
            delete_after_completion=response.get("ActionAfterCompletion") == "DELETE",
            target_arn=target.get("Arn", ""),
            input=target.get("Input"),
            max_retries=int(retry.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
            max_event_age=timedelta(seconds=int(retry.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE))),
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
            flexible_window=_window(response.get("FlexibleTimeWindow")),
        )

    @property
    def group_arn(self) -> str:
        prefix, _, _ = self.arn.partition(":schedule/")
        return f"{prefix}:schedule-group/{self.group}"


@dataclass(frozen=True)
class Invocation:
    """One attempt at delivering one scheduled slot."""

    schedule: ScheduleDefinition
    scheduled_time: datetime
    execution_id: str
    attempt: int = 1

    def payload(self) -> Any:
        """The target's Input with the context attributes replaced, parsed as the Lambda event."""
        if self.schedule.input is None:
            return {}
        text = fill_context(self.schedule.input, self)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def retry(self) -> Invocation:
        return Invocation(self.schedule, self.scheduled_time, self.execution_id, self.attempt + 1)


def scheduled_time_text(when: datetime) -> str:
    """`2026-03-08T07:30:00Z`, the form of `<aws.scheduler.scheduled-time>`."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fill_context(text: str, invocation: Invocation) -> str:
    for name, value in (
        ("scheduled-time", scheduled_time_text(invocation.scheduled_time)),
        ("execution-id", invocation.execution_id),
        ("attempt-number", str(invocation.attempt)),
        ("schedule-arn", invocation.schedule.arn),
    ):
        text = text.replace(f"<aws.scheduler.{name}>", value)
    return text


def retry_delay(failed_attempt: int) -> timedelta:
    return min(MAX_RETRY_DELAY, FIRST_RETRY_DELAY * (2 ** (failed_attempt - 1)))


def next_retry_at(invocation: Invocation, now: datetime) -> datetime | None:
    """When to try again after `invocation` failed, or None once the retry policy is spent."""
    if invocation.attempt > invocation.schedule.max_retries:
        return None
    when = now + retry_delay(invocation.attempt)
    if when - invocation.scheduled_time > invocation.schedule.max_event_age:
        return None
    return when


def exhausted_condition(invocation: Invocation) -> str:
    return (
        "MaximumRetryAttempts"
        if invocation.attempt > invocation.schedule.max_retries
        else "MaximumEventAgeInSeconds"
    )


def dead_letter_message(invocation: Invocation, error: BaseException) -> dict[str, Any]:
    """The SendMessage request for a slot that could not be delivered."""

    def attribute(value: str) -> dict[str, str]:
        return {"DataType": "String", "StringValue": value}

    payload = invocation.payload()
    return {
        "MessageBody": payload if isinstance(payload, str) else json.dumps(payload),
        "MessageAttributes": {
            "ERROR_CODE": attribute(type(error).__name__),
            "ERROR_MESSAGE": attribute(str(error)[:1000] or type(error).__name__),
            "EXHAUSTED_RETRY_CONDITION": attribute(exhausted_condition(invocation)),
            "RETRY_ATTEMPTS": attribute(str(invocation.attempt - 1)),
            "SCHEDULE_ARN": attribute(invocation.schedule.arn),
            "GROUP_ARN": attribute(invocation.schedule.group_arn),
            "TARGET_ARN": attribute(invocation.schedule.target_arn),
        },
    }
