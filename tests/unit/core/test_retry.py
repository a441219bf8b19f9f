"""The one retry helper: how many attempts a race gets, how long it waits, when it gives up."""

from __future__ import annotations

from heartbeat.retry import Backoff


def test_a_race_gets_its_attempts_with_jittered_exponential_waits_between_them() -> None:
    slept: list[float] = []
    backoff = Backoff(4, base_s=0.1, max_s=0.25, sleep=slept.append, random=lambda: 1.0)
    assert list(backoff.attempts()) == [0, 1, 2, 3]
    assert slept == [0.1, 0.2, 0.25]  # no wait before the first attempt; capped at max_s


def test_retries_at_once_when_there_is_no_base_delay() -> None:
    slept: list[float] = []
    assert list(Backoff(3, sleep=slept.append).attempts()) == [0, 1, 2]
    assert slept == []


def test_no_retry_starts_once_the_time_budget_would_be_passed() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    backoff = Backoff(
        10, base_s=1.0, max_s=1.0, budget_s=2.5, sleep=sleep, random=lambda: 1.0, clock=lambda: now[0]
    )
    assert list(backoff.attempts()) == [0, 1, 2]
    assert now[0] == 2.0
