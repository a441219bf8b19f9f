"""EventBridge Scheduler's dialect: writing standard cron as `cron(...)` expressions, and evaluating
any `cron(...)`, `rate(...)` or `at(...)` expression as EventBridge Scheduler does.

EventBridge cron is `cron(minutes hours day-of-month month day-of-week year)`: day of week runs
1-7 from SUN, one of the two day fields must be `?`, day of month also takes `L`, `LW` and `nW`,
day of week takes `L`, `nL` and a single `n#k`, and day of week has no `/`. Times are evaluated in
the schedule's time zone; a local time that a DST change skips does not fire, and a repeated one
fires once, at its first occurrence. `rate()` counts whole minutes, hours or days (24 hours) from
the schedule's start; `at()` is a local time in the schedule's time zone."""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from heartbeat.schedule.cron import DAY_OF_MONTH, HOUR, MINUTE, MONTH, MONTH_LENGTH, CronSpec
from heartbeat.schedule.errors import ScheduleError
from heartbeat.schedule.fields import DAY_NAMES, Field
from heartbeat.schedule.zones import to_utc, zone

DAY_OF_WEEK = Field("day-of-week", 1, 7, DAY_NAMES, first_named=1)  # 1 is SUN
YEAR = Field("year", 1970, 2199)
ONE_MINUTE = timedelta(minutes=1)


# Writing -------------------------------------------------------------------------------------


def translate(spec: CronSpec) -> list[str]:
    """The EventBridge cron expressions that together fire at exactly the times of `spec`: one,
    or two when a day may match either day field (a day matching both fires in each; the
    executor's slot dedupe runs it once)."""
    times = f"{_numbers(spec.minutes, MINUTE)} {_numbers(spec.hours, HOUR)}"
    month = _numbers(spec.months, MONTH)
    by_day_of_month = f"{_numbers(spec.days, DAY_OF_MONTH)} {month} ?"
    by_day_of_week = f"? {month} {_weekdays(spec.weekdays)}"
    days = {
        "every day": [f"* {month} ?"],
        "day-of-month": [by_day_of_month],
        "day-of-week": [by_day_of_week],
        "either": [by_day_of_month, by_day_of_week],
    }[spec.day_rule]
    return [f"cron({times} {day} *)" for day in days]  # at most 240 characters: within the limit of 256


def rate(amount: int, unit: str) -> str:
    """`rate(5 minutes)`, `rate(1 hour)`: `unit` is minutes, hours or days."""
    return f"rate({amount} {unit.removesuffix('s') if amount == 1 else unit})"


def at(instant: datetime) -> str:
    """`at(2026-12-01T09:00:00)` for an aware instant, written in UTC."""
    return f"at({instant.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def _numbers(values: frozenset[int], field: Field) -> str:
    """The shortest exact EventBridge text for a set of values: `*`, `start/step`, or a list of
    values and ranges."""
    ordered = sorted(values)
    if ordered == list(range(field.low, field.high + 1)):
        return "*"
    listed = ",".join(
        str(run[0]) if len(run) == 1 else f"{run[0]},{run[1]}" if len(run) == 2 else f"{run[0]}-{run[-1]}"
        for run in _runs(ordered)
    )
    step = ordered[1] - ordered[0] if len(ordered) > 1 else 1
    if step > 1 and ordered == list(range(ordered[0], field.high + 1, step)):
        stepped = f"{ordered[0]}/{step}"
        return stepped if len(stepped) < len(listed) else listed
    return listed


def _weekdays(weekdays: frozenset[int]) -> str:
    """Days of the week (0-6 from Sunday) by name, which reads the same in both numberings."""
    return ",".join(
        f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" if len(run) > 2 else ",".join(DAY_NAMES[d] for d in run)
        for run in _runs(sorted(weekdays))
    )


