"""The quotas, the executor's rules and the workload the scale simulation runs on.

Every AWS quota is a parameter whose default is AWS's documented default (us-east-1), with the
page it comes from; every executor rule is the one `layers/heartbeat/heartbeat/executor/core.py`
implements, with the line of code it mirrors. The mix of crons, zones, tenant sizes and run
durations is stated here and argued in docs/decisions/2026-12-01-scale-mix.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Quotas:
    """AWS's side. Defaults are AWS's documented defaults in us-east-1 (checked 2026-12-01)."""

    # EventBridge Scheduler "Invocations throttle limit": 1,000 per second in the primary Regions;
    # over it, invocations are delayed, not dropped.
    # https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html
    scheduler_invocations_per_s: int = 1000
    # EventBridge Scheduler "CreateSchedule request rate" (the requeue path creates a one-time
    # schedule per queued run): 5,000 per second in the primary Regions (same page; older
    # revisions of the page said 1,000).
    create_schedule_per_s: int = 5000
    # EventBridge Scheduler "Number of schedules" per Region: 10,000,000 (same page).
    schedules_per_account: int = 10_000_000
    # Lambda concurrent executions per account and Region: 1,000 by default.
    # https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
    lambda_concurrency: int = 1000
    # Lambda concurrency scaling rate: each function adds at most 1,000 execution environments
    # every 10 seconds, refilled continuously, never banked beyond 1,000.
    # https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
    lambda_scale_per_10s: int = 1000
    # A DynamoDB partition serves at most 1,000 write units per second (and 3,000 read units).
    # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
    dynamodb_partition_writes_per_s: int = 1000

    def requested(self, **changes: Any) -> Quotas:
        return replace(self, **changes)


@dataclass(frozen=True)
class Policy:
    """The deployment's side: template.yaml's parameters and the executor's rules."""

    # template.yaml TenantConcurrency (ExecutorPolicy.tenant_concurrency, executor/core.py): 25
    # since the first run of this simulation (it was 5).
    tenant_concurrency: int = 25
    # template.yaml ExecutorShards (default 4): how many executor functions the tenants are spread
    # over (heartbeat.dal.shards.shard_of); each scales at its own lambda_scale_per_10s.
    executor_shards: int = 4
    # executor/core.py `_requeue`: delay = min(first_retry * 2 ** (attempt - 1), max_retry) plus
    # uniform(0, 10) s of jitter; a run that waited longer than max_queue since its slot is
    # recorded skipped instead (MAX_QUEUE_SECONDS, default 3600).
    first_retry_s: float = 30.0
    max_retry_s: float = 300.0
    retry_jitter_s: float = 10.0
    max_queue_s: float = 3600.0
    # DESIGN.md section 10: a first delivery later than this after its slot is recorded missed.
    catchup_window_s: float = 3600.0
    # template.yaml ExecutorFunction EventInvokeConfig MaximumEventAgeInSeconds: an event Lambda
    # holds (throttled) longer than this goes to the dead-letter queue, never reaching the executor.
    lambda_max_event_age_s: float = 21600.0
    # template.yaml ExecutorFunction: MemorySize 1024, Timeout 300.
    executor_memory_mb: int = 1024
    executor_timeout_s: float = 300.0
    # A delivery that does not run the Soul (requeued, skipped, missed): a few DynamoDB calls.
    short_delivery_s: float = 0.3
    # template.yaml TaskQuota: the most tasks one tenant may have.
    task_quota: int = 100


# (standard cron, weight): how users write schedules for an agent that runs a model. Daily and
# weekday mornings on the hour dominate; a few run every few minutes.
EXPRESSIONS: tuple[tuple[str, float], ...] = (
    ("0 9 * * *", 0.28),
    ("0 8 * * 1-5", 0.14),
    ("0 18 * * *", 0.07),
    ("30 7 * * *", 0.05),
    ("0 0 * * *", 0.06),
    ("0 12 * * *", 0.04),
    ("0 9 * * 1", 0.06),
    ("0 9 1 * *", 0.03),
    ("0 9,17 * * 1-5", 0.03),
    ("17 3 * * *", 0.02),
    ("0 */6 * * *", 0.04),
    ("0 * * * *", 0.09),
    ("*/30 * * * *", 0.04),
    ("*/15 * * * *", 0.03),
    ("*/5 * * * *", 0.02),
)

# (IANA zone, weight): where the users of a hosted developer product sit.
ZONES: tuple[tuple[str, float], ...] = (
    ("America/New_York", 0.24),
    ("America/Los_Angeles", 0.12),
    ("America/Chicago", 0.08),
    ("America/Sao_Paulo", 0.04),
    ("Europe/London", 0.10),
    ("Europe/Berlin", 0.10),
    ("Asia/Kolkata", 0.06),
    ("Asia/Singapore", 0.04),
    ("Asia/Tokyo", 0.05),
    ("Australia/Sydney", 0.04),
    ("UTC", 0.13),
)


@dataclass(frozen=True)
class Mix:
    """The workload: which crons in which zones, how tasks group into tenants, how long runs take."""

    expressions: tuple[tuple[str, float], ...] = EXPRESSIONS
    zones: tuple[tuple[str, float], ...] = ZONES
    # Tasks per tenant: lognormal (median 3, sigma 1.2), at least 1, at most the task quota.
    tenant_size_median: float = 3.0
    tenant_size_sigma: float = 1.2
    # A tenant's tasks mostly share its home zone (a team writes them from one office).
    home_zone_share: float = 0.8
    # Run duration (the Lambda's billed time): lognormal, median 20 s, sigma 0.8 (p99 about
    # 2 minutes), cut at the executor's timeout.
    duration_median_s: float = 20.0
    duration_sigma: float = 0.8
    # flexible_window_minutes: this share of tasks sets `flexible_minutes` (default: none do).
    flexible_share: float = 0.0
    flexible_minutes: int = 0
    # Share of runs whose tenant has a webhook (one SQS message per run).
    notify_share: float = 0.3
    # The simulated UTC day: a Monday that is the first of a month (weekly and monthly crons fire).
    day: datetime = field(default_factory=lambda: datetime(2027, 2, 1, tzinfo=UTC))

    def flexible(self, share: float, minutes: int) -> Mix:
        return replace(self, flexible_share=share, flexible_minutes=minutes)


# Published on-demand prices, us-east-1 (the same table as bench/requests.py).
SQS_REQUEST = 0.40 / 1e6

# DynamoDB request units per delivery, as the executor writes them (executor/core.py, dal/). A
# transaction costs two units per item; the run record is taken as 2 KB when it carries output.
RUN_UNITS = {
    # GetItem task (state.load), claim PutItem, start transaction (lease + run + slot), the Soul's
    # core-memory Query, finish transaction (state + 2 KB run record + slot), the usage counter ADD.
    "write": 1 + 2 * 3 + 2 * (1 + 2 + 1) + 1,
    "read": 1 + 1,
}
REQUEUE_UNITS = {
    # GetItem, claim (first attempt) or runs.get (a retry), the failed start transaction, the
    # free_slots Query, set_reason_if_queued; CreateSchedule is not billed.
    "write": 1 + 2 * 3 + 1,
    "read": 1 + 1 + 1,
}
SKIP_UNITS = {"write": 1 + 1 + 1, "read": 1}  # claim, save_if skipped/missed, record_skip
