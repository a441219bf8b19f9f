"""When a failing task may run again, and when it is disabled."""

from __future__ import annotations

from datetime import datetime, timedelta

# Slots are skipped for this long after the n-th consecutive error (the last step repeats).
LADDER: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
)


def backoff_after(consecutive_errors: int) -> timedelta:
    if consecutive_errors < 1:
        return timedelta(0)
    return LADDER[min(consecutive_errors, len(LADDER)) - 1]


def backoff_until(consecutive_errors: int, finished: datetime) -> datetime:
    return finished + backoff_after(consecutive_errors)
