"""A tenant's usage on one UTC day and its daily token budget: the values the usage counters in
DynamoDB (`heartbeat.dal.usage`) hold and the budget logic (`heartbeat.usage`) reads."""

from __future__ import annotations

from dataclasses import dataclass, field


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


def effective_budget(override: int | None, default: int) -> int:
    return default if override is None else override