def _runs(ordered: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for value in ordered:
        if runs and runs[-1][-1] == value - 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return runs


# Evaluating ----------------------------------------------------------------------------------


def next_fire(
    expression: str,
    timezone: str,
    after: datetime,
    *,
    anchor: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> datetime | None:
    """The first time (aware, UTC) strictly after `after` at which EventBridge Scheduler fires
    `expression` in `timezone`, no earlier than `start` and no later than `end` (the schedule's
    StartDate and EndDate); None if it never fires again. A `rate()` counts from `anchor` (the
    schedule's start, or when it was created), which defaults to `start`."""
    if after.tzinfo is None:
        raise ValueError("next_fire needs an aware datetime")
    if start is not None and start > after:
        after = start - timedelta(microseconds=1)
    compiled = _compile(expression.strip())
    if isinstance(compiled, _Cron):
        fire = compiled.next_after(after, timezone)
    elif isinstance(compiled, timedelta):
        fire = _next_rate(compiled, anchor or start, after, expression)
    else:
        instant = to_utc(compiled, zone(timezone))
        fire = instant if instant is not None and instant > after else None
    return None if fire is None or (end is not None and fire > end) else fire


def _next_rate(period: timedelta, anchor: datetime | None, after: datetime, expression: str) -> datetime:
    if anchor is None:
        raise ScheduleError(f"{expression} counts from the schedule's start: pass its start time as anchor")
    periods = 0 if after < anchor else (after - anchor) // period + 1
    return (anchor + periods * period).astimezone(UTC)


@lru_cache(maxsize=4096)
def _compile(expression: str) -> _Cron | timedelta | datetime:
    """A parsed expression: a cron, a rate's period, or an at()'s naive local time."""
    if match := re.fullmatch(r"rate\((\d+) (minutes?|hours?|days?)\)", expression):
        amount, unit = int(match[1]), match[2].removesuffix("s")
        if amount < 1:
            raise ScheduleError(f"{expression}: a rate must be at least 1 {unit}")
        return timedelta(**{f"{unit}s": amount})
    if match := re.fullmatch(r"at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)", expression):
        try:
            return datetime.fromisoformat(match[1])
        except ValueError:
            raise ScheduleError(f"{expression} is not a real date and time") from None
    if match := re.fullmatch(r"cron\(([^()]*)\)", expression):
        return _Cron.parse(match[1])
    raise ScheduleError(f"'{expression}' is not an EventBridge cron(), rate() or at() expression")


@dataclass(frozen=True)
class _Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int]
    days: _DaysOfMonth | _DaysOfWeek

    @classmethod
    def parse(cls, fields_text: str) -> _Cron:
        fields = fields_text.split()
        if len(fields) != 6:
            raise ScheduleError(
                f"cron({fields_text}) has {len(fields)} fields: EventBridge takes 6 "
                "(minutes hours day-of-month month day-of-week year)"
            )
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise ScheduleError(
                f"cron({fields_text}): exactly one of day-of-month and day-of-week must be '?'"
            )
        days = _DaysOfWeek.parse(dow) if dom == "?" else _DaysOfMonth.parse(dom)
        return cls(
            tuple(sorted(MINUTE.expand(minute))),
            tuple(sorted(HOUR.expand(hour))),
            frozenset(m for m in MONTH.expand(month) if days.possible_in(m)),
            YEAR.expand(year),
            days,
        )

    def next_after(self, after: datetime, timezone: str) -> datetime | None:
        tz = zone(timezone)
        earliest = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0) + ONE_MINUTE
        while (local := self._next_local(earliest)) is not None:
            instant = to_utc(local, tz)
            if instant is not None and instant > after:
                return instant
            earliest = local + ONE_MINUTE  # skipped by a DST change, or already fired before it
        return None

    def _next_local(self, earliest: datetime) -> datetime | None:
        """The first local wall time at or after `earliest` that the fields match."""
        if not self.months:  # no month has a day the day field can match
            return None
        day, first = earliest.date(), earliest.time()
        while True:
            if day.year not in self.years:
                later = [year for year in self.years if year > day.year]
                if not later:
                    return None
                day, first = date(min(later), 1, 1), time()
            elif day.month not in self.months:
                day, first = _first_of_next_month(day), time()
            else:
                if self.days.matches(day) and (at := self._first_time(first)) is not None:
                    return datetime.combine(day, at)
                day, first = day + timedelta(days=1), time()

    def _first_time(self, earliest: time) -> time | None:
        hour = bisect_left(self.hours, earliest.hour)
        if hour < len(self.hours) and self.hours[hour] == earliest.hour:
            minute = bisect_left(self.minutes, earliest.minute)
            if minute < len(self.minutes):
                return time(earliest.hour, self.minutes[minute])
            hour += 1
        return time(self.hours[hour], self.minutes[0]) if hour < len(self.hours) else None


