"""The api function's configuration, from the environment template.yaml sets."""

from __future__ import annotations

from pydantic import Field

from heartbeat.config import FunctionConfig
from heartbeat.dal.shards import ExecutorTargets


class ApiConfig(FunctionConfig):
    @property
    def executors(self) -> ExecutorTargets:
        """The executor function each tenant's schedules and run-now invocations target."""
        return ExecutorTargets.parse(self.executor_arns or self.executor_arn, self.executor_shards or None)

    tasks_table: str = Field(alias="TASKS_TABLE")
    runs_table: str = Field(alias="RUNS_TABLE")
    memory_table: str = Field(alias="MEMORY_TABLE")
    artifacts_bucket: str = Field(alias="ARTIFACTS_BUCKET")  # run outputs and transcripts
    schedule_group: str = Field(alias="SCHEDULE_GROUP")
    executor_arn: str = Field(alias="EXECUTOR_ARN")
    # Every executor function ("shard") in shard order, comma-separated (default: EXECUTOR_ARN
    # alone), and how many of them tenants are spread over (ExecutorShards; 0: all listed).
    executor_arns: str = Field(default="", alias="EXECUTOR_ARNS")
    executor_shards: int = Field(default=0, ge=0, alias="EXECUTOR_SHARDS")
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN")
    dlq_arn: str | None = Field(default=None, alias="SCHEDULE_DLQ_ARN")
    default_model: str = Field(alias="DEFAULT_MODEL")
    task_quota: int = Field(default=100, alias="TASK_QUOTA", ge=1)
    # Powertools Idempotency's table (the Idempotency-Key header); None: the header is refused.
    idempotency_table: str | None = Field(default=None, alias="IDEMPOTENCY_TABLE")
    run_retention_days: int = Field(default=30, alias="RUN_RETENTION_DAYS", ge=1)
    # Webhooks (DESIGN.md section 9).
    webhooks_table: str = Field(default="", alias="WEBHOOKS_TABLE")
    notifications_queue_url: str = Field(default="", alias="NOTIFICATIONS_QUEUE_URL")
    webhook_secret_prefix: str = Field(default="heartbeat-webhooks/local", alias="WEBHOOK_SECRET_PREFIX")
    daily_token_budget: int = Field(default=0, alias="DAILY_TOKEN_BUDGET", ge=0)
    # Section 8's outbound rule: False refuses web_fetch, MCP and webhook targets on loopback,
    # private, link-local, CGNAT, multicast and unspecified addresses (AllowPrivateNetworkTargets).
    allow_private_targets: bool = Field(default=False, alias="ALLOW_PRIVATE_NETWORK_TARGETS")
    # Tenants' MCP header values live in Secrets Manager secrets named <prefix><tenant>/<server>.
    mcp_secret_prefix: str = Field(default="heartbeat-mcp/", alias="MCP_SECRET_PREFIX")
