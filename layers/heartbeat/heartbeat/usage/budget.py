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

from datetime import UTC, date, datetime, time, timedelta

# The value types live in models (the DAL reads and writes them); re-exported for the logic.
from heartbeat.models.usage import BudgetView, DayUsage, effective_budget

BUDGET_EXHAUSTED = "budget_exhausted"
"""The reason (its first word) of a run skipped over budget, and the code of the event's data."""
BUDGET_EXHAUSTED_EVENT = "budget.exhausted"
RUN_MISSED_EVENT = "run.missed"

__all__ = [
    "BUDGET_EXHAUSTED",
    "BUDGET_EXHAUSTED_EVENT",
    "RUN_MISSED_EVENT",
    "BudgetView",
    "DayUsage",
    "effective_budget",
    "exhausted_reason",
    "lateness",
    "next_utc_day",
    "report",
    "utc_day",
]


def utc_day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def next_utc_day(at: datetime) -> datetime:
    """Midnight UTC after `at`: when an exhausted budget starts again."""
    return datetime.combine(at.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


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
