"""The notifier function's configuration, from the environment template.yaml sets."""

from __future__ import annotations

from pydantic import Field

from heartbeat.config import FunctionConfig


class NotifierConfig(FunctionConfig):
    tasks_table: str = Field(alias="TASKS_TABLE")
    webhooks_table: str = Field(alias="WEBHOOKS_TABLE")
    notifications_queue_url: str = Field(alias="NOTIFICATIONS_QUEUE_URL")
    notifications_dlq_url: str | None = Field(default=None, alias="NOTIFICATIONS_DLQ_URL")
    webhook_secret_prefix: str = Field(default="heartbeat-webhooks/local", alias="WEBHOOK_SECRET_PREFIX")
    allow_private_targets: bool = Field(default=False, alias="ALLOW_PRIVATE_NETWORK_TARGETS")
    run_retention_days: int = Field(default=30, ge=1, alias="RUN_RETENTION_DAYS")
