"""`GET /v1/usage` and the operator's budget commands, over `heartbeat.dal.usage.UsageTable`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from heartbeat.timeutil import utcnow
from heartbeat.usage.budget import BudgetView, DayUsage, report

if TYPE_CHECKING:
    from heartbeat.dal.usage import UsageTable

MAX_DAYS = 90


class UsageService:
    def __init__(
        self, table: UsageTable, *, default_budget: int, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._table = table
        self._default = default_budget
        self._clock = clock

    def usage(self, tenant_id: str, days: int) -> dict[str, Any]:
        """The last `days` UTC days (today first, zeros for days without runs) and today's budget."""
        today = self._clock().date()
        first = (today - timedelta(days=days - 1)).isoformat()
        rows = report(self._table.days(tenant_id, first, today.isoformat()), today=today, count=days)
        override = self._table.budget_override(tenant_id)
        view = BudgetView(
            daily_tokens=self._default if override is None else override,
            today=rows[0] if rows else DayUsage(date=today.isoformat()),
        )
        return {"days": [row.to_api() for row in rows], "budget": view.to_api()}

    def show_budget(self, tenant_id: str) -> dict[str, Any]:
        """What `heartbeat tenants show` prints: the override, the default, what applies, today."""
        override = self._table.budget_override(tenant_id)
        answer = self.usage(tenant_id, 1)
        return {
            "tenant_id": tenant_id,
            "daily_tokens_override": override,
            "default_daily_tokens": self._default,
            **answer["budget"],
            "today": answer["days"][0],
        }

    def set_budget(self, tenant_id: str, daily_tokens: int | None) -> None:
        """The operator's override (0: no budget for this tenant; None: the deployment's default)."""
        self._table.set_budget_override(tenant_id, daily_tokens)
