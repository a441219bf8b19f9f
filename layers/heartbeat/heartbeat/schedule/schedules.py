"""A task's schedule, as the Tasks API takes it: a standard cron string, or an object of type
`cron`, `every` (EventBridge `rate()`) or `at` (a one-time `at()`). `parse_schedule` validates it
and gives a `Schedule`: its API form, its EventBridge schedules, and when it fires."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from heartbeat.schedule import eventbridge
from heartbeat.schedule.cron import MINUTE_PRECISION, parse_cron
from heartbeat.schedule.errors import ScheduleError
from heartbeat.schedule.zones import to_utc, zone
from heartbeat.timeutil import iso

EVERY_UNITS = {"minutes": 365 * 24 * 60, "hours": 365 * 24, "days": 365}  # unit -> most allowed


@dataclass(frozen=True)
class EventBridgeSchedule:
    """One EventBridge Scheduler schedule: ScheduleExpression, ScheduleExpressionTimezone, and
    for a `rate()` the StartDate it counts from."""

    expression: str
    timezone: str
    start: datetime | None = None


class Schedule(ABC):
    timezone: str  # IANA name
    one_time: ClassVar[bool] = False

    @abstractmethod
    def to_api(self) -> dict[str, Any]:
        """The Task's `schedule` object."""

    @abstractmethod
    def eventbridge(self) -> list[EventBridgeSchedule]:
        """The EventBridge schedules that together fire this schedule."""

    def next_after(self, after: datetime) -> datetime | None:
        """The next fire strictly after `after` (aware, UTC), as EventBridge Scheduler fires it;
        None if it never fires again."""
        fires = (
            eventbridge.next_fire(s.expression, s.timezone, after, start=s.start) for s in self.eventbridge()
        )
        return min((fire for fire in fires if fire is not None), default=None)

    def next_times(self, after: datetime, count: int) -> list[datetime]:
        times: list[datetime] = []
        while len(times) < count and (fire := self.next_after(after)) is not None:
            times.append(fire)
            after = fire
        return times


@dataclass(frozen=True)
class CronSchedule(Schedule):
    expression: str  # standard cron, as the user wrote it (whitespace normalized)
    timezone: str
    expressions: tuple[str, ...]  # its EventBridge cron() expressions

    def to_api(self) -> dict[str, Any]:
        return {"type": "cron", "expression": self.expression, "timezone": self.timezone}

    def eventbridge(self) -> list[EventBridgeSchedule]:
        return [EventBridgeSchedule(expression, self.timezone) for expression in self.expressions]


@dataclass(frozen=True)
class EverySchedule(Schedule):
    """Every N minutes, hours or days (of 24 hours, whatever DST does) from `start`, its first
    fire. Time zones do not change when it fires, so it runs in UTC."""

    amount: int
    unit: str  # minutes, hours or days
    start: datetime
    timezone: str = "UTC"

    def to_api(self) -> dict[str, Any]:
        return {"type": "every", self.unit: self.amount, "start": iso(self.start)}

    def eventbridge(self) -> list[EventBridgeSchedule]:
        return [EventBridgeSchedule(eventbridge.rate(self.amount, self.unit), "UTC", self.start)]


@dataclass(frozen=True)
class AtSchedule(Schedule):
    """Once, at `at`; the EventBridge schedule removes itself after it runs."""

    at: datetime  # aware, UTC
    timezone: str
    one_time: ClassVar[bool] = True

    def to_api(self) -> dict[str, Any]:
        return {"type": "at", "at": iso(self.at), "timezone": self.timezone}

    def eventbridge(self) -> list[EventBridgeSchedule]:
        return [EventBridgeSchedule(eventbridge.at(self.at), "UTC")]


def parse_schedule(value: object, timezone: str | None = None, *, now: datetime) -> Schedule:
    """Validate a task's `schedule` field (and its `timezone`, which an object's own `timezone`
    overrides; omitted means UTC). `now` is when the schedule is set: an `at` must be later, and
    an `every` starts at the next whole minute unless the object gives its `start`."""
    if now.tzinfo is None:
        raise ValueError("parse_schedule needs an aware `now`")
    if isinstance(value, str):
        return _cron(value, timezone)
    if isinstance(value, Mapping):
        kind = value.get("type")
        if kind == "cron":
            _only(value, "cron", {"expression", "timezone"})
            return _cron(value.get("expression"), value.get("timezone", timezone))
        if kind == "every":
            _only(value, "every", {"start", "timezone", *EVERY_UNITS})
            return _every(value, value.get("timezone", timezone), now)
        if kind == "at":
            _only(value, "at", {"at", "timezone"})
            return _at(value.get("at"), value.get("timezone", timezone), now)
        raise ScheduleError(f"schedule type {kind!r} is not one of 'cron', 'every', 'at'")
    raise ScheduleError(
        "schedule must be a cron string such as '0 18 * * *', or an object with a type: "
        '{"type": "cron", "expression": ...}, {"type": "every", "minutes": 5} or {"type": "at", "at": ...}'
    )


def _cron(expression: object, timezone: object) -> CronSchedule:
    if not isinstance(expression, str) or not expression.strip():
        raise ScheduleError("schedule needs a cron expression such as '0 18 * * *'")
    name = _timezone(timezone)
    expressions = eventbridge.translate(parse_cron(expression))
    return CronSchedule(" ".join(expression.split()), name, tuple(expressions))


def _every(value: Mapping[str, Any], timezone: object, now: datetime) -> EverySchedule:
    _timezone(timezone)  # checked, but a rate fires on elapsed time, whatever the zone
    units = [unit for unit in EVERY_UNITS if unit in value]
    if len(units) != 1:
        raise ScheduleError(
            'an "every" schedule takes exactly one of minutes, hours or days, e.g. {"type": "every", "minutes": 5}'
        )
    unit, amount = units[0], value[units[0]]
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= EVERY_UNITS[unit]:
        raise ScheduleError(f"every {unit} must be a whole number from 1 to {EVERY_UNITS[unit]}")
    if "start" in value:
        start = _instant(value["start"], "UTC", "start")
    else:
        start = now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return EverySchedule(amount, unit, start)


def _at(value: object, timezone: object, now: datetime) -> AtSchedule:
    name = _timezone(timezone)
    at = _instant(value, name, "at")
    if at <= now:
        raise ScheduleError(f"at {iso(at)} is in the past: choose a time after {iso(now)}")
    return AtSchedule(at, name)


def _instant(value: object, timezone: str, field: str) -> datetime:
    """An ISO 8601 time at a whole minute; without an offset it is local to `timezone`."""
    example = f"schedule {field} must be an ISO 8601 time such as '2026-12-01T09:00:00Z'"
    if not isinstance(value, str):
        raise ScheduleError(example)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ScheduleError(example) from None
    if parsed.second or parsed.microsecond:
        raise ScheduleError(MINUTE_PRECISION)
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    instant = to_utc(parsed, zone(timezone))
    if instant is None:
        raise ScheduleError(f"{parsed.isoformat()} does not exist in {timezone}: the clocks skip it for DST")
    return instant


def _timezone(name: object) -> str:
    if name is None:
        return "UTC"
    if not isinstance(name, str):
        raise ScheduleError("timezone must be an IANA name such as 'America/New_York'", param="timezone")
    zone(name)
    return name


def _only(value: Mapping[str, Any], kind: str, allowed: set[str]) -> None:
    unknown = sorted(set(value) - allowed - {"type"})
    if unknown:
        raise ScheduleError(
            f"a schedule of type {kind!r} has no field {unknown[0]!r}: it takes {', '.join(sorted(allowed))}"
        )
