"""EventBridge Scheduler's dialect: the expressions standard cron becomes, and `next_fire`, which
evaluates any EventBridge expression as EventBridge does (the local stack's scheduler uses it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from heartbeat.schedule import ScheduleError
from heartbeat.schedule.cron import parse_cron
from heartbeat.schedule.eventbridge import at, next_fire, rate, translate


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 18 * * *", ["cron(0 18 * * ? *)"]),
        ("*/15 * * * *", ["cron(0/15 * * * ? *)"]),
        ("5/15 * * * *", ["cron(5/15 * * * ? *)"]),
        ("59/15 * * * *", ["cron(59 * * * ? *)"]),
        ("5-50/10 * * * *", ["cron(5,15,25,35,45 * * * ? *)"]),  # 5/10 would add minute 55
        ("0,30 * * * *", ["cron(0,30 * * * ? *)"]),
        ("0 */6 * * *", ["cron(0 0/6 * * ? *)"]),
        ("0 8-20/4 * * *", ["cron(0 8/4 * * ? *)"]),
        ("0 9-17 * * *", ["cron(0 9-17 * * ? *)"]),
        ("0 9 * * 1-5", ["cron(0 9 ? * MON-FRI *)"]),
        ("0 9 * * mon-fri", ["cron(0 9 ? * MON-FRI *)"]),
        ("0 9 * * 0", ["cron(0 9 ? * SUN *)"]),
        ("0 9 * * 7", ["cron(0 9 ? * SUN *)"]),
        ("0 9 * * 5-7", ["cron(0 9 ? * SUN,FRI,SAT *)"]),
        ("0 9 * * 6,0", ["cron(0 9 ? * SUN,SAT *)"]),
        ("0 9 * * */2", ["cron(0 9 ? * SUN,TUE,THU,SAT *)"]),  # no '/' in EventBridge's day of week
        ("0 9 * * 1/2", ["cron(0 9 ? * SUN,MON,WED,FRI *)"]),
        ("0 9 * * 0-4", ["cron(0 9 ? * SUN-THU *)"]),
        ("0 0 1 * *", ["cron(0 0 1 * ? *)"]),
        ("0 0 1/5 * *", ["cron(0 0 1/5 * ? *)"]),
        ("0 0 */2 * *", ["cron(0 0 1/2 * ? *)"]),
        ("0 12 1 jan,jul *", ["cron(0 12 1 1,7 ? *)"]),
        ("0 0 1 */3 *", ["cron(0 0 1 1/3 ? *)"]),
        ("0 0 1,15 * MON", ["cron(0 0 1,15 * ? *)", "cron(0 0 ? * MON *)"]),
        ("30 6 1-7 * 1", ["cron(30 6 1-7 * ? *)", "cron(30 6 ? * MON *)"]),
        ("0 0 1-31 * MON", ["cron(0 0 * * ? *)"]),
        ("0 0 */1 * MON", ["cron(0 0 ? * MON *)"]),
        ("0 0 31 2 MON", ["cron(0 0 ? 2 MON *)"]),
        ("0 0 29 2 *", ["cron(0 0 29 2 ? *)"]),
        ("@hourly", ["cron(0 * * * ? *)"]),
        ("0 0 0 * * *", ["cron(0 0 * * ? *)"]),
        ("* * * * *", ["cron(* * * * ? *)"]),
    ],
)
def test_translation(cron: str, expected: list[str]) -> None:
    assert translate(parse_cron(cron)) == expected


def test_the_longest_translation_fits_eventbridge() -> None:
    """No runs of three, so nothing shortens: the longest text each field can need."""
    minutes = ",".join(str(m) for m in range(0, 60) if m % 3 != 2)
    hours = ",".join(str(h) for h in range(0, 24) if h % 3 != 2)
    days = ",".join(str(d) for d in range(1, 32) if d % 3 != 0)
    months = ",".join(str(m) for m in range(1, 13) if m % 3 != 0)
    (expression,) = translate(parse_cron(f"{minutes} {hours} {days} {months} *"))
    assert len(expression) <= 256  # CreateSchedule's limit on ScheduleExpression


def test_rate_and_at_expressions() -> None:
    assert rate(1, "minutes") == "rate(1 minute)"
    assert rate(5, "minutes") == "rate(5 minutes)"
    assert rate(1, "hours") == "rate(1 hour)"
    assert rate(2, "days") == "rate(2 days)"
    assert at(datetime.fromisoformat("2026-12-01T09:00:00-05:00")) == "at(2026-12-01T14:00:00)"


# next_fire: EventBridge's own syntax ------------------------------------------------------------


def fires(
    expression: str, after: datetime, count: int = 3, timezone: str = "UTC", **kw: datetime
) -> list[str]:
    times: list[str] = []
    while len(times) < count and (fire := next_fire(expression, timezone, after, **kw)) is not None:
        times.append(fire.isoformat())
        after = fire
    return times


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        (
            "cron(0 10 L * ? *)",
            utc(2028, 1, 31, 12),
            ["2028-02-29T10:00:00+00:00", "2028-03-31T10:00:00+00:00"],
        ),
        # the last weekday: Feb 2026 ends on a Saturday, May 2026 on a Sunday
        ("cron(0 10 LW * ? *)", utc(2026, 2, 1), ["2026-02-27T10:00:00+00:00", "2026-03-31T10:00:00+00:00"]),
        ("cron(0 10 LW 5 ? *)", utc(2026, 1, 1), ["2026-05-29T10:00:00+00:00", "2027-05-31T10:00:00+00:00"]),
        # 15W: Aug 15 2026 is a Saturday (-> Friday 14th); 1W: Aug 1 is a Saturday (-> Monday 3rd,
        # never July 31st); 31W: May 31 2026 is a Sunday (-> Friday 29th); no 31W in a 30-day month
        ("cron(0 10 15W 8 ? *)", utc(2026, 1, 1), ["2026-08-14T10:00:00+00:00"]),
        ("cron(0 10 1W 8 ? *)", utc(2026, 1, 1), ["2026-08-03T10:00:00+00:00"]),
        (
            "cron(0 10 31W 5,6 ? *)",
            utc(2026, 1, 1),
            ["2026-05-29T10:00:00+00:00", "2027-05-31T10:00:00+00:00"],
        ),
        ("cron(0 10 ? * 6L *)", utc(2026, 1, 1), ["2026-01-30T10:00:00+00:00", "2026-02-27T10:00:00+00:00"]),
        ("cron(0 10 ? * 2#1 *)", utc(2026, 1, 1), ["2026-01-05T10:00:00+00:00", "2026-02-02T10:00:00+00:00"]),
        ("cron(0 10 ? 2 mon#5 *)", utc(2026, 1, 1), ["2044-02-29T10:00:00+00:00"]),
        ("cron(0 10 ? * L *)", utc(2026, 1, 1), ["2026-01-03T10:00:00+00:00"]),  # alone, L is Saturday
        ("cron(0 10 ? * 1 *)", utc(2026, 1, 1), ["2026-01-04T10:00:00+00:00"]),  # 1 is Sunday
        ("cron(0 10 ? * 2-6 *)", utc(2026, 1, 2), ["2026-01-02T10:00:00+00:00", "2026-01-05T10:00:00+00:00"]),
        ("cron(0 10 ? JAN,jul SUN *)", utc(2026, 6, 1), ["2026-07-05T10:00:00+00:00"]),
        (
            "cron(*/20 10 1 1 ? *)",
            utc(2026, 1, 1),
            ["2026-01-01T10:00:00+00:00", "2026-01-01T10:20:00+00:00"],
        ),
        ("cron(0 10 * * ? 2027-2028)", utc(2026, 6, 1), ["2027-01-01T10:00:00+00:00"]),
        ("cron(0 10 31 12 ? 2027)", utc(2026, 6, 1), ["2027-12-31T10:00:00+00:00"]),
        ("cron(0 0 30 2 ? *)", utc(2026, 6, 1), []),
    ],
)
def test_next_fire_understands_eventbridge_cron(
    expression: str, after: datetime, expected: list[str]
) -> None:
    assert fires(expression, after, count=len(expected) or 1) == expected


def test_next_fire_is_strictly_after() -> None:
    assert next_fire("cron(0 10 * * ? *)", "UTC", utc(2026, 1, 1, 10)) == utc(2026, 1, 2, 10)
    assert next_fire("cron(0 10 * * ? *)", "UTC", utc(2026, 1, 1, 9, 59, 59, 999999)) == utc(2026, 1, 1, 10)


def test_next_fire_keeps_to_start_and_end_dates() -> None:
    start, end = utc(2026, 3, 1), utc(2026, 3, 3, 10)
    assert fires("cron(0 10 * * ? *)", utc(2026, 1, 1), 5, start=start, end=end) == [
        "2026-03-01T10:00:00+00:00",
        "2026-03-02T10:00:00+00:00",
        "2026-03-03T10:00:00+00:00",
    ]
    assert next_fire("cron(0 10 * * ? *)", "UTC", utc(2026, 1, 1), start=utc(2026, 3, 1, 10)) == utc(
        2026, 3, 1, 10
    )


def test_rate_counts_from_its_anchor_in_elapsed_time() -> None:
    anchor = utc(2026, 1, 1, 0, 3)
    assert fires("rate(5 minutes)", utc(2025, 12, 1), anchor=anchor) == [
        "2026-01-01T00:03:00+00:00",
        "2026-01-01T00:08:00+00:00",
        "2026-01-01T00:13:00+00:00",
    ]
    assert next_fire("rate(5 minutes)", "UTC", utc(2026, 1, 1, 0, 8), anchor=anchor) == utc(2026, 1, 1, 0, 13)
    assert next_fire("rate(1 hour)", "UTC", utc(2026, 1, 1, 5, 30), start=anchor) == utc(2026, 1, 1, 6, 3)
    # a day is 24 hours, DST or not: across New York's spring forward the local time moves
    after = utc(2026, 3, 7, 15)
    assert fires("rate(1 day)", after, 2, "America/New_York", anchor=utc(2026, 3, 1, 14)) == [
        "2026-03-08T14:00:00+00:00",
        "2026-03-09T14:00:00+00:00",
    ]


def test_rate_needs_an_anchor() -> None:
    with pytest.raises(ScheduleError, match="counts from the schedule's start"):
        next_fire("rate(5 minutes)", "UTC", utc(2026, 1, 1))


def test_at_is_local_to_its_timezone_and_fires_once() -> None:
    expression = "at(2026-12-01T09:00:00)"
    assert next_fire(expression, "America/New_York", utc(2026, 11, 1)) == utc(2026, 12, 1, 14)
    assert next_fire(expression, "America/New_York", utc(2026, 12, 1, 14)) is None
    assert next_fire(expression, "Asia/Kolkata", utc(2026, 11, 1)) == utc(2026, 12, 1, 3, 30)
    assert next_fire("at(2026-03-08T02:30:00)", "America/New_York", utc(2026, 1, 1)) is None  # never exists


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 10 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 10 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(0 10 * * ?)", "has 5 fields: EventBridge takes 6"),
        ("cron(0 10 ? * 2/2 *)", "EventBridge has no '/' in day of week"),
        ("cron(0 10 ? * 2#1,3#2 *)", "'#' takes one day and a week 1-5"),
        ("cron(0 10 ? * 2#6 *)", "'#' takes one day and a week 1-5"),
        ("cron(0 10 ? * 0 *)", "day-of-week 0 is out of range 1-7"),
        ("cron(0 10 * * ? 2200)", "year 2200 is out of range 1970-2199"),
        ("rate(0 minutes)", "a rate must be at least 1 minute"),
        ("rate(5 weeks)", "is not an EventBridge cron(), rate() or at() expression"),
        ("at(2026-02-30T09:00:00)", "is not a real date and time"),
        ("0 10 * * ?", "is not an EventBridge cron(), rate() or at() expression"),
    ],
)
def test_next_fire_refuses_what_eventbridge_refuses(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        next_fire(expression, "UTC", utc(2026, 1, 1), anchor=utc(2026, 1, 1))


def test_a_refused_expression_is_also_a_value_error() -> None:
    with pytest.raises(ValueError, match="exactly one of day-of-month and day-of-week"):
        next_fire("cron(0 10 * * * *)", "UTC", utc(2026, 1, 1))


def test_next_fire_checks_its_timezone() -> None:
    with pytest.raises(ScheduleError, match="unknown timezone 'Mars/Olympus'") as caught:
        next_fire("cron(0 10 * * ? *)", "Mars/Olympus", utc(2026, 1, 1))
    assert caught.value.param == "timezone"


def test_next_fire_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_fire("cron(0 10 * * ? *)", "UTC", datetime(2026, 1, 1))


def test_next_fire_jumps_instead_of_scanning() -> None:
    """The local scheduler asks for a thousand schedules at once: rare and never-firing
    expressions must not scan minute by minute."""
    import time

    after = utc(2026, 1, 1)
    started = time.perf_counter()
    for _ in range(100):
        assert next_fire("cron(0 0 29 2 ? *)", "Europe/Paris", after) == utc(2028, 2, 28, 23)
        assert next_fire("cron(0 0 31 2 ? *)", "UTC", after) is None
        assert next_fire("cron(* * * * ? 2199)", "UTC", after) == utc(2199, 1, 1)
        assert next_fire("cron(59 23 ? 2 2#5 *)", "UTC", after + timedelta(days=1)) == utc(
            2044, 2, 29, 23, 59
        )
    assert time.perf_counter() - started < 2.0
