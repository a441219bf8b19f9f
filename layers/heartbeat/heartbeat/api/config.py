"""The api function's configuration, from the environment template.yaml sets."""

from __future__ import annotations

from pydantic import Field

from heartbeat.config import FunctionConfig


class ApiConfig(FunctionConfig):
    tasks_table: str = Field(alias="TASKS_TABLE")
    runs_table: str = Field(alias="RUNS_TABLE")
    memory_table: str = Field(alias="MEMORY_TABLE")
    schedule_group: str = Field(alias="SCHEDULE_GROUP")
    executor_arn: str = Field(alias="EXECUTOR_ARN")
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN")
    dlq_arn: str | None = Field(default=None, alias="SCHEDULE_DLQ_ARN")
    default_model: str = Field(alias="DEFAULT_MODEL")
    task_quota: int = Field(default=100, alias="TASK_QUOTA", ge=1)
    run_retention_days: int = Field(default=30, alias="RUN_RETENTION_DAYS", ge=1)
