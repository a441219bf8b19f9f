"""What the routes need, built once per Lambda container from the config and the AWS clients
passed in (tests pass moto-backed clients; nothing is patched)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request

from heartbeat.api.config import ApiConfig
from heartbeat.timeutil import utcnow

if TYPE_CHECKING:
    from datetime import datetime

    from heartbeat.api.idempotency import IdempotentRequests
    from heartbeat.conversations.service import ConversationService
    from heartbeat.mcp_servers.service import McpServerService
    from heartbeat.memory.store import MemoryStore
    from heartbeat.models.task import Task
    from heartbeat.notify.service import WebhookService
    from heartbeat.runs.invoker import RunInvoker
    from heartbeat.runs.service import RunsService
    from heartbeat.tasks.service import TaskService
    from heartbeat.usage.service import UsageService


@dataclass
class AwsClients:
    dynamodb: Any
    scheduler: Any
    s3: Any = None  # run outputs kept in S3, conversation transcripts
    lambda_: Any = None
    sqs: Any = None
    secretsmanager: Any = None

    @classmethod
    def default(cls) -> AwsClients:
        import boto3

        return cls(
            dynamodb=boto3.client("dynamodb"),
            scheduler=boto3.client("scheduler"),
            s3=boto3.client("s3"),
            lambda_=boto3.client("lambda"),
            sqs=boto3.client("sqs"),
            secretsmanager=boto3.client("secretsmanager"),
        )


class Services:
    """Services built on first use: a route pays only for what it touches."""

    def __init__(
        self,
        config: ApiConfig,
        clients: AwsClients,
        invoker: RunInvoker | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.clients = clients
        # Where the Soul's provider settings (HEARTBEAT_PROVIDERS) and local keys are read from.
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        # How run-now hands a run to the executor: an async Lambda invoke unless overridden (the
        # local stack passes one that runs the executor in process).
        self.invoker = invoker
        # What "today" is for usage and budgets (tests pass their own).
        self.clock: Callable[[], datetime] = clock or utcnow

    @cached_property
    def tasks(self) -> TaskService:
        from heartbeat.dal.schedules import SchedulesGateway, ScheduleTarget
        from heartbeat.dal.tasks import TasksTable
        from heartbeat.tasks.service import TaskPolicy, TaskService

        target = ScheduleTarget(
            group=self.config.schedule_group,
            executor_arn=self.config.executor_arn,
            executors=self.config.executors,
            role_arn=self.config.scheduler_role_arn,
            dlq_arn=self.config.dlq_arn,
        )
        return TaskService(
            TasksTable(self.clients.dynamodb, self.config.tasks_table),
            SchedulesGateway(self.clients.scheduler, target),
            TaskPolicy(
                quota=self.config.task_quota,
                default_model=self.config.default_model,
                check_model=self._check_model,
                check_servers=lambda tenant_id, names: self.mcp_servers.check_named(tenant_id, names),
            ),
            **self._clock_arg(),
        )

    @cached_property
    def mcp_servers(self) -> McpServerService:
        from heartbeat.dal.mcp_servers import McpServersStore
        from heartbeat.mcp_servers.service import McpServerService

        if self.clients.secretsmanager is None:
            import boto3

            self.clients.secretsmanager = boto3.client("secretsmanager")
        store = McpServersStore(
            self.clients.dynamodb,
            self.config.tasks_table,
            self.clients.secretsmanager,
            self.config.mcp_secret_prefix,
        )
        return McpServerService(store, self._all_tasks, allow_private=self.config.allow_private_targets)

    def _all_tasks(self, tenant_id: str) -> list[Task]:
        from heartbeat.dal.tasks import TasksTable

        table = TasksTable(self.clients.dynamodb, self.config.tasks_table)
        tasks: list[Task] = []
        cursor: str | None = None
        while True:
            page, cursor = table.page(tenant_id, 100, cursor)
            tasks.extend(page)
            if cursor is None:
                return tasks

    @cached_property
    def _soul_settings(self) -> Any:
        from heartbeat.soul.resolve import SoulSettings

        return SoulSettings.from_env(self.env)

    def _check_model(self, model: str) -> None:
        """Reject up front a model this deployment does not know (unknown or disabled provider)."""
        from heartbeat.errors import InvalidRequestError
        from heartbeat.soul.resolve import validate_model_name

        try:
            validate_model_name(model, self._soul_settings, env=self.env)
        except ValueError as exc:
            raise InvalidRequestError(str(exc), param="model") from exc

    def memory(self, tenant_id: str) -> MemoryStore:
        """The tenant's memory (cheap to build: one per request)."""
        from heartbeat.memory.store import MemoryStore

        return MemoryStore(self.clients.dynamodb, self.config.memory_table, tenant_id)

    def model_warnings(self, model: str) -> list[str]:
        """What a task with this (known) model needs before its runs can work: `"warnings"` in the answer."""
        from heartbeat.soul.resolve import model_warnings

        return model_warnings(model, self._soul_settings, env=self.env)

    @cached_property
    def runs(self) -> RunsService:
        from datetime import timedelta

        from heartbeat.dal.artifacts import OutputStore
        from heartbeat.dal.runs import RunsTable
        from heartbeat.dal.task_state import TaskStateTable
        from heartbeat.runs.invoker import LambdaInvoker
        from heartbeat.runs.service import RunsService

        invoker = self.invoker or LambdaInvoker(self.clients.lambda_, self.config.executors)
        return RunsService(
            RunsTable(self.clients.dynamodb, self.config.runs_table),
            TaskStateTable(self.clients.dynamodb, self.config.tasks_table),
            invoker,
            retention=timedelta(days=self.config.run_retention_days),
            outputs=OutputStore(self.clients.s3, self.config.artifacts_bucket),
            **self._clock_arg(),
        )

    @cached_property
    def conversations(self) -> ConversationService:
        from heartbeat.conversations.service import ConversationService
        from heartbeat.dal.artifacts import TranscriptStore

        return ConversationService(TranscriptStore(self.clients.s3, self.config.artifacts_bucket))

    @cached_property
    def webhooks(self) -> WebhookService:
        from heartbeat.dal.event_queue import EventQueue
        from heartbeat.dal.webhook_secrets import WebhookSecrets
        from heartbeat.dal.webhooks import WebhooksTable
        from heartbeat.notify.service import WebhookPolicy, WebhookService

        config = self.config
        return WebhookService(
            WebhooksTable(self.clients.dynamodb, config.webhooks_table, config.tasks_table),
            WebhookSecrets(self.clients.secretsmanager, config.webhook_secret_prefix),
            EventQueue(self.clients.sqs, config.notifications_queue_url),
            WebhookPolicy(allow_private=config.allow_private_targets),
        )

    @cached_property
    def usage(self) -> UsageService:
        from heartbeat.dal.usage import UsageTable
        from heartbeat.usage.service import UsageService

        return UsageService(
            UsageTable(self.clients.dynamodb, self.config.runs_table, self.config.tasks_table),
            default_budget=self.config.daily_token_budget,
            clock=self.clock,
        )

    @cached_property
    def idempotency(self) -> IdempotentRequests:
        from heartbeat.api.idempotency import IdempotentRequests

        return IdempotentRequests(self.clients.dynamodb, self.config.idempotency_table)

    def _clock_arg(self) -> dict[str, Any]:
        return {} if self.clock is None else {"clock": self.clock}


def services(request: Request) -> Services:
    """The `Services` the answering resolver was given for this request (see `ApiHandler`)."""
    found: Services = request.context["services"]
    return found


ServicesDep = Annotated[Services, Depends(services)]
