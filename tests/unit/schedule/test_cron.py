"""Standard cron as Debian's cron reads it, and what becomes a 400."""

from __future__ import annotations

import pytest

from heartbeat.errors import InvalidRequestError
from heartbeat.schedule import ScheduleError
from heartbeat.schedule.cron import parse_cron


def minutes(expression: str) -> list[int]:
    return sorted(parse_cron(f"{expression} * * * *").minutes)


def weekdays(field: str) -> list[int]:
    return sorted(parse_cron(f"0 0 * * {field}").weekdays)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("*/15", [0, 15, 30, 45]),
        ("5-50/10", [5, 15, 25, 35, 45]),
        ("5/15", [5, 20, 35, 50]),  # N/step runs to the field's end (Debian via cronsim, Quartz)
        ("59/15", [59]),  # ... so 59/15 is 59 alone (croniter 6.2.4 says 0,15,30,45)
        ("5-5", [5]),  # a one-value range (croniter 6.2.4 says every minute)
        ("1,2,10-12", [1, 2, 10, 11, 12]),
        ("0-59/30", [0, 30]),
        ("7/100", [7]),
    ],
)
def test_minutes_lists_ranges_and_steps(field: str, expected: list[int]) -> None:
    assert minutes(field) == expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("0", [0]),
        ("7", [0]),  # 7 is Sunday too
        ("0,7", [0]),
        ("5-7", [0, 5, 6]),
        ("sun", [0]),
        ("Mon-FRI", [1, 2, 3, 4, 5]),
        ("*/2", [0, 2, 4, 6]),
        ("1/2", [0, 1, 3, 5]),  # 1,3,5,7 with 7 Sunday (croniter 6.2.4 drops Sunday)
        ("0-7", [0, 1, 2, 3, 4, 5, 6]),
    ],
)
def test_day_of_week_numbers_names_and_sunday(field: str, expected: list[int]) -> None:
    assert weekdays(field) == expected


def test_month_names_in_any_case() -> None:
    assert sorted(parse_cron("0 0 1 jan,Jul,DEC *").months) == [1, 7, 12]
    assert sorted(parse_cron("0 0 1 mar-may *").months) == [3, 4, 5]


@pytest.mark.parametrize(
    ("expression", "rule"),
    [
        ("0 0 * * *", "every day"),
        ("0 0 1,15 * *", "day-of-month"),
        ("0 0 * * MON", "day-of-week"),
        ("0 0 1,15 * MON", "either"),  # both restricted: a day matches either
        ("0 0 1-31 * MON", "every day"),  # either, and every day is a day of the month
        ("0 0 1 * 0-7", "every day"),
        ("0 0 */1 * MON", "day-of-week"),  # '*' first: both must match, and */1 is every day
        ("0 0 */2 * 0-6", "day-of-month"),  # '*' first: both must match, and 0-6 is every weekday
        ("0 0 31 2 MON", "day-of-week"),  # February 31 never comes: Mondays alone decide
    ],
)
def test_day_rule(expression: str, rule: str) -> None:
    assert parse_cron(expression).day_rule == rule


def test_aliases_and_six_fields() -> None:
    assert parse_cron("@hourly") == parse_cron("0 * * * *")
    assert parse_cron("@DAILY") == parse_cron("0 0 * * *")
    assert parse_cron("@midnight") == parse_cron("0 0 * * *")
    assert parse_cron("@weekly") == parse_cron("0 0 * * 0")
    assert parse_cron("@monthly") == parse_cron("0 0 1 * *")
    assert parse_cron("@yearly") == parse_cron("@annually") == parse_cron("0 0 1 1 *")
    assert parse_cron("0 30 9 * * 1-5") == parse_cron("30 9 * * 1-5")
    assert parse_cron("  00  30 9 * *   *") == parse_cron("30 9 * * *")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "minute 61 is out of range 0-59"),
        ("* 24 * * *", "hour 24 is out of range 0-23"),
        ("* * 0 * *", "day-of-month 0 is out of range 1-31"),
        ("* * * 13 *", "month 13 is out of range 1-12"),
        ("* * * * 8", "day-of-week 8 is out of range 0-7"),
        ("* * * foo *", "month 'foo' is not a number or a name (JAN-DEC)"),
        ("* * * * monday", "day-of-week 'monday' is not a number or a name (SUN-SAT)"),
        ("x * * * *", "minute 'x' is not a number"),
        ("50-10 * * * *", "minute range 50-10 runs backwards: write it as two ranges, 50-59,0-10"),
        ("0 0 * * SAT-SUN", "day-of-week range SAT-SUN runs backwards: write SAT-7 (7 is Sunday too)"),
        ("*/0 * * * *", "minute step in '*/0' must be a whole number of at least 1"),
        ("1,,2 * * * *", "minute list '1,,2' has an empty item"),
        ("1- * * * *", "minute '1-' is incomplete"),
        ("* * * *", "has 4 fields: write 5 (minute hour day-of-month month day-of-week)"),
        ("0 0 0 * * * *", "has 7 fields"),
        ("30 0 0 * * *", "seconds must be 0: EventBridge Scheduler fires at minute precision"),
        ("*/5 * * * * *", "seconds must be 0: EventBridge Scheduler fires at minute precision"),
        ("cron(0 18 * * ? *)", "is EventBridge syntax: write standard cron"),
        ("0 18 ? * MON-FRI", "is EventBridge syntax"),
        ("0 0 L * *", "uses L, W or #, which standard cron does not have"),
        ("0 0 15W * *", "uses L, W or #"),
        ("0 0 * * 5#2", "uses L, W or #"),
        ("0 0 * * 5L", "uses L, W or #"),
        ("@reboot", "unknown cron alias '@reboot'"),
        ("0 0 30 2 *", "day-of-month '30' never falls in month '2', so this schedule would never run"),
        ("0 0 31 4,6,9,11 *", "never run"),
        ("0 0 */2 * MON", "must both match (a day field that starts with '*' makes cron require both)"),
        (
            "0 0 1-7 * */2",
            "which EventBridge Scheduler cannot express: restrict only one of the two day fields",
        ),
    ],
)
def test_invalid_expressions_say_what_to_fix(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_cron(expression)
    assert message in caught.value.message
    assert caught.value.param == "schedule"
    assert isinstance(caught.value, InvalidRequestError)  # the API answers 400


def test_leap_day_is_a_real_day() -> None:
    spec = parse_cron("0 12 29 2 *")
    assert spec.day_rule == "day-of-month"
    assert spec.days == {29}
