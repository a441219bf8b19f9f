"""Fire times in the user's time zone under EventBridge Scheduler's DST rules: a local time the
clocks skip does not fire; a local time the clocks repeat fires once, at its first occurrence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from heartbeat.schedule import ScheduleError, parse_schedule
from heartbeat.timeutil import iso

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def next_times(expression: str, timezone: str | None, after: str, count: int = 3) -> list[str]:
    schedule = parse_schedule(expression, timezone, now=NOW)
    return [iso(t) for t in schedule.next_times(datetime.fromisoformat(after), count)]


def test_the_seed_example() -> None:
    """`0 18 * * *` in New York, created 2026-02-25T12:00Z: 18:00 EST is 23:00Z, and in summer
    18:00 EDT is 22:00Z."""
    schedule = parse_schedule("0 18 * * *", "America/New_York", now=NOW)
    assert schedule.to_api() == {"type": "cron", "expression": "0 18 * * *", "timezone": "America/New_York"}
    assert [s.expression for s in schedule.eventbridge()] == ["cron(0 18 * * ? *)"]
    assert iso(schedule.next_after(datetime(2026, 2, 25, 12, tzinfo=UTC))) == "2026-02-25T23:00:00.000Z"  # type: ignore[arg-type]
    assert next_times("0 18 * * *", "America/New_York", "2026-07-01T00:00:00Z", 1) == [
        "2026-07-01T22:00:00.000Z"
    ]


@pytest.mark.parametrize(
    ("expression", "timezone", "after", "expected"),
    [
        # UTC is the default
        ("0 9 * * *", None, "2026-03-01T10:00:00Z", ["2026-03-02T09:00:00.000Z"]),
        (
            "*/15 * * * *",
            "UTC",
            "2026-03-01T10:07:00Z",
            ["2026-03-01T10:15:00.000Z", "2026-03-01T10:30:00.000Z"],
        ),
        # half-hour zones without DST, and St John's half-hour zone with DST
        (
            "0 9 * * *",
            "Asia/Kolkata",
            "2026-06-01T00:00:00Z",
            ["2026-06-01T03:30:00.000Z", "2026-06-02T03:30:00.000Z"],
        ),
        ("0 0 * * *", "Asia/Kolkata", "2026-06-01T00:00:00Z", ["2026-06-01T18:30:00.000Z"]),
        ("0 9 * * *", "America/St_Johns", "2026-01-10T00:00:00Z", ["2026-01-10T12:30:00.000Z"]),
        ("0 9 * * *", "America/St_Johns", "2026-07-10T00:00:00Z", ["2026-07-10T11:30:00.000Z"]),
        # weekdays are the local weekdays: Monday 00:30 in Tokyo is Sunday 15:30 UTC
        (
            "30 0 * * 1",
            "Asia/Tokyo",
            "2026-03-01T00:00:00Z",
            ["2026-03-01T15:30:00.000Z", "2026-03-08T15:30:00.000Z"],
        ),
        # day of month and month are local too: midnight on the 1st in Auckland is the 31st/30th UTC
        (
            "0 0 1 * *",
            "Pacific/Auckland",
            "2026-04-15T00:00:00Z",
            ["2026-04-30T12:00:00.000Z", "2026-05-31T12:00:00.000Z"],
        ),
    ],
)
def test_local_times(expression: str, timezone: str | None, after: str, expected: list[str]) -> None:
    assert next_times(expression, timezone, after, len(expected)) == expected


@pytest.mark.parametrize(
    ("expression", "timezone", "after", "expected"),
    [
        # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 that day never fires
        (
            "30 2 * * *",
            "America/New_York",
            "2026-03-07T12:00:00Z",
            ["2026-03-09T06:30:00.000Z", "2026-03-10T06:30:00.000Z"],
        ),
        (
            "0 * * * *",
            "America/New_York",
            "2026-03-08T06:30:00Z",
            ["2026-03-08T07:00:00.000Z", "2026-03-08T08:00:00.000Z"],
        ),
        (
            "*/30 * * * *",
            "America/New_York",
            "2026-03-08T06:10:00Z",
            ["2026-03-08T06:30:00.000Z", "2026-03-08T07:00:00.000Z"],
        ),
        # Sydney (southern hemisphere), 2026-10-04: 02:00 AEST jumps to 03:00 AEDT
        ("30 2 * * *", "Australia/Sydney", "2026-10-03T00:00:00Z", ["2026-10-04T15:30:00.000Z"]),
        # St John's, 2026-03-08: 02:00 NST jumps to 03:00 NDT
        ("30 2 * * *", "America/St_Johns", "2026-03-07T12:00:00Z", ["2026-03-09T05:00:00.000Z"]),
        # Lord Howe moves only 30 minutes, 2026-10-04: 02:00 jumps to 02:30, so 02:15 is skipped and
        # 02:30 is not
        ("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", ["2026-10-04T15:15:00.000Z"]),
        ("30 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", ["2026-10-03T15:30:00.000Z"]),
        # Dublin (whose tz data runs DST backwards: winter is the "negative" offset), 2026-03-29:
        # 01:00 GMT jumps to 02:00 IST
        ("30 1 * * *", "Europe/Dublin", "2026-03-28T12:00:00Z", ["2026-03-30T00:30:00.000Z"]),
        # Santiago changes at midnight, 2026-09-06: 00:00 jumps to 01:00, so that day has no midnight
        ("0 0 * * *", "America/Santiago", "2026-09-05T12:00:00Z", ["2026-09-07T03:00:00.000Z"]),
    ],
)
def test_a_skipped_local_time_does_not_fire(
    expression: str, timezone: str, after: str, expected: list[str]
) -> None:
    assert next_times(expression, timezone, after, len(expected)) == expected


@pytest.mark.parametrize(
    ("expression", "timezone", "after", "expected"),
    [
        # New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 fires once, as EDT
        (
            "30 1 * * *",
            "America/New_York",
            "2026-10-31T12:00:00Z",
            ["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"],
        ),
        # every 30 minutes: 01:00 and 01:30 run once, then nothing until 02:00 EST, an hour later
        (
            "*/30 * * * *",
            "America/New_York",
            "2026-11-01T04:45:00Z",
            ["2026-11-01T05:00:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-01T07:00:00.000Z"],
        ),
        # Sydney, 2026-04-05: 03:00 AEDT falls back to 02:00 AEST; 02:30 fires once, as AEDT
        (
            "30 2 * * *",
            "Australia/Sydney",
            "2026-04-04T00:00:00Z",
            ["2026-04-04T15:30:00.000Z", "2026-04-05T16:30:00.000Z"],
        ),
        # Lord Howe, 2026-04-05: 02:00 (+11) falls back to 01:30 (+10:30); 01:45 fires once
        (
            "45 1 * * *",
            "Australia/Lord_Howe",
            "2026-04-04T00:00:00Z",
            ["2026-04-04T14:45:00.000Z", "2026-04-05T15:15:00.000Z"],
        ),
        # Dublin, 2026-10-25: 02:00 IST falls back to 01:00 GMT; 01:30 fires once, as IST
        (
            "30 1 * * *",
            "Europe/Dublin",
            "2026-10-24T12:00:00Z",
            ["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"],
        ),
        # St John's, 2026-11-01: 02:00 NDT falls back to 01:00 NST
        (
            "30 1 * * *",
            "America/St_Johns",
            "2026-10-31T12:00:00Z",
            ["2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z"],
        ),
        # Santiago, 2026-04-04: 24:00 falls back to 23:00; 23:30 fires once, at -03
        (
            "30 23 * * *",
            "America/Santiago",
            "2026-04-04T12:00:00Z",
            ["2026-04-05T02:30:00.000Z", "2026-04-06T03:30:00.000Z"],
        ),
    ],
)
def test_a_repeated_local_time_fires_once(
    expression: str, timezone: str, after: str, expected: list[str]
) -> None:
    assert next_times(expression, timezone, after, len(expected)) == expected


def test_from_inside_the_repeated_hour_the_second_pass_does_not_fire() -> None:
    # 06:15Z is 01:15 EST, the second 01:15 of 2026-11-01: 01:30 already fired at 05:30Z
    assert next_times("30 1 * * *", "America/New_York", "2026-11-01T06:15:00Z", 1) == [
        "2026-11-02T06:30:00.000Z"
    ]
    assert next_times("*/15 * * * *", "America/New_York", "2026-11-01T06:15:00Z", 1) == [
        "2026-11-01T07:00:00.000Z"
    ]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 12 29 2 *", "2026-01-01T00:00:00Z", ["2028-02-29T12:00:00.000Z", "2032-02-29T12:00:00.000Z"]),
        ("0 12 29 2 *", "2096-03-01T00:00:00Z", ["2104-02-29T12:00:00.000Z"]),  # 2100 is no leap year
        ("0 12 29 * *", "2027-01-30T00:00:00Z", ["2027-03-29T12:00:00.000Z"]),  # no 29th in February 2027
        ("0 12 28-29 2 *", "2027-03-01T00:00:00Z", ["2028-02-28T12:00:00.000Z", "2028-02-29T12:00:00.000Z"]),
        # Feb 29 or any Monday in February: 2028-02-29 is a Tuesday
        (
            "0 12 29 2 1",
            "2028-02-20T00:00:00Z",
            ["2028-02-21T12:00:00.000Z", "2028-02-28T12:00:00.000Z", "2028-02-29T12:00:00.000Z"],
        ),
    ],
)
def test_leap_days(expression: str, after: str, expected: list[str]) -> None:
    assert next_times(expression, "UTC", after, len(expected)) == expected


def test_a_day_matching_both_day_fields_is_one_fire() -> None:
    # 2026-06-01 is a Monday and the 1st: both EventBridge schedules fire at that slot, which is
    # one fire time (the executor's slot dedupe runs it once)
    schedule = parse_schedule("0 9 1 * MON", "Europe/London", now=NOW)
    assert len(schedule.eventbridge()) == 2
    times = [iso(t) for t in schedule.next_times(datetime(2026, 5, 31, tzinfo=UTC), 3)]
    assert times == ["2026-06-01T08:00:00.000Z", "2026-06-08T08:00:00.000Z", "2026-06-15T08:00:00.000Z"]


@pytest.mark.parametrize(
    ("timezone", "message"),
    [
        ("Mars/Olympus", "unknown timezone 'Mars/Olympus': use an IANA name"),
        ("america/new_york", "unknown timezone 'america/new_york': did you mean 'America/New_York'?"),
        ("EST+5", "unknown timezone 'EST+5'"),
        ("", "unknown timezone ''"),
        ("Factory", "unknown timezone 'Factory'"),
        ("localtime", "unknown timezone 'localtime'"),
    ],
)
def test_unknown_time_zones(timezone: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule("0 9 * * *", timezone, now=NOW)
    assert message in caught.value.message
    assert caught.value.param == "timezone"


def test_iana_names_including_links_are_accepted() -> None:
    for name in ("UTC", "Etc/GMT+5", "US/Eastern", "Asia/Calcutta", "Europe/Kyiv"):
        assert parse_schedule("0 9 * * *", name, now=NOW).timezone == name
