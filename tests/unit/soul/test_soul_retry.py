"""Retries of transient model errors: exponential backoff with full jitter, `retry_after` as a
floor, bounded by attempts and by the time the run has left; terminal errors never retried."""

from __future__ import annotations

import pytest

from heartbeat.soul.retry import RetryPolicy, call_with_retry
from heartbeat.soul.types import ModelError


class Flaky:
    def __init__(self, *errors: ModelError, result: str = "ok") -> None:
        self.errors = list(errors)
        self.calls = 0
        self.result = result

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


def transient(retry_after: float | None = None, status: int = 503) -> ModelError:
    return ModelError(f"HTTP {status}", transient=True, status=status, retry_after=retry_after)


def test_backoff_is_full_jitter_under_an_exponential_cap():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=5.0, random=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert RetryPolicy(random=lambda: 0.25).delay(3) == pytest.approx(1.0)
    assert RetryPolicy(random=lambda: 0.0).delay(4) == 0.0


def test_retry_after_is_a_floor_on_the_delay():
    policy = RetryPolicy(random=lambda: 0.1)
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert RetryPolicy(random=lambda: 1.0).delay(5, retry_after=0.5) == 16.0


def test_transient_errors_are_retried_until_success():
    sleeps: list[float] = []
    fn = Flaky(transient(), transient(retry_after=2.5))
    assert call_with_retry(fn, RetryPolicy(sleep=sleeps.append, random=lambda: 0.5)) == "ok"
    assert fn.calls == 3
    assert sleeps == [0.5, 2.5]


def test_a_terminal_error_is_raised_at_once_unchanged():
    error = ModelError("bad key", transient=False, status=401)
    fn = Flaky(error)
    with pytest.raises(ModelError) as caught:
        call_with_retry(fn, RetryPolicy(sleep=lambda s: pytest.fail("slept")))
    assert caught.value is error
    assert fn.calls == 1


def test_attempts_are_bounded():
    fn = Flaky(*[transient() for _ in range(10)])
    with pytest.raises(ModelError) as caught:
        call_with_retry(fn, RetryPolicy(max_attempts=4, sleep=lambda s: None))
    assert fn.calls == 4
    assert caught.value.transient and caught.value.status == 503
    assert "gave up after 4 attempts" in str(caught.value)


def test_a_retry_after_longer_than_the_run_may_wait_gives_up():
    fn = Flaky(transient(retry_after=600.0, status=429))
    with pytest.raises(ModelError, match="asked to wait 600 s"):
        call_with_retry(fn, RetryPolicy(max_retry_after_s=60, sleep=lambda s: pytest.fail("slept")))
    assert fn.calls == 1


def test_no_retry_starts_without_time_to_finish_it():
    fn = Flaky(transient(retry_after=5.0))
    with pytest.raises(ModelError, match="not enough time left to retry"):
        call_with_retry(
            fn,
            RetryPolicy(min_attempt_ms=2_000, sleep=lambda s: pytest.fail("slept")),
            remaining_ms=lambda: 6_000,  # 5 s of delay + 2 s for the call > 6 s
        )
    assert fn.calls == 1

    fn = Flaky(transient(retry_after=3.0))
    sleeps: list[float] = []
    assert call_with_retry(fn, RetryPolicy(sleep=sleeps.append), remaining_ms=lambda: 6_000) == "ok"
    assert sleeps == [3.0]


def test_one_attempt_means_no_retries():
    error = transient()
    fn = Flaky(error)
    with pytest.raises(ModelError) as caught:
        call_with_retry(fn, RetryPolicy(max_attempts=1))
    assert caught.value is error


def test_a_policy_needs_at_least_one_attempt():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
