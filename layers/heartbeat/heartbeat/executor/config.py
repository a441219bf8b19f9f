"""The executor function's configuration, from the environment template.yaml sets."""

from __future__ import annotations

from pydantic import Field

from heartbeat.config import FunctionConfig


class ExecutorConfig(FunctionConfig):
    tasks_table: str = Field(alias="TASKS_TABLE")
    runs_table: str = Field(alias="RUNS_TABLE")
    memory_table: str = Field(alias="MEMORY_TABLE")
    artifacts_bucket: str = Field(alias="ARTIFACTS_BUCKET")
    schedule_group: str = Field(alias="SCHEDULE_GROUP")
    max_consecutive_errors: int = Field(default=10, ge=1, alias="MAX_CONSECUTIVE_ERRORS")
    tenant_concurrency: int = Field(default=5, ge=1, alias="TENANT_CONCURRENCY")
    run_retention_days: int = Field(default=30, ge=1, alias="RUN_RETENTION_DAYS")
    # Where a queued run's retry schedule points: the executor itself (default: the invoked
    # function's ARN from the Lambda context) with the role Scheduler assumes.
    executor_arn: str | None = Field(default=None, alias="EXECUTOR_ARN")
    scheduler_role_arn: str | None = Field(default=None, alias="SCHEDULER_ROLE_ARN")
    dlq_arn: str | None = Field(default=None, alias="SCHEDULE_DLQ_ARN")
    # How long a run may wait for a tenant slot before it is recorded skipped.
    max_queue_seconds: int = Field(default=3600, ge=60, alias="MAX_QUEUE_SECONDS")
    # Lease length when the Lambda's remaining time is unknown (tests, local invokes).
    default_lease_seconds: int = Field(default=900, ge=30, alias="DEFAULT_LEASE_SECONDS")
