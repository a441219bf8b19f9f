"""The schedule in words, as the console and GET /v1/tasks/{id}/schedule show it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from heartbeat.schedule import parse_schedule
from heartbeat.schedule.describe import describe, describe_cron

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("0 18 * * *", "at 18:00, every day"),
        ("*/15 * * * *", "every 15 minutes"),
        ("* * * * *", "every minute"),
        ("5 * * * *", "at minute 5 of every hour"),
        ("0 9 * * 1-5", "at 09:00, on Monday to Friday"),
        ("30 8,17 * * mon,wed,fri", "at 08:30 and 17:30, on Monday, Wednesday and Friday"),
        ("0 0 1,15 * *", "at 00:00, on day 1 and 15 of the month"),
        ("0 12 1 * 1", "at 12:00, on day 1 of the month or on Monday"),
        ("0 0 * * 7", "at 00:00, on Sunday"),
        ("0 9 * 1,7 *", "at 09:00, every day, in January and July"),
        ("0 9-17 * * *", "at minute 0 of hours 09 to 17, every day"),
        ("*/5 9-17 * * 1-5", "every 5 minutes of hours 09 to 17, on Monday to Friday"),
        ("@weekly", "at 00:00, on Sunday"),
    ],
)
def test_a_cron_expression_reads_as_the_engine_runs_it(expression, words):
    assert describe_cron(expression) == words


def test_every_and_at_schedules_have_words_too():
    every = parse_schedule({"type": "every", "hours": 1, "start": "2026-12-02T00:00:00Z"}, now=NOW)
    assert describe(every) == "every hour, from 2026-12-02 00:00 UTC"
    at = parse_schedule({"type": "at", "at": "2026-12-24T18:00:00", "timezone": "Europe/Paris"}, now=NOW)
    assert describe(at) == "once, at 2026-12-24 18:00 (Europe/Paris)"
    assert describe(parse_schedule("0 7 * * *", "Asia/Tokyo", now=NOW)) == "at 07:00, every day (Asia/Tokyo)"
