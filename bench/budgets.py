"""Budget and usage figures (issue 17): the AWS requests and dollars one scheduled run costs with
the budget check and usage counting and without them, and how hot one tenant's day item gets.

The day item (`{tenant}#usage`, `day#YYYY-MM-DD`) takes one write per finished run of its tenant,
inside the run's finish transaction. A tenant has at most TenantConcurrency runs at once, so its
item's write rate is at most TenantConcurrency / (the shortest run's duration). Here one tenant's
runs go as fast as this process can drive them (offline model, no model latency, 8 threads, the
tenant's limit raised to 50): the rate measured is far above what real runs (seconds each, 5 at
once) can reach, and still far below the 1,000 writes per second DynamoDB gives one partition."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from bench.executor_throughput import _create_tasks, _setup
from bench.requests import RequestCounter, cost_per_million

RUNS = 40
PARTITION_WRITES_PER_SECOND = 1000  # DynamoDB's per-partition write limit (WCU/s)


def measure() -> dict[str, Any]:
    import logging
    import os
    from dataclasses import replace

    from heartbeat.dal.usage import UsageTable
    from heartbeat.executor.core import Executor
    from heartbeat.executor.handler import build_executor
    from heartbeat_cli.local.aws_endpoint import AwsEndpoint

    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = AwsEndpoint()
    server.start()
    try:
        names, parts, clients = _setup(server.url)
        env = {**parts["env"], "DAILY_TOKEN_BUDGET": "1000000000"}
        from heartbeat.executor.config import ExecutorConfig

        with_budget = build_executor(ExecutorConfig.from_env(env), parts["clients"], env=env)
        # The same executor without the budget's read and the usage counting, as before issue 17.
        without = Executor(replace(with_budget._d, usage=None, prices=None), with_budget._p)
        arn = env["EXECUTOR_ARN"]
        # A slot of now: an older one is a late delivery, recorded missed (catch-up window).
        slot = datetime.now(UTC).replace(second=0, microsecond=0)

        def deliver(executor: Executor, task_id: str, tenant: str) -> str:
            event = {
                "tenant_id": tenant,
                "task_id": task_id,
                "scheduled_time": slot.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            return executor.handle(event, remaining_ms=lambda: 300_000, executor_arn=arn).status

        counter = RequestCounter()
        counter.attach(parts["clients"].dynamodb, parts["clients"].scheduler, parts["clients"].s3)
        figures: dict[str, Any] = {}
        for label, executor in (("with_budget", with_budget), ("without_budget", without)):
            (probe,) = _create_tasks(env, clients, 1, f"probe-{label}")
            counter.take()
            assert deliver(executor, probe, f"probe-{label}") == "ok"
            calls = counter.take()
            figures[label] = {
                "requests": sum(calls.values()),
                "by_operation": calls,
                "usd_per_million_runs": cost_per_million(calls, lambda_ms=200, memory_mb=1024),
            }

        tasks = _create_tasks(env, clients, RUNS, "hot")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda t: deliver(with_budget, t, "hot"), tasks))
        seconds = time.perf_counter() - started
        counter.take()
        assert statuses.count("ok") == RUNS, statuses
        day = UsageTable(
            parts["clients"].dynamodb, names.table("RunsTable"), names.table("TasksTable")
        ).budget("hot", slot.date().isoformat(), default=0)
        rate = RUNS / seconds
        added = figures["with_budget"]["requests"] - figures["without_budget"]["requests"]
        return {
            "requests_per_run_with_budget": figures["with_budget"]["requests"],
            "requests_per_run_without_budget": figures["without_budget"]["requests"],
            "requests_added_by_budget_and_usage": added,
            "usd_per_million_runs_with_budget": figures["with_budget"]["usd_per_million_runs"],
            "usd_per_million_runs_without_budget": figures["without_budget"]["usd_per_million_runs"],
            "day_item_runs_counted": day.today.runs,
            "day_item_writes_per_second_max_measured": round(rate, 1),
            "day_item_share_of_partition_limit": f"{rate / PARTITION_WRITES_PER_SECOND:.1%}",
            "by_operation": figures,
            "_budgets": {
                "requests_added_by_budget_and_usage": f"<= 1 {'ok' if added <= 1 else 'OVER'}",
                "day_item_runs_counted": f"== {RUNS} (no lost update) {'ok' if day.today.runs == RUNS else 'WRONG'}",
            },
        }
    finally:
        server.stop()
