"""Executor figures with the offline model: AWS requests one scheduled run costs apart from the
model and its tool calls, and runs per second one process completes, alone and with twenty
concurrent deliveries of every slot (which must still make one run each).

Runs against a moto server on loopback that handles one request at a time: in-process moto is not
atomic across threads, and DynamoDB's conditional writes are what the dedupe relies on."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.requests import BUDGETS, RequestCounter, cost_per_million

TASKS = 40
DELIVERIES = 20


def _setup(endpoint: str) -> tuple[Any, dict[str, Any], Any]:
    import boto3

    from heartbeat.executor.config import ExecutorConfig
    from heartbeat.executor.handler import ExecutorClients
    from heartbeat_cli.local.resources import StackNames, provision

    names = StackNames(prefix=f"bench{int(time.time() * 1000) % 10**8}")
    clients = {s: boto3.client(s, endpoint_url=endpoint) for s in ("dynamodb", "scheduler", "s3", "sqs")}
    provision(**clients, names=names)
    env = names.environment(TENANT_CONCURRENCY="50")
    config = ExecutorConfig.from_env(env)
    executor_clients = ExecutorClients(
        dynamodb=clients["dynamodb"], scheduler=clients["scheduler"], s3=clients["s3"]
    )
    return names, {"config": config, "clients": executor_clients, "env": env}, clients


def _create_tasks(env: dict[str, str], clients: dict[str, Any], count: int, tenant: str) -> list[str]:
    from heartbeat.api.config import ApiConfig
    from heartbeat.api.deps import AwsClients, Services
    from heartbeat.models.requests import TaskCreate

    services = Services(
        ApiConfig.from_env(env), AwsClients(dynamodb=clients["dynamodb"], scheduler=clients["scheduler"])
    )
    return [
        services.tasks.create(
            tenant, TaskCreate(name=f"t{i}", prompt="Summarise the news in one line.", schedule="*/5 * * * *")
        ).id
        for i in range(count)
    ]


def measure() -> dict[str, Any]:
    import logging
    import os

    from heartbeat.executor.handler import build_executor
    from heartbeat_cli.local.aws_endpoint import AwsEndpoint

    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = AwsEndpoint()
    server.start()
    try:
        endpoint = server.url
        _, parts, clients = _setup(endpoint)
        executor = build_executor(parts["config"], parts["clients"], env=parts["env"])
        arn = parts["env"]["EXECUTOR_ARN"]
        # A slot of now: an older one is a late delivery, recorded missed (catch-up window).
        slot = datetime.now(UTC).replace(second=0, microsecond=0)

        def deliver(task_id: str, tenant: str, at: datetime) -> str:
            event = {
                "tenant_id": tenant,
                "task_id": task_id,
                "scheduled_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            return executor.handle(event, remaining_ms=lambda: 300_000, executor_arn=arn).status

        # one scheduled run's AWS requests (the offline model makes none; this prompt calls no tool)
        (probe,) = _create_tasks(parts["env"], clients, 1, "probe")
        counter = RequestCounter()
        counter.attach(parts["clients"].dynamodb, parts["clients"].scheduler, parts["clients"].s3)
        deliver(probe, "probe", slot)
        overhead = counter.take()

        tasks = _create_tasks(parts["env"], clients, TASKS, "bench")
        started = time.perf_counter()
        statuses = [deliver(t, "bench", slot) for t in tasks]
        single = TASKS / (time.perf_counter() - started)
        assert statuses.count("ok") == TASKS, statuses

        next_slot = slot + timedelta(minutes=5)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(
                pool.map(
                    lambda t: deliver(t, "bench", next_slot), [t for t in tasks for _ in range(DELIVERIES)]
                )
            )
        concurrent = TASKS / (time.perf_counter() - started)
        counter.take()
        return {
            "run_overhead_requests": sum(overhead.values()),
            "run_overhead_by_operation": overhead,
            "run_overhead_usd_per_million": cost_per_million(overhead, lambda_ms=200, memory_mb=1024),
            "runs_per_second_single_delivery": round(single, 1),
            "runs_per_second_20_deliveries_per_slot": round(concurrent, 1),
            "runs_made_from_20_deliveries": results.count("ok"),
            "slots": TASKS,
            "_budgets": {
                "run_overhead_requests": f"<= {BUDGETS['run_overhead']} "
                + ("ok" if sum(overhead.values()) <= BUDGETS["run_overhead"] else "OVER"),
                "runs_made_from_20_deliveries": f"== {TASKS} (one per slot) "
                + ("ok" if results.count("ok") == TASKS else "WRONG"),
            },
        }
    finally:
        server.stop()
