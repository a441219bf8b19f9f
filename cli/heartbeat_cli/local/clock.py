"""The clock the local scheduler (and the API gateway's authorizer cache) reads.

`SystemClock` is real time. `ManualClock` only moves when told to, so tests can make a minute, a
day or a DST transition pass instantly. `OffsetClock` is real time shifted, so a benchmark can be
two seconds before a minute boundary without waiting for one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, UTC."""
        ...

    def wait(self, wake: threading.Event, until: datetime | None) -> None:
        """Block until `until` (None: forever) or until `wake` is set, whichever is first."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, wake: threading.Event, until: datetime | None) -> None:
        if until is None:
            wake.wait()
            return
        delay = (until - self.now()).total_seconds()
        if delay > 0:
            wake.wait(delay)


class OffsetClock(SystemClock):
    """Real time plus a fixed offset: it runs at real speed from a chosen instant."""

    def __init__(self, offset: timedelta) -> None:
        self._offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


class ManualClock:
    """Time that stands still until `advance` or `set` moves it; waiters wake on every move."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()
        self._waiters: set[threading.Event] = set()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            if when < self._now:
                raise ValueError("a ManualClock never goes backwards")
            self._now = when.astimezone(UTC)
            waiters = list(self._waiters)
        for event in waiters:
            event.set()

    def advance(self, delta: timedelta) -> datetime:
        self.set(self.now() + delta)
        return self.now()

    def wait(self, wake: threading.Event, until: datetime | None) -> None:
        with self._lock:  # register before checking, so a move in between still wakes us
            self._waiters.add(wake)
        try:
            if until is None or self.now() < until:
                wake.wait()
        finally:
            with self._lock:
                self._waiters.discard(wake)
