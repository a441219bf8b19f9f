"""Webhooks against moto: endpoints created through the real api handler, the real notifier fed
from the (moto) notifications queue, and a receiver on loopback that verifies signatures with
the `standardwebhooks` library. Time is an injectable clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from heartbeat.notify.handler import NotifierHandler, build_notifier
from heartbeat.notify.notifier import Notifier, NotifierPolicy
from support.api import ApiClient, LambdaContext

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class World:
    dynamodb: Any
    scheduler: Any
    s3: Any
    sqs: Any
    secretsmanager: Any
    lambda_: Any
    names: Any
    env: dict[str, str]
    clock: Clock
    api: ApiClient = field(init=False)

    def __post_init__(self) -> None:
        self.api = ApiClient(self, ALLOW_PRIVATE_NETWORK_TARGETS="true")

    @property
    def queue_url(self) -> str:
        return self.env["NOTIFICATIONS_QUEUE_URL"]

    def notifier(
        self, policy: NotifierPolicy | None = None, *, clients: dict[str, Any] | None = None, **kwargs: Any
    ) -> Notifier:
        from heartbeat.notify.config import NotifierConfig

        own = {
            "dynamodb": self.dynamodb,
            "sqs": self.sqs,
            "secretsmanager": self.secretsmanager,
            **(clients or {}),
        }
        notifier = build_notifier(
            NotifierConfig.from_env({**self.env, "ALLOW_PRIVATE_NETWORK_TARGETS": "true"}),
            **own,
            clock=self.clock,
            **kwargs,
        )
        if policy is not None:
            notifier._p = policy
        return notifier

    def messages(self, queue: str = "NotificationsQueue") -> list[dict[str, Any]]:
        """Take every visible message off a queue (as the Lambda event source would)."""
        url = self.sqs.get_queue_url(QueueName=self.names.queue(queue))["QueueUrl"]
        taken: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            batch = got.get("Messages", [])
            if not batch:
                return taken
            for message in batch:
                taken.append(message)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def drain(self, notifier: Notifier, rounds: int = 20) -> int:
        """Feed the queue to the notifier through its Lambda handler until it is empty."""
        handler = NotifierHandler(lambda: notifier)
        handled = 0
        for _ in range(rounds):
            batch = self.messages()
            if not batch:
                return handled
            event = {"Records": [sqs_record(m) for m in batch]}
            result = handler(event, LambdaContext())
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            for message in batch:
                if message["MessageId"] in failed:  # put back, as SQS would after the visibility timeout
                    self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=message["Body"])
            handled += len(batch)
        return handled

    def create_webhook(self, url: str, tenant: str = "tenant-a", **fields: Any) -> dict[str, Any]:
        status, answer = self.api.call("POST", "/v1/webhooks", body={"url": url, **fields}, tenant=tenant)
        assert status == 201, answer
        return dict(answer["webhook"])


def sqs_record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


def event_message(tenant: str = "tenant-a", task_id: str = "cron_01", *types: str) -> dict[str, Any]:
    from heartbeat.notify.events import event_id

    return {
        "kind": "events",
        "tenant_id": tenant,
        "events": [
            {
                "id": event_id(tenant, task_id, "run_1", kind),
                "type": kind,
                "timestamp": "2026-12-01T09:00:00.000Z",
                "tenant_id": tenant,
                "task_id": task_id,
                "data": {"task": {"id": task_id, "name": "nightly"}, "run": {"id": "run_1", "status": "ok"}},
            }
            for kind in (types or ("run.succeeded",))
        ],
    }


def publish(world: World, message: dict[str, Any]) -> None:
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody=json.dumps(message))


@pytest.fixture
def world() -> Iterator[World]:
    import boto3
    from moto import mock_aws

    from heartbeat_cli.local.resources import StackNames, provision

    with mock_aws():
        names = StackNames()
        clients = {n: boto3.client(n) for n in ("dynamodb", "scheduler", "s3", "sqs")}
        provision(**clients, names=names)
        sqs = clients["sqs"]
        env = names.environment(
            NOTIFICATIONS_QUEUE_URL=sqs.get_queue_url(QueueName=names.queue("NotificationsQueue"))[
                "QueueUrl"
            ],
            NOTIFICATIONS_DLQ_URL=sqs.get_queue_url(QueueName=names.queue("NotificationsDeadLetterQueue"))[
                "QueueUrl"
            ],
        )
        yield World(
            **clients,
            secretsmanager=boto3.client("secretsmanager"),
            lambda_=boto3.client("lambda"),
            names=names,
            env=env,
            clock=Clock(T0),
        )
