"""The executor function's entry: builds the executor on the first invocation (config read once,
clients reused while the container lives), tags every log line with the run, and emits metrics.

Importing this module imports neither boto3 nor pydantic (the configuration model, the event
model, the executor and the Soul load at the first invocation): it is on the Lambda's import path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from heartbeat.errors import InvalidRequestError
from heartbeat.timeutil import utcnow

if TYPE_CHECKING:
    from heartbeat.executor.config import ExecutorConfig
    from heartbeat.executor.core import Executor, Outcome
    from heartbeat.executor.runner import SoulRunner
    from heartbeat.models.run import Run

logger = logging.getLogger(__name__)

_STATUS_METRIC = {
    "ok": "RunsOk",
    "error": "RunsError",
    "skipped": "RunsSkipped",
    "queued": "RunsQueued",
    "duplicate": "DuplicateDeliveries",
    "orphan": "OrphanDeliveries",
    "ignored": "IgnoredDeliveries",
}


@dataclass
class ExecutorClients:
    dynamodb: Any
    scheduler: Any
    s3: Any
    bedrock_runtime: Any = None

    @classmethod
    def default(cls) -> ExecutorClients:
        import boto3

        return cls(
            dynamodb=boto3.client("dynamodb"), scheduler=boto3.client("scheduler"), s3=boto3.client("s3")
        )


def build_executor(
    config: ExecutorConfig,
    clients: ExecutorClients,
    *,
    soul: SoulRunner | None = None,
    env: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] = utcnow,
    on_run: Callable[[Run], None] | None = None,
) -> Executor:
    """The executor over `clients`. `soul` defaults to the real agent (`AgentSoulRunner`) with the
    Soul's settings read from `env` (default: the process environment)."""
    from heartbeat.dal.artifacts import OutputStore, TranscriptStore
    from heartbeat.dal.retry_schedules import OrphanJanitor, RetrySchedules, RetryTarget
    from heartbeat.dal.runs import RunsTable
    from heartbeat.dal.schedules import SchedulesGateway, ScheduleTarget
    from heartbeat.dal.task_state import TaskStateTable
    from heartbeat.executor.core import Executor, ExecutorDeps, ExecutorPolicy

    if soul is None:
        from heartbeat.executor.runner import AgentSoulRunner
        from heartbeat.soul.resolve import ProviderClients, SoulSettings

        soul = AgentSoulRunner(
            SoulSettings.from_env(env),
            memory_client=clients.dynamodb,
            memory_table=config.memory_table,
            provider_clients=ProviderClients(bedrock_runtime=clients.bedrock_runtime),
        )
    role_arn = config.scheduler_role_arn or ""
    deps = ExecutorDeps(
        state=TaskStateTable(clients.dynamodb, config.tasks_table),
        runs=RunsTable(clients.dynamodb, config.runs_table),
        # The executor only disables schedules (auto-disable), keeping each schedule's own target:
        # this target is never written.
        schedules=SchedulesGateway(
            clients.scheduler, ScheduleTarget(group=config.schedule_group, executor_arn="", role_arn=role_arn)
        ),
        retries=RetrySchedules(
            clients.scheduler,
            RetryTarget(group=config.schedule_group, role_arn=role_arn, dlq_arn=config.dlq_arn),
        ),
        janitor=OrphanJanitor(clients.scheduler, config.schedule_group, clock=clock),
        outputs=OutputStore(clients.s3, config.artifacts_bucket),
        transcripts=TranscriptStore(clients.s3, config.artifacts_bucket),
        soul=soul,
    )
    policy = ExecutorPolicy(
        max_consecutive_errors=config.max_consecutive_errors,
        tenant_concurrency=config.tenant_concurrency,
        retention=timedelta(days=config.run_retention_days),
        max_queue=timedelta(seconds=config.max_queue_seconds),
        default_lease=timedelta(seconds=config.default_lease_seconds),
    )
    return Executor(deps, policy, clock=clock, on_run=on_run)


class ExecutorHandler:
    """`handler(event, context)` for the executor Lambda (and the local stack). `logger` and
    `metrics` are Powertools' (optional, so the local stack and tests can leave them out)."""

    def __init__(
        self,
        factory: Callable[[Callable[[Run], None]], Executor],
        *,
        executor_arn: str | None = None,
        logger: Any = None,
        metrics: Any = None,
    ) -> None:
        self._factory = factory
        self._executor: Executor | None = None
        self._fallback_arn = executor_arn  # when the context has no invoked_function_arn
        self._logger = logger
        self._metrics = metrics

    @classmethod
    def from_env(cls, *, logger: Any = None, metrics: Any = None) -> ExecutorHandler:
        """The deployed handler: configuration from the environment, default boto3 clients."""
        handler: ExecutorHandler

        def factory(on_run: Callable[[Run], None]) -> Executor:
            from heartbeat.executor.config import ExecutorConfig

            config = ExecutorConfig.from_env()
            handler._fallback_arn = config.executor_arn
            return build_executor(config, ExecutorClients.default(), on_run=on_run)

        handler = cls(factory, logger=logger, metrics=metrics)
        return handler

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if self._executor is None:
            self._executor = self._factory(self._bind_run)
        if self._logger is not None and isinstance(event, Mapping):
            self._logger.append_keys(
                tenant_id=event.get("tenant_id"), task_id=event.get("task_id"), run_id=None
            )
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        arn = getattr(context, "invoked_function_arn", None) or self._fallback_arn
        try:
            outcome = self._executor.handle(event, remaining_ms=remaining, executor_arn=arn)
        except InvalidRequestError as exc:
            # Retrying cannot fix a malformed event: log it and answer, so it is not redelivered.
            self._log("error", "not an executor event", error=exc.message)
            self._metric("IgnoredDeliveries", 1, "Count")
            return {"status": "ignored", "reason": exc.message}
        self._observe(outcome)
        return {
            "status": outcome.status,
            "run_id": outcome.run.id if outcome.run else None,
            "reason": outcome.reason,
        }

    def _bind_run(self, run: Run) -> None:
        if self._logger is not None:
            self._logger.append_keys(run_id=run.id)

    def _observe(self, outcome: Outcome) -> None:
        self._metric(_STATUS_METRIC[outcome.status], 1, "Count")
        run = outcome.run
        if run is not None and run.duration_ms is not None:
            self._metric("RunDuration", run.duration_ms, "Milliseconds")
        if run is not None and run.usage:
            self._metric("InputTokens", run.usage.get("input_tokens", 0), "Count")
            self._metric("OutputTokens", run.usage.get("output_tokens", 0), "Count")
        level = "warning" if outcome.status == "error" else "info"
        self._log(level, f"delivery {outcome.status}", reason=outcome.reason)

    def _metric(self, name: str, amount: float, unit: str) -> None:
        if self._metrics is not None:
            self._metrics.add_metric(name=name, unit=unit, value=amount)

    def _log(self, level: str, message: str, **extra: Any) -> None:
        if self._logger is not None:
            getattr(self._logger, level)(message, extra=extra)
        else:
            getattr(logger, level)("%s %s", message, extra)
