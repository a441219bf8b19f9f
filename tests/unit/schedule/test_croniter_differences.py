"""Where croniter (the product card's choice, pinned at 6.2.4) reads cron differently from Debian's
cron or fires differently from EventBridge Scheduler, and what the engine does instead. These are
the reasons the engine does not evaluate with croniter (docs/decisions/2026-11-22-schedule-croniter.md);
each test shows croniter's answer next to the engine's."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from heartbeat.schedule import ScheduleError, parse_schedule
from heartbeat.schedule.cron import parse_cron

croniter = pytest.importorskip("croniter").croniter
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def croniter_field(expression: str, index: int) -> list[object]:
    return list(croniter.expand(expression)[0][index])


def test_a_start_with_a_step_past_the_field_end() -> None:
    assert croniter_field("59/15 * * * *", 0) == [0, 15, 30, 45]
    assert parse_cron("59/15 * * * *").minutes == {59}


def test_a_one_value_range() -> None:
    assert croniter_field("5-5 * * * *", 0) == ["*"]
    assert parse_cron("5-5 * * * *").minutes == {5}


def test_a_day_of_week_step_reaching_7() -> None:
    assert croniter_field("0 0 * * 1/2", 4) == [1, 3, 5]
    assert parse_cron("0 0 * * 1/2").weekdays == {1, 3, 5, 0}  # 7, Sunday, included


def test_a_backwards_range() -> None:
    assert croniter_field("0 0 * * SAT-SUN", 4) == [0, 6]
    with pytest.raises(ScheduleError, match="runs backwards: write SAT-7"):
        parse_cron("0 0 * * SAT-SUN")


def test_a_day_field_starting_with_a_star_means_both_must_match() -> None:
    # croniter: odd days OR Mondays (2026-03-03 is a Tuesday); Debian: odd days that are Mondays,
    # which EventBridge cannot say, so the engine refuses it
    it = croniter("0 0 */2 * MON", datetime(2026, 3, 1))
    assert [it.get_next(datetime).day for _ in range(3)] == [2, 3, 5]
    with pytest.raises(ScheduleError, match="must both match"):
        parse_cron("0 0 */2 * MON")


def test_dst_a_skipped_time() -> None:
    it = croniter("30 2 * * *", datetime(2026, 3, 7, 12, tzinfo=NEW_YORK))
    assert it.get_next(datetime).isoformat() == "2026-03-08T03:00:00-04:00"  # moved to 03:00
    schedule = parse_schedule("30 2 * * *", "America/New_York", now=NOW)
    after = datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)
    assert schedule.next_after(after) == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)  # skipped, as EventBridge


def test_dst_a_repeated_time() -> None:
    it = croniter("30 1 * * *", datetime(2026, 10, 31, 12, tzinfo=NEW_YORK))
    twice = [it.get_next(datetime).isoformat() for _ in range(2)]
    assert twice == ["2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"]
    schedule = parse_schedule("30 1 * * *", "America/New_York", now=NOW)
    after = datetime(2026, 10, 31, 12, tzinfo=NEW_YORK)
    assert schedule.next_times(after, 2) == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # once, as EventBridge
        datetime(2026, 11, 2, 6, 30, tzinfo=UTC),
    ]
