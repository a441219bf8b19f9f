"""`parse_schedule`: the forms a task's schedule takes, what each becomes on EventBridge, and the
400s for what it cannot be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from heartbeat.errors import InvalidRequestError
from heartbeat.schedule import EventBridgeSchedule, Schedule, ScheduleError, parse_schedule
from heartbeat.timeutil import iso

NOW = datetime(2026, 11, 22, 10, 0, 30, tzinfo=UTC)


def isos(times: list[datetime]) -> list[str]:
    return [iso(t) for t in times]


# cron -----------------------------------------------------------------------------------------


def test_a_cron_string_takes_the_timezone_argument_or_utc() -> None:
    schedule = parse_schedule("0  18 * * *", "America/New_York", now=NOW)
    assert schedule.to_api() == {"type": "cron", "expression": "0 18 * * *", "timezone": "America/New_York"}
    assert schedule.timezone == "America/New_York"
    assert not schedule.one_time
    assert schedule.eventbridge() == [EventBridgeSchedule("cron(0 18 * * ? *)", "America/New_York")]
    assert parse_schedule("0 18 * * *", now=NOW).to_api()["timezone"] == "UTC"


def test_a_cron_object_and_its_timezone() -> None:
    value = {"type": "cron", "expression": "0 9 * * 1-5", "timezone": "Europe/Paris"}
    schedule = parse_schedule(value, now=NOW)
    assert schedule.to_api() == value
    assert schedule.eventbridge() == [EventBridgeSchedule("cron(0 9 ? * MON-FRI *)", "Europe/Paris")]
    # the object's own timezone wins over the argument; without one, the argument applies
    assert parse_schedule(value, "Asia/Tokyo", now=NOW).timezone == "Europe/Paris"
    assert (
        parse_schedule({"type": "cron", "expression": "0 9 * * *"}, "Asia/Tokyo", now=NOW).timezone
        == "Asia/Tokyo"
    )
    # what to_api gives back parses to the same schedule
    assert parse_schedule(schedule.to_api(), now=NOW) == schedule


def test_next_run_at_is_the_earliest_of_its_eventbridge_schedules() -> None:
    schedule = parse_schedule("0 9 1 * FRI", "UTC", now=NOW)  # the 1st, or a Friday
    assert len(schedule.eventbridge()) == 2
    assert isos(schedule.next_times(NOW, 4)) == [
        "2026-11-27T09:00:00.000Z",
        "2026-12-01T09:00:00.000Z",
        "2026-12-04T09:00:00.000Z",
        "2026-12-11T09:00:00.000Z",
    ]
    assert isinstance(schedule, Schedule)


# every ----------------------------------------------------------------------------------------


def test_every_starts_at_the_next_whole_minute() -> None:
    schedule = parse_schedule({"type": "every", "minutes": 5}, now=NOW)
    start = datetime(2026, 11, 22, 10, 1, tzinfo=UTC)
    assert schedule.to_api() == {"type": "every", "minutes": 5, "start": "2026-11-22T10:01:00.000Z"}
    assert schedule.eventbridge() == [EventBridgeSchedule("rate(5 minutes)", "UTC", start)]
    assert schedule.timezone == "UTC"
    assert not schedule.one_time
    assert isos(schedule.next_times(NOW, 3)) == [
        "2026-11-22T10:01:00.000Z",
        "2026-11-22T10:06:00.000Z",
        "2026-11-22T10:11:00.000Z",
    ]


def test_every_keeps_its_phase_when_read_back_later() -> None:
    schedule = parse_schedule({"type": "every", "hours": 2}, now=NOW)
    later = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    again = parse_schedule(schedule.to_api(), now=later)
    assert again == schedule
    assert iso(again.next_after(later)) == "2026-11-23T08:01:00.000Z"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expression"),
    [
        ({"type": "every", "minutes": 1}, "rate(1 minute)"),
        ({"type": "every", "hours": 1}, "rate(1 hour)"),
        ({"type": "every", "hours": 6}, "rate(6 hours)"),
        ({"type": "every", "days": 1, "start": "2026-12-01T09:00:00Z"}, "rate(1 day)"),
        ({"type": "every", "days": 3, "timezone": "Europe/Paris"}, "rate(3 days)"),
    ],
)
def test_every_becomes_a_rate(value: dict[str, Any], expression: str) -> None:
    assert parse_schedule(value, now=NOW).eventbridge()[0].expression == expression


def test_every_with_a_start_counts_days_of_24_hours() -> None:
    value = {"type": "every", "days": 1, "start": "2026-03-07T14:00:00Z"}
    schedule = parse_schedule(value, now=NOW)
    assert isos(schedule.next_times(datetime(2026, 3, 7, tzinfo=UTC), 3)) == [
        "2026-03-07T14:00:00.000Z",
        "2026-03-08T14:00:00.000Z",  # New York's clocks changed overnight: a rate does not care
        "2026-03-09T14:00:00.000Z",
    ]


# at -------------------------------------------------------------------------------------------


def test_at_with_an_offset() -> None:
    schedule = parse_schedule({"type": "at", "at": "2026-12-01T09:00:00-05:00"}, now=NOW)
    assert schedule.one_time
    assert schedule.to_api() == {"type": "at", "at": "2026-12-01T14:00:00.000Z", "timezone": "UTC"}
    assert schedule.eventbridge() == [EventBridgeSchedule("at(2026-12-01T14:00:00)", "UTC")]
    assert iso(schedule.next_after(NOW)) == "2026-12-01T14:00:00.000Z"  # type: ignore[arg-type]
    assert schedule.next_after(datetime(2026, 12, 1, 14, tzinfo=UTC)) is None
    assert schedule.next_times(NOW, 5) == [datetime(2026, 12, 1, 14, tzinfo=UTC)]


def test_at_without_an_offset_is_local_to_the_timezone() -> None:
    value = {"type": "at", "at": "2026-12-01T09:00", "timezone": "Asia/Kolkata"}
    schedule = parse_schedule(value, now=NOW)
    assert schedule.to_api() == {"type": "at", "at": "2026-12-01T03:30:00.000Z", "timezone": "Asia/Kolkata"}
    assert schedule.timezone == "Asia/Kolkata"
    assert parse_schedule({"type": "at", "at": "2026-12-01T09:00"}, "America/New_York", now=NOW).to_api()[
        "at"
    ] == ("2026-12-01T14:00:00.000Z")
    assert (
        parse_schedule({"type": "at", "at": "2026-12-01T09:00Z"}, now=NOW).to_api()["at"]
        == "2026-12-01T09:00:00.000Z"
    )


def test_at_a_repeated_local_time_is_its_first_occurrence() -> None:
    value = {"type": "at", "at": "2027-11-07T01:30:00", "timezone": "America/New_York"}
    assert parse_schedule(value, now=NOW).to_api()["at"] == "2027-11-07T05:30:00.000Z"  # EDT, not EST


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"type": "at", "at": "2026-11-22T10:00:00Z"},
            "at 2026-11-22T10:00:00.000Z is in the past: choose a time after",
        ),
        ({"type": "at", "at": "2020-01-01T00:00:00Z"}, "is in the past"),
        (
            {"type": "at", "at": "2026-12-01T09:00:30Z"},
            "seconds must be 0: EventBridge Scheduler fires at minute precision",
        ),
        ({"type": "at", "at": "2026-12-01T09:00:00.5Z"}, "seconds must be 0"),
        (
            {"type": "at", "at": "2027-03-14T02:30:00", "timezone": "America/New_York"},
            "does not exist in America/New_York",
        ),
        ({"type": "at", "at": "tomorrow"}, "schedule at must be an ISO 8601 time such as"),
        ({"type": "at", "at": 1764579600}, "schedule at must be an ISO 8601 time"),
        ({"type": "at"}, "schedule at must be an ISO 8601 time"),
    ],
)
def test_bad_at(value: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(value, now=NOW)
    assert message in caught.value.message


# what is refused ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"type": "every"},
            'takes exactly one of minutes, hours or days, e.g. {"type": "every", "minutes": 5}',
        ),
        ({"type": "every", "minutes": 5, "hours": 1}, "takes exactly one of minutes, hours or days"),
        ({"type": "every", "minutes": 0}, "every minutes must be a whole number from 1 to 525600"),
        ({"type": "every", "minutes": -5}, "every minutes must be a whole number"),
        ({"type": "every", "minutes": 1.5}, "every minutes must be a whole number"),
        ({"type": "every", "minutes": "5"}, "every minutes must be a whole number"),
        ({"type": "every", "minutes": True}, "every minutes must be a whole number"),
        ({"type": "every", "days": 366}, "every days must be a whole number from 1 to 365"),
        ({"type": "every", "minutes": 5, "start": "2026-12-01T09:00:10Z"}, "seconds must be 0"),
        ({"type": "every", "seconds": 30}, "a schedule of type 'every' has no field 'seconds'"),
        (
            {"type": "cron", "expression": "0 9 * * *", "tz": "UTC"},
            "a schedule of type 'cron' has no field 'tz': it takes expression, timezone",
        ),
        ({"type": "cron"}, "schedule needs a cron expression such as '0 18 * * *'"),
        ({"type": "cron", "expression": 5}, "schedule needs a cron expression"),
        ({"type": "cron", "expression": "0 25 * * *"}, "hour 25 is out of range 0-23"),
        ({"type": "rate", "minutes": 5}, "schedule type 'rate' is not one of 'cron', 'every', 'at'"),
        ({"expression": "0 9 * * *"}, "schedule type None is not one of 'cron', 'every', 'at'"),
        ("", "schedule needs a cron expression"),
        ("   ", "schedule needs a cron expression"),
        (None, "schedule must be a cron string such as '0 18 * * *', or an object with a type"),
        (["0 9 * * *"], "schedule must be a cron string"),
    ],
)
def test_refused_schedules_are_400s_that_say_what_to_fix(value: object, message: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_schedule(value, now=NOW)
    assert isinstance(caught.value, ScheduleError)
    assert message in caught.value.message
    assert caught.value.param == "schedule"


def test_timezone_errors_point_at_the_timezone() -> None:
    for value, timezone in [
        ("0 9 * * *", "Mars/Olympus"),
        ({"type": "cron", "expression": "0 9 * * *", "timezone": "Mars/Olympus"}, None),
        ({"type": "every", "minutes": 5, "timezone": "Mars/Olympus"}, None),
        ({"type": "at", "at": "2026-12-01T09:00", "timezone": "Mars/Olympus"}, None),
        ("0 9 * * *", 5),
    ]:
        with pytest.raises(ScheduleError) as caught:
            parse_schedule(value, timezone, now=NOW)  # type: ignore[arg-type]
        assert caught.value.param == "timezone"


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_schedule("0 9 * * *", now=datetime(2026, 1, 1))
