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
    # template.yaml's TenantConcurrency default (25; docs/decisions/2026-12-01-scale-defaults.md).
    tenant_concurrency: int = Field(default=25, ge=1, alias="TENANT_CONCURRENCY")
    run_retention_days: int = Field(default=30, ge=1, alias="RUN_RETENTION_DAYS")
    # A pinned conversation keeps this many recent turns (TranscriptMaxTurns).
    transcript_max_turns: int = Field(default=50, ge=1, le=1000, alias="TRANSCRIPT_MAX_TURNS")
    # Where a queued run's retry schedule points: the executor itself (default: the invoked
    # function's ARN from the Lambda context) with the role Scheduler assumes.
    executor_arn: str | None = Field(default=None, alias="EXECUTOR_ARN")
    scheduler_role_arn: str | None = Field(default=None, alias="SCHEDULER_ROLE_ARN")
    dlq_arn: str | None = Field(default=None, alias="SCHEDULE_DLQ_ARN")
    # How long a run may wait for a tenant slot before it is recorded skipped.
    max_queue_seconds: int = Field(default=3600, ge=60, alias="MAX_QUEUE_SECONDS")
    # Lease length when the Lambda's remaining time is unknown (tests, local invokes).
    default_lease_seconds: int = Field(default=900, ge=30, alias="DEFAULT_LEASE_SECONDS")
    # The notifications queue a run's webhook events go to (empty: no webhooks in this deployment).
    notifications_queue_url: str = Field(default="", alias="NOTIFICATIONS_QUEUE_URL")
    # The deployment's daily token budget per tenant (UTC days; 0: none). A tenant's own, set with
    # `heartbeat tenants set-budget`, overrides it.
    daily_token_budget: int = Field(default=0, ge=0, alias="DAILY_TOKEN_BUDGET")
    # Section 8's outbound rule: False refuses web_fetch, MCP (and webhook) targets on loopback,
    # private, link-local, CGNAT, multicast and unspecified addresses (AllowPrivateNetworkTargets).
    allow_private_targets: bool = Field(default=False, alias="ALLOW_PRIVATE_NETWORK_TARGETS")
    # Tenants' MCP header values live in Secrets Manager secrets named <prefix><tenant>/<server>.
    mcp_secret_prefix: str = Field(default="heartbeat-mcp/", alias="MCP_SECRET_PREFIX")
