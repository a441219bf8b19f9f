"""Retrying transient model errors inside a run.

A transient `ModelError` (429, 5xx, overloaded, timeout) is retried with exponential backoff and
full jitter (the delay before retry n is uniform in [0, min(max_delay, base * 2**(n-1))]); a
`retry_after` from the provider is a floor on that delay. Retries are bounded twice: by a number of
attempts, and by the time the run has left, so a retry never starts that could not finish before the
Lambda must stop. A terminal error is raised at once. `sleep` and `random` are injectable so tests
never sleep.
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from heartbeat.retry import jittered_delay
from heartbeat.soul.types import ModelError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    """Attempts in all, the first included."""
    base_delay_s: float = 1.0
    max_delay_s: float = 20.0
    max_retry_after_s: float = 60.0
    """A provider asking us to wait longer than this gives up the run: the next slot will try."""
    min_attempt_ms: int = 2_000
    """A retry is only worth starting with at least this much time left after its delay."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=_random.random, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("delays must not be negative")

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        jittered = jittered_delay(attempt, self.base_delay_s, self.max_delay_s, self.random)
        if retry_after is not None and retry_after > 0:
            return max(retry_after, jittered)
        return jittered


def call_with_retry[T](
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    remaining_ms: Callable[[], int] | None = None,
    what: str = "model call",
) -> T:
    """Call `fn`, retrying transient `ModelError`s under `policy`. `remaining_ms` is the time the
    caller may still spend (already net of any safety margin). The error that ends the retries is
    raised with the number of attempts added to its message."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except ModelError as exc:
            if not exc.transient or policy.max_attempts == 1:
                raise
            reason = _give_up_reason(exc, attempt, policy)
            if reason is not None:
                raise _gave_up(exc, reason) from exc
            delay = policy.delay(attempt, exc.retry_after)
            if remaining_ms is not None and remaining_ms() < delay * 1000 + policy.min_attempt_ms:
                raise _gave_up(exc, f"not enough time left to retry after {attempt} attempt(s)") from exc
            logger.warning(
                "transient model error, retrying",
                extra={
                    "what": what,
                    "attempt": attempt,
                    "delay_s": round(delay, 3),
                    "status": exc.status,
                    "error": str(exc),
                },
            )
            policy.sleep(delay)


def _give_up_reason(exc: ModelError, attempt: int, policy: RetryPolicy) -> str | None:
    if attempt >= policy.max_attempts:
        return f"gave up after {attempt} attempts"
    if exc.retry_after is not None and exc.retry_after > policy.max_retry_after_s:
        return f"the provider asked to wait {exc.retry_after:g} s, longer than the run may wait"
    return None


def _gave_up(exc: ModelError, reason: str) -> ModelError:
    error = ModelError(f"{exc} ({reason})", transient=True, status=exc.status, retry_after=exc.retry_after)
    error.usage = exc.usage
    return error
