"""Daily token budgets per tenant (UTC days) and the usage report.

A tenant's budget is its override (`heartbeat tenants set-budget`), else the deployment's
`DailyTokenBudget`; 0 means no budget. Tokens are all a run processed (`Usage.total_tokens`: input,
cached input and output), counted when the run finishes, on the UTC day it finishes. A run that
would start with the day's tokens already at or over the budget is skipped (`budget_exhausted`); a
run that starts under it runs to its own limits, so a tenant spends at most its budget plus the
limits of the runs it had in flight (at most its concurrency limit of them). The next UTC day
starts at zero: runs resume by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

BUDGET_EXHAUSTED = "budget_exhausted"
"""The reason (its first word) of a run skipped over budget, and the code of the event's data."""
BUDGET_EXHAUSTED_EVENT = "budget.exhausted"
RUN_MISSED_EVENT = "run.missed"


@dataclass(frozen=True)
class DayUsage:
    """One tenant's usage on one UTC day. `input_tokens` are input not read from the prompt cache
    (written to it included), `cached_tokens` were read from it; with `output_tokens` they make
    `total_tokens`, what the budget counts."""

    date: str
    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    exhausted_at: str | None = None  # when the day's budget.exhausted event was sent

    def to_api(self) -> dict[str, object]:
        return {
            "date": self.date,
            "runs": self.runs,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


@dataclass(frozen=True)
class BudgetView:
    """A tenant's budget today, as the executor and `GET /v1/usage` see it."""

    daily_tokens: int  # 0: no budget
    today: DayUsage = field(default_factory=lambda: DayUsage(date=""))

    @property
    def limited(self) -> bool:
        return self.daily_tokens > 0

    @property
    def exhausted(self) -> bool:
        return self.limited and self.today.total_tokens >= self.daily_tokens

    @property
    def remaining(self) -> int | None:
        return max(self.daily_tokens - self.today.total_tokens, 0) if self.limited else None

    def to_api(self) -> dict[str, int | None]:
        return {
            "daily_tokens": self.daily_tokens,
            "used_today": self.today.total_tokens,
            "remaining_today": self.remaining,
        }


def utc_day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def next_utc_day(at: datetime) -> datetime:
    """Midnight UTC after `at`: when an exhausted budget starts again."""
    return datetime.combine(at.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


def effective_budget(override: int | None, default: int) -> int:
    return default if override is None else override


def exhausted_reason(view: BudgetView, now: datetime) -> str:
    from heartbeat.timeutil import iso

    return (
        f"{BUDGET_EXHAUSTED}: this tenant used {view.today.total_tokens} tokens today (UTC), its daily budget "
        f"is {view.daily_tokens}; runs resume at {iso(next_utc_day(now))}, or an operator raises the budget "
        "with `heartbeat tenants set-budget`"
    )


def report(days: list[DayUsage], *, today: date, count: int) -> list[DayUsage]:
    """`count` days ending today, newest first, a day without runs as zeros."""
    by_date = {d.date: d for d in days}
    out = []
    for offset in range(count):
        key = (today - timedelta(days=offset)).isoformat()
        out.append(by_date.get(key, DayUsage(date=key)))
    return out


def lateness(seconds: float) -> str:
    """`2 h 5 min`, `3 min 20 s`, `45 s`: how late a delivery was, for a missed run's reason."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
