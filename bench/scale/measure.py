"""The scale section of `make bench`: per N, one simulated day at AWS's default quotas; at the
quotas docs/capacity-plan.md asks for, with the old TenantConcurrency default (5) and the new (25);
and at those quotas with a quarter of the tasks on a 15-minute flexible window (what
`flexible_window_minutes` does to the peak)."""

from __future__ import annotations

import time
from typing import Any

SIZES = (10_000, 100_000, 1_000_000)


def scenarios() -> list[tuple[str, Any, Any, Any]]:
    from bench.scale.model import Mix, Policy, Quotas

    policy = Policy()
    requested = Quotas(scheduler_invocations_per_s=20_000, lambda_concurrency=60_000)
    return [
        ("aws_defaults", Quotas(), policy, Mix()),
        ("requested_tenant_concurrency_5", requested, Policy(tenant_concurrency=5), Mix()),
        ("requested", requested, policy, Mix()),
        ("requested_flexible_15min_25pct", requested, policy, Mix().flexible(0.25, 15)),
    ]


def measure(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    from bench.scale.report import BUDGETS, summarize
    from bench.scale.sim import simulate
    from bench.scale.workload import draw

    results: dict[str, Any] = {"_budgets": BUDGETS, "runs": []}
    for n in sizes:
        for name, quotas, policy, mix in scenarios():
            started, cpu = time.perf_counter(), time.process_time()
            runs = draw(n, mix, policy)
            out = simulate(runs, quotas, policy)
            figures = summarize(runs, out, quotas, policy)
            figures["scenario"] = name
            figures["quotas"] = {
                "scheduler_invocations_per_s": quotas.scheduler_invocations_per_s,
                "lambda_concurrency": quotas.lambda_concurrency,
            }
            figures["wall_seconds"] = round(time.perf_counter() - started, 1)
            figures["cpu_seconds"] = round(time.process_time() - cpu, 1)  # fairer on a shared machine
            results["runs"].append(figures)
    return results
