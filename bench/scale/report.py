"""The figures of one simulated day, each beside its budget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.scale.model import Policy, Quotas
    from bench.scale.sim import Outcome
    from bench.scale.workload import Runs

# The goals of issue 20 (docs/capacity-plan.md): with the quotas a deployment can request.
BUDGETS = {
    "lateness_p99_s": 60.0,
    "missed": 0,
    "busiest_item_writes_per_s": 1000,
    # AWS's share of a run's cost stays under a tenth of the model's: bench/tokens.py prices a
    # typical run of the default model at about $7,154 per million runs with prompt caching.
    "usd_per_million_runs": 715.0,
}
PRICES = {
    "scheduler_invocation": 1.00 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
}


def _busiest(pairs: list[Any]) -> int:
    """The most writes any one key took in one second."""
    import numpy as np

    if not pairs:
        return 0
    keys = np.concatenate([k for k, _ in pairs]).astype(np.int64)
    seconds = np.concatenate([s for _, s in pairs]).astype(np.int64)
    if not len(keys):
        return 0
    combined = keys * (1 << 24) + seconds
    _, counts = np.unique(combined, return_counts=True)
    return int(counts.max())


def summarize(runs: Runs, out: Outcome, quotas: Quotas, policy: Policy) -> dict[str, Any]:
    import numpy as np

    if out.started:
        idx = np.concatenate([i for i, _ in out.started])
        start = np.concatenate([s for _, s in out.started])
    else:
        idx, start = np.zeros(0, dtype=np.int64), np.zeros(0)
    lateness = start - runs.slot[idx]
    ran = len(idx)
    pct = (lambda q: round(float(np.percentile(lateness, q)), 1)) if ran else (lambda q: 0.0)
    dollars = {
        "scheduler": out.scheduler_invocations * PRICES["scheduler_invocation"],
        "lambda": out.lambda_invocations * PRICES["lambda_request"]
        + out.lambda_gb_s * PRICES["lambda_gb_second_arm64"],
        "dynamodb": out.write_units * PRICES["dynamodb_write_unit"]
        + out.read_units * PRICES["dynamodb_read_unit"],
        "sqs": out.sqs_requests * PRICES["sqs_request"],
    }
    per_million = {k: round(v / ran * 1e6, 2) if ran else 0.0 for k, v in dollars.items()}
    total = round(sum(per_million.values()), 2)
    busiest = {
        "tenant_run_slots": _busiest(out.slot_writes),
        "tenant_usage_counter": _busiest(out.usage_writes),
        "task_state": _busiest(out.state_writes),
    }
    peak_invocations = max(out.invocations_per_s, default=0)
    peak_concurrency = max(out.concurrency_per_s, default=0)
    not_run = out.missed + out.gave_up + out.dropped
    figures: dict[str, Any] = {
        "tasks": runs.tasks,
        "tenants": runs.tenants,
        "schedules": runs.schedules,
        "slots": len(runs.slot),
        "runs": ran,
        "peak_invocations_per_s": peak_invocations,
        "peak_concurrent_runs": peak_concurrency,
        "peak_create_schedule_per_s": max(out.create_schedule_per_s, default=0),
        "lateness_p50_s": pct(50),
        "lateness_p99_s": pct(99),
        "lateness_max_s": pct(100),
        "missed": out.missed,
        "gave_up_waiting_for_tenant_slot": out.gave_up,
        "dead_lettered_by_lambda": out.dropped,
        "skipped_lease_held": out.lease_skipped,
        "requeued": out.requeued,
        "busiest_item_writes_per_s": busiest,
        "usd_per_million_runs": {**per_million, "total": total},
        "simulated_seconds": out.seconds,
    }
    worst_item = max(busiest.values())
    figures["within_budget"] = {
        "lateness_p99_s": figures["lateness_p99_s"] <= BUDGETS["lateness_p99_s"],
        "missed": not_run <= BUDGETS["missed"],
        "busiest_item_writes_per_s": worst_item <= BUDGETS["busiest_item_writes_per_s"],
        "usd_per_million_runs": total <= BUDGETS["usd_per_million_runs"],
        "invocations_within_quota": peak_invocations <= quotas.scheduler_invocations_per_s,
        "schedules_within_quota": runs.schedules <= quotas.schedules_per_account,
        "create_schedule_within_quota": figures["peak_create_schedule_per_s"] <= quotas.create_schedule_per_s,
    }
    return figures