@dataclass(frozen=True)
class _DaysOfMonth:
    numbers: frozenset[int]
    last: bool  # L: the last day of the month
    last_weekday: bool  # LW: the last Monday-Friday of the month
    nearest_weekday: frozenset[int]  # nW: the Monday-Friday nearest day n, within its month

    @classmethod
    def parse(cls, text: str) -> _DaysOfMonth:
        numbers: set[int] = set()
        last = last_weekday = False
        nearest: set[int] = set()
        for term in text.upper().split(","):
            if term == "L":
                last = True
            elif term == "LW":
                last_weekday = True
            elif term.endswith("W"):
                nearest.add(DAY_OF_MONTH.value(term[:-1]))
            else:
                numbers |= DAY_OF_MONTH.expand_term(term)
        return cls(frozenset(numbers), last, last_weekday, frozenset(nearest))

    def possible_in(self, month: int) -> bool:
        return (
            self.last
            or self.last_weekday
            or any(n <= MONTH_LENGTH[month] for n in self.numbers | self.nearest_weekday)
        )

    def matches(self, day: date) -> bool:
        if day.day in self.numbers:
            return True
        length = calendar.monthrange(day.year, day.month)[1]
        if self.last and day.day == length:
            return True
        if self.last_weekday and day == _nearest_weekday(day.replace(day=length), length):
            return True
        return any(
            n <= length and day == _nearest_weekday(day.replace(day=n), length) for n in self.nearest_weekday
        )


@dataclass(frozen=True)
class _DaysOfWeek:
    weekdays: frozenset[int]  # date.weekday() values: Monday is 0
    last_of_month: frozenset[int]  # nL: the last such weekday of the month
    nth: tuple[int, int] | None  # n#k: the k-th such weekday of the month

    @classmethod
    def parse(cls, text: str) -> _DaysOfWeek:
        weekdays: set[int] = set()
        last: set[int] = set()
        if "#" in text:
            day, _, nth = text.partition("#")
            if not nth.isdigit() or not 1 <= int(nth) <= 5 or "," in text:
                raise ScheduleError(f"day-of-week '{text}': '#' takes one day and a week 1-5, e.g. 'MON#2'")
            return cls(frozenset(), frozenset(), (_weekday(DAY_OF_WEEK.value(day)), int(nth)))
        for term in text.upper().split(","):
            if term == "L":
                weekdays.add(_weekday(7))  # alone, L is the last day of the week: Saturday
            elif term.endswith("L"):
                last.add(_weekday(DAY_OF_WEEK.value(term[:-1])))
            elif "/" in term:
                raise ScheduleError(
                    f"day-of-week '{text}': EventBridge has no '/' in day of week: list the days"
                )
            else:
                weekdays |= {_weekday(value) for value in DAY_OF_WEEK.expand_term(term)}
        return cls(frozenset(weekdays), frozenset(last), None)

    def possible_in(self, month: int) -> bool:
        return True

    def matches(self, day: date) -> bool:
        weekday = day.weekday()
        if weekday in self.weekdays:
            return True
        if weekday in self.last_of_month and day.day + 7 > calendar.monthrange(day.year, day.month)[1]:
            return True
        return self.nth is not None and self.nth == (weekday, (day.day - 1) // 7 + 1)


def _weekday(eventbridge_day: int) -> int:
    """EventBridge's day of week (1 is SUN) as `date.weekday()` (0 is Monday)."""
    return (eventbridge_day - 2) % 7


def _nearest_weekday(day: date, length: int) -> date:
    """The Monday-Friday nearest `day` without leaving its month (Quartz's `W`)."""
    if day.weekday() == 5:  # Saturday: the Friday before, or the Monday after the 1st
        return day + timedelta(days=2) if day.day == 1 else day - timedelta(days=1)
    if day.weekday() == 6:  # Sunday: the Monday after, or the Friday before the last day
        return day - timedelta(days=2) if day.day == length else day + timedelta(days=1)
    return day


def _first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
