"""One way to retry: conditional-write races and transient AWS errors, bounded by attempts and time.

`for attempt in Backoff(...).attempts(): ...` yields 0, 1, 2, ...: before every attempt after the
first it waits a full-jitter exponential delay (uniform in [0, min(max_s, base_s * 2**(n-1))]),
and it stops when the attempts are used up or the next wait would pass `budget_s` since the first.
The loop body `continue`s on a race and returns or breaks on success; a `for ... else` says what
running out means. The Soul's model retries (`heartbeat.soul.retry`) use the same delay formula.
`sleep`, `random` and `clock` are injectable so tests never sleep."""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


def jittered_delay(attempt: int, base_s: float, max_s: float, random: Callable[[], float]) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): full jitter."""
    return random() * min(max_s, base_s * (2 ** (attempt - 1)))


@dataclass(frozen=True)
class Backoff:
    attempts_max: int
    """Attempts in all, the first included."""
    base_s: float = 0.0
    """0: retry at once (a lost race whose cause is already gone)."""
    max_s: float = 1.0
    budget_s: float = 10.0
    """No retry starts later than this after the first attempt."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    random: Callable[[], float] = field(default=_random.random, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    def attempts(self) -> Iterator[int]:
        started = self.clock()
        for attempt in range(self.attempts_max):
            if attempt:
                delay = jittered_delay(attempt, self.base_s, self.max_s, self.random)
                if self.clock() - started + delay > self.budget_s:
                    return
                if delay > 0:
                    self.sleep(delay)
            yield attempt
