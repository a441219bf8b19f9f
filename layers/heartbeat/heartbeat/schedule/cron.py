"""Standard cron as Debian's (Vixie) cron reads it: `minute hour day-of-month month day-of-week`,
names in any case, lists, ranges, steps, `0` and `7` both Sunday, and the day rule: when both day
fields are restricted a day matches either, unless one of them starts with `*`, when it must match
both. A sixth, leading seconds field is accepted when it is `0`.

`parse_cron` turns an expression into the sets of values it selects (`CronSpec`). It accepts only
what EventBridge Scheduler can run exactly, so everything else is a ScheduleError here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from heartbeat.schedule.errors import ScheduleError
from heartbeat.schedule.fields import DAY_NAMES, MONTH_NAMES, Field

SECOND = Field("second", 0, 59)
MINUTE = Field("minute", 0, 59)
HOUR = Field("hour", 0, 23)
DAY_OF_MONTH = Field("day-of-month", 1, 31)
MONTH = Field("month", 1, 12, MONTH_NAMES, first_named=1)
DAY_OF_WEEK = Field("day-of-week", 0, 7, DAY_NAMES, first_named=0, sunday_is_7=True)

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

MINUTE_PRECISION = "seconds must be 0: EventBridge Scheduler fires at minute precision"
ALL_DAYS = frozenset(range(1, 32))
ALL_WEEKDAYS = frozenset(range(7))
MONTH_LENGTH = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}

# Which days a schedule runs on: every day, the listed days of the month, the listed days of the
# week, or a day matching either list.
DayRule = Literal["every day", "day-of-month", "day-of-week", "either"]


@dataclass(frozen=True)
class CronSpec:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]  # day of month, 1-31
    months: frozenset[int]  # 1-12
    weekdays: frozenset[int]  # 0-6, Sunday is 0
    day_rule: DayRule


def parse_cron(expression: str) -> CronSpec:
    fields = _fields(expression)
    minute, hour, dom, month, dow = fields
    for field, text in zip((MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK), fields, strict=True):
        _reject_extensions(field, text)
    minutes = MINUTE.expand(minute)
    hours = HOUR.expand(hour)
    days = DAY_OF_MONTH.expand(dom)
    months = MONTH.expand(month)
    weekdays = frozenset(day % 7 for day in DAY_OF_WEEK.expand(dow))
    rule = _day_rule(dom, dow, days, weekdays)
    if rule in ("day-of-month", "either") and not any(day <= MONTH_LENGTH[m] for m in months for day in days):
        if rule == "day-of-month":
            raise ScheduleError(
                f"day-of-month '{dom}' never falls in month '{month}', so this schedule would never run: "
                "choose days those months have (February has 29 at most)"
            )
        rule = "day-of-week"  # the day-of-month half can never match: the days of the week decide alone
    return CronSpec(minutes, hours, days, months, weekdays, rule)


def _fields(expression: str) -> list[str]:
    """The five standard fields, after aliases and a leading seconds field of 0."""
    text = expression.strip()
    if text.lower().startswith(("cron(", "rate(", "at(")) or "?" in text:
        raise ScheduleError(
            f"'{text}' is EventBridge syntax: write standard cron (minute hour day-of-month month "
            "day-of-week, e.g. '0 18 * * 1-5'), or an object with type 'every' or 'at'"
        )
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            raise ScheduleError(f"unknown cron alias '{text}': use one of {', '.join(ALIASES)}")
        text = ALIASES[text.lower()]
    fields = text.split()
    if len(fields) == 6:
        if SECOND.expand(fields[0]) != {0}:
            raise ScheduleError(MINUTE_PRECISION)
        fields = fields[1:]
    if len(fields) != 5:
        raise ScheduleError(
            f"cron expression '{text}' has {len(fields)} fields: write 5 (minute hour day-of-month "
            "month day-of-week), or 6 with a leading seconds field of 0"
        )
    return fields


def _reject_extensions(field: Field, text: str) -> None:
    for term in text.upper().split(","):
        if "#" in term or term in ("L", "LW") or (term[:-1].isdigit() and term[-1:] in ("L", "W")):
            raise ScheduleError(
                f"{field.name} '{text}' uses L, W or #, which standard cron does not have: "
                "write the days as numbers, names, ranges and lists"
            )


def _day_rule(dom: str, dow: str, days: frozenset[int], weekdays: frozenset[int]) -> DayRule:
    every_day, every_weekday = days == ALL_DAYS, weekdays == ALL_WEEKDAYS
    if dom.startswith("*") or dow.startswith("*"):  # cron requires both day fields to match
        if every_day:
            return "every day" if every_weekday else "day-of-week"
        if every_weekday:
            return "day-of-month"
        raise ScheduleError(
            f"day-of-month '{dom}' and day-of-week '{dow}' must both match (a day field that starts "
            "with '*' makes cron require both), which EventBridge Scheduler cannot express: "
            "restrict only one of the two day fields"
        )
    if every_day or every_weekday:
        return "every day"
    return "either"
