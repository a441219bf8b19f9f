"""A schedule in words, from the same reading of cron that runs it (`parse_cron`), so the words
never disagree with the fire times: "at 18:00, Monday to Friday (America/New_York)".

Written here rather than taken from cron-descriptor: that package reads cron its own way (it
knows nothing of the day-of-month OR day-of-week rule of Vixie cron as this engine applies it)
and would add a dependency to the Lambda layer for a few dozen lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from heartbeat.schedule.cron import ALL_DAYS, ALL_WEEKDAYS, CronSpec, parse_cron
from heartbeat.schedule.schedules import AtSchedule, CronSchedule, EverySchedule, Schedule
from heartbeat.schedule.zones import zone

WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MAX_LISTED_TIMES = 6


def describe(schedule: Schedule) -> str:
    if isinstance(schedule, CronSchedule):
        return f"{describe_cron(schedule.expression)} ({schedule.timezone})"
    if isinstance(schedule, EverySchedule):
        unit = schedule.unit[:-1] if schedule.amount == 1 else schedule.unit
        amount = "" if schedule.amount == 1 else f"{schedule.amount} "
        return f"every {amount}{unit}, from {schedule.start.strftime('%Y-%m-%d %H:%M')} UTC"
    if isinstance(schedule, AtSchedule):
        local = schedule.at.astimezone(zone(schedule.timezone))
        return f"once, at {local.strftime('%Y-%m-%d %H:%M')} ({schedule.timezone})"
    raise TypeError(f"no words for {type(schedule).__name__}")


def describe_cron(expression: str) -> str:
    spec = parse_cron(expression)
    parts = [_times(spec)]
    days = _days(spec)
    if not (days == "every day" and (parts[0].startswith("every") or parts[0].endswith("every hour"))):
        parts.append(days)
    if len(spec.months) < 12:
        parts.append("in " + _list(sorted(spec.months), lambda m: MONTHS[m - 1]))
    return ", ".join(parts)


def _times(spec: CronSpec) -> str:
    minutes, hours = sorted(spec.minutes), sorted(spec.hours)
    every_hour = len(hours) == 24
    if len(minutes) == 60:
        return "every minute" if every_hour else f"every minute of {_hours(hours)}"
    step = _step(minutes, 60)
    if every_hour:
        if len(minutes) == 1:
            return f"at minute {minutes[0]} of every hour"
        if step:
            return f"every {step} minutes"
        return f"at minutes {_list(minutes, str)} of every hour"
    if len(minutes) * len(hours) <= MAX_LISTED_TIMES:
        return "at " + _join([f"{h:02d}:{m:02d}" for h in hours for m in minutes])
    if step:
        return f"every {step} minutes of {_hours(hours)}"
    if len(minutes) == 1:
        return f"at minute {minutes[0]} of {_hours(hours)}"
    return f"at minutes {_list(minutes, str)} of {_hours(hours)}"


def _hours(hours: list[int]) -> str:
    step = _step(hours, 24)
    if step:
        return f"every {step} hours"
    return "hours " + _list(hours, lambda h: f"{h:02d}")


def _days(spec: CronSpec) -> str:
    monthdays = "day " + _list(sorted(spec.days), str) + " of the month"
    weekdays = _list(sorted(spec.weekdays), lambda d: WEEKDAYS[d])
    if spec.day_rule == "every day":
        return "every day"
    if spec.day_rule == "day-of-month":
        return "on " + monthdays if spec.days != ALL_DAYS else "every day"
    if spec.day_rule == "day-of-week":
        return "on " + weekdays if spec.weekdays != ALL_WEEKDAYS else "every day"
    return f"on {monthdays} or on {weekdays}"


def _step(values: list[int], size: int) -> int | None:
    """The step of a value list that is 0, s, 2s, ... covering the whole field, if it is one."""
    if len(values) < 2 or values[0] != 0:
        return None
    step = values[1] - values[0]
    if size % step == 0 and values == list(range(0, size, step)):
        return step
    return None


def _list(values: list[int], label: Callable[[int], str]) -> str:
    """Runs of three or more become ranges: [1, 2, 3, 5] -> "1 to 3 and 5"."""
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    words: list[str] = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{label(run[0])} to {label(run[-1])}")
        else:
            words.extend(label(v) for v in run)
    return _join(words)


def _join(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
