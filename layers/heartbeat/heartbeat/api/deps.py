"""What the routes need, built once per Lambda container from the config and the AWS clients
passed in (tests pass moto-backed clients; nothing is patched)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request

from heartbeat.api.config import ApiConfig

if TYPE_CHECKING:
    from heartbeat.memory.store import MemoryStore
    from heartbeat.runs.invoker import RunInvoker
    from heartbeat.runs.service import RunsService
    from heartbeat.tasks.service import TaskService


@dataclass
class AwsClients:
    dynamodb: Any
    scheduler: Any
    lambda_: Any = None

    @classmethod
    def default(cls) -> AwsClients:
        import boto3

        return cls(
            dynamodb=boto3.client("dynamodb"),
            scheduler=boto3.client("scheduler"),
            lambda_=boto3.client("lambda"),
        )


class Services:
    """Services built on first use: a route pays only for what it touches."""

    def __init__(
        self,
        config: ApiConfig,
        clients: AwsClients,
        invoker: RunInvoker | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clients = clients
        # Where the Soul's provider settings (HEARTBEAT_PROVIDERS) and local keys are read from.
        self.env: Mapping[str, str] = dict(os.environ) if env is None else env
        # How run-now hands a run to the executor: an async Lambda invoke unless overridden (the
        # local stack passes one that runs the executor in process).
        self.invoker = invoker

    @cached_property
    def tasks(self) -> TaskService:
        from heartbeat.dal.schedules import SchedulesGateway, ScheduleTarget
        from heartbeat.dal.tasks import TasksTable
        from heartbeat.tasks.service import TaskPolicy, TaskService

        target = ScheduleTarget(
            group=self.config.schedule_group,
            executor_arn=self.config.executor_arn,
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
            ),
        )

    @cached_property
    def _soul_settings(self) -> Any:
        from heartbeat.soul.resolve import SoulSettings

        return SoulSettings.from_env(self.env)

    def _check_model(self, model: str) -> None:
        """Reject up front a model this deployment cannot run (unknown provider, no key)."""
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

    @cached_property
    def runs(self) -> RunsService:
        from datetime import timedelta

        from heartbeat.dal.runs import RunsTable
        from heartbeat.dal.task_state import TaskStateTable
        from heartbeat.runs.invoker import LambdaInvoker
        from heartbeat.runs.service import RunsService

        invoker = self.invoker or LambdaInvoker(self.clients.lambda_, self.config.executor_arn)
        return RunsService(
            RunsTable(self.clients.dynamodb, self.config.runs_table),
            TaskStateTable(self.clients.dynamodb, self.config.tasks_table),
            invoker,
            retention=timedelta(days=self.config.run_retention_days),
        )


def services(request: Request) -> Services:
    """The `Services` the answering resolver was given for this request (see `ApiHandler`)."""
    found: Services = request.context["services"]
    return found


ServicesDep = Annotated[Services, Depends(services)]
