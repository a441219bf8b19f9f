"""The local scheduler's budget: with N enabled every-minute schedules, each fires within 1 s of
its minute (p50/p99 lateness), and between minutes the process is idle (CPU near zero).

Runs on moto in this process, with a clock that runs at real speed but starts a few seconds
before a minute boundary (so the measurement waits seconds, not up to a minute)."""

from __future__ import annotations

import json
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:heartbeat-local-executor"
ROLE = "arn:aws:iam::123456789012:role/heartbeat-local-scheduler"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(n: int = 1000, *, idle_seconds: float = 5.0, lead_seconds: float = 10.0) -> dict[str, Any]:
    """Create `n` every-minute schedules, let one minute boundary pass, and report lateness (from
    the scheduled minute to the target's invocation) and CPU use in the quiet seconds after."""
    import boto3
    from moto import mock_aws

    from heartbeat_cli.local.clock import OffsetClock
    from heartbeat_cli.local.scheduler import LocalScheduler

    with mock_aws():
        client = boto3.client("scheduler", region_name="us-east-1")
        for i in range(n):
            client.create_schedule(
                Name=f"bench-{i:05d}",
                ScheduleExpression="cron(* * * * ? *)",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={
                    "Arn": TARGET,
                    "RoleArn": ROLE,
                    "Input": json.dumps(
                        {"task_id": f"t{i}", "scheduled_time": "<aws.scheduler.scheduled-time>"}
                    ),
                },
            )
        real = datetime.now(UTC)
        boundary = real.replace(second=0, microsecond=0) + timedelta(minutes=1)
        clock = OffsetClock(boundary - timedelta(seconds=lead_seconds) - real)
        lateness: list[float] = []
        lock = threading.Lock()
        everyone = threading.Event()

        def target(arn: str, payload: Any) -> None:
            late = (clock.now() - datetime.fromisoformat(payload["scheduled_time"])).total_seconds()
            with lock:
                lateness.append(late)
                if len(lateness) == n:
                    everyone.set()

        scheduler = LocalScheduler(client, target, clock, workers=8)
        started = time.perf_counter()
        scheduler.start()
        scheduler.drain(timeout=120)
        sync_seconds = time.perf_counter() - started
        everyone.wait(timeout=lead_seconds + 60)
        scheduler.drain(timeout=30)
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        time.sleep(idle_seconds)
        idle_cpu = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
        scheduler.stop()
    fired = len(lateness)
    return {
        "schedules": n,
        "fired": fired,
        "initial_sync_s": round(sync_seconds, 2),
        "lateness_p50_ms": round(statistics.median(lateness) * 1000, 1) if fired else None,
        "lateness_p99_ms": round(_percentile(lateness, 0.99) * 1000, 1) if fired else None,
        "lateness_max_ms": round(max(lateness) * 1000, 1) if fired else None,
        "within_1s": fired == n and max(lateness) <= 1.0,
        "idle_cpu_percent": round(idle_cpu * 100, 2),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
