"""The scale section of `make bench`: per N, one simulated day at AWS's default quotas; at the
quotas docs/capacity-plan.md asks for at that size with one executor function (what the executor
shards buy) and with the shards the plan says to deploy; and the plan with a quarter of the tasks
on a 15-minute flexible window (what `flexible_window_minutes` does to the peak)."""

from __future__ import annotations

import time
from typing import Any

SIZES = (10_000, 100_000, 1_000_000)

# docs/capacity-plan.md, per size: (Scheduler invocations per second, Lambda concurrent
# executions, ExecutorShards). All three are template parameters or quotas AWS grants on request
# (Lambda's concurrency "can be increased up to tens of thousands", its quotas page says).
PLAN = {
    10_000: (3_000, 3_000, 4),
    100_000: (20_000, 12_000, 4),
    1_000_000: (20_000, 100_000, 16),
}


def plan(n: int) -> tuple[int, int, int]:
    """The request for the smallest planned size at or above `n` (the largest past them)."""
    return next((PLAN[size] for size in sorted(PLAN) if n <= size), PLAN[max(PLAN)])


def scenarios(n: int) -> list[tuple[str, Any, Any, Any]]:
    from bench.scale.model import Mix, Policy, Quotas

    invocations, concurrency, shards = plan(n)
    requested = Quotas(scheduler_invocations_per_s=invocations, lambda_concurrency=concurrency)
    sharded = Policy(executor_shards=shards)
    return [
        ("aws_defaults", Quotas(), Policy(), Mix()),
        ("requested_one_shard", requested, Policy(executor_shards=1), Mix()),
        ("requested", requested, sharded, Mix()),
        ("requested_flexible_15min_25pct", requested, sharded, Mix().flexible(0.25, 15)),
    ]


def measure(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    from bench.scale.report import BUDGETS, summarize
    from bench.scale.sim import simulate
    from bench.scale.workload import draw

    results: dict[str, Any] = {"_budgets": BUDGETS, "runs": []}
    for n in sizes:
        for name, quotas, policy, mix in scenarios(n):
            started, cpu = time.perf_counter(), time.process_time()
            runs = draw(n, mix, policy)
            out = simulate(runs, quotas, policy)
            figures = summarize(runs, out, quotas, policy)
            figures["scenario"] = name
            figures["quotas"] = {
                "scheduler_invocations_per_s": quotas.scheduler_invocations_per_s,
                "lambda_concurrency": quotas.lambda_concurrency,
            }
            figures["executor_shards"] = policy.executor_shards
            figures["wall_seconds"] = round(time.perf_counter() - started, 1)
            figures["cpu_seconds"] = round(time.process_time() - cpu, 1)  # fairer on a shared machine
            results["runs"].append(figures)
    return results
