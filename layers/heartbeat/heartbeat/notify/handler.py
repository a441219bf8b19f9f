"""The notifier function's entry: SQS batches through Powertools' batch processing, so one bad
message (AWS failed while recording it) is retried alone (partial batch failure) and the rest of
the batch is not redelivered. The notifier is built at the first invocation, its clients reused
while the container lives."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from heartbeat.timeutil import utcnow

if TYPE_CHECKING:
    from heartbeat.notify.config import NotifierConfig
    from heartbeat.notify.notifier import Notifier, Sender


def build_notifier(
    config: NotifierConfig,
    *,
    dynamodb: Any,
    sqs: Any,
    secretsmanager: Any,
    clock: Callable[[], datetime] = utcnow,
    send: Sender | None = None,
) -> Notifier:
    from heartbeat.dal.event_queue import EventQueue
    from heartbeat.dal.webhook_secrets import WebhookSecrets
    from heartbeat.dal.webhooks import WebhooksTable
    from heartbeat.notify.notifier import Notifier, NotifierPolicy

    extra = {"send": send} if send is not None else {}
    return Notifier(
        WebhooksTable(dynamodb, config.webhooks_table, config.tasks_table),
        WebhookSecrets(secretsmanager, config.webhook_secret_prefix),
        EventQueue(sqs, config.notifications_queue_url, config.notifications_dlq_url),
        NotifierPolicy(
            allow_private=config.allow_private_targets, retention=timedelta(days=config.run_retention_days)
        ),
        clock=clock,
        **extra,
    )


class NotifierHandler:
    """`handler(event, context)` for the notifier Lambda and the local stack."""

    def __init__(self, factory: Callable[[], Notifier]) -> None:
        self._factory = factory
        self._notifier: Notifier | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifierHandler:
        def factory() -> Notifier:
            import boto3

            from heartbeat.notify.config import NotifierConfig

            return build_notifier(
                NotifierConfig.from_env(env),
                dynamodb=boto3.client("dynamodb"),
                sqs=boto3.client("sqs"),
                secretsmanager=boto3.client("secretsmanager"),
            )

        return cls(factory)

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )

        if self._notifier is None:
            self._notifier = self._factory()
        notifier = self._notifier

        def record_handler(record: Any) -> None:
            notifier.handle(json.loads(record.body))

        response: dict[str, Any] = process_partial_response(  # type: ignore[assignment]
            event=dict(event),
            record_handler=record_handler,
            # A batch that failed whole is reported record by record, like any partial failure.
            processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
            context=context,
        )
        return response
