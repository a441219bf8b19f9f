"""The notifier against moto and a loopback receiver that verifies with `standardwebhooks`:
signed deliveries, retries with the same id and body, dedupe, filters, Slack, dead-lettering,
disabling after 24 hours of failures, and faults at each of its AWS calls."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from heartbeat.notify.notifier import NotifierPolicy
from support.receiver import webhook_receiver

from .conftest import event_message, publish

NO_WAIT = NotifierPolicy(allow_private=True, retry_delays=(timedelta(0),) * 7, timeout_s=2.0)


def deliveries(world, webhook_id: str) -> list[dict]:
    status, answer = world.api.call("GET", f"/v1/webhooks/{webhook_id}/deliveries")
    assert status == 200, answer
    return list(answer["deliveries"])


def test_an_event_reaches_the_receiver_signed_and_verifiable(world):
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.secret = hook["secret"]
        message = event_message()
        publish(world, message)
        world.drain(world.notifier(NO_WAIT))
        (got,) = receiver.wait_for(1)
    assert got.verified, got.error
    assert got.headers["webhook-id"] == message["events"][0]["id"]
    assert got.json["type"] == "run.succeeded" and got.json["data"]["task"]["name"] == "nightly"
    (delivery,) = deliveries(world, hook["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["status_code"] == 200


def test_a_failing_receiver_gets_the_same_id_and_body_on_every_retry_until_it_answers(world):
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.secret = hook["secret"]
        receiver.statuses = [500, 503, 404]
        publish(world, event_message())
        world.drain(world.notifier(NO_WAIT))
        got = receiver.wait_for(4)
    assert len(got) == 4
    assert len({g.headers["webhook-id"] for g in got}) == 1 and len({g.body for g in got}) == 1
    assert all(g.verified for g in got)
    (delivery,) = deliveries(world, hook["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 4


def test_a_receiver_that_times_out_is_retried(world):
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.secret = hook["secret"]
        receiver.delay_s = 1.0
        notifier = world.notifier(
            NotifierPolicy(allow_private=True, retry_delays=(timedelta(0),), timeout_s=0.3)
        )
        publish(world, event_message())
        world.drain(notifier)
        receiver.delay_s = 0.0
        world.drain(notifier)
        got = receiver.wait_for(2)
    assert len(got) >= 2
    (delivery,) = deliveries(world, hook["id"])
    assert delivery["status"] in ("delivered", "failed")
    assert delivery["attempts"] == 2 and "timed out" in (delivery["error"] or "timed out")


def test_the_same_event_queued_twice_is_delivered_once_per_endpoint(world):
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.secret = hook["secret"]
        message = event_message()
        publish(world, message)
        publish(world, message)
        world.drain(world.notifier(NO_WAIT))
        got = receiver.wait_for(2, timeout=1.0)
    assert len(got) == 1
    assert len(deliveries(world, hook["id"])) == 1


def test_endpoints_get_only_the_events_and_tasks_they_subscribe_to(world):
    with webhook_receiver() as failures, webhook_receiver() as one_task, webhook_receiver() as other:
        world.create_webhook(failures.url, events=["run.failed"])
        status, task = world.api.call(
            "POST", "/v1/tasks", body={"name": "t", "prompt": "p", "schedule": "0 9 * * *"}
        )
        assert status == 201, task
        task_id = task["task"]["id"]
        world.create_webhook(one_task.url, task_ids=[task_id])
        world.create_webhook(other.url, tenant="tenant-b")
        publish(world, event_message("tenant-a", task_id, "run.succeeded", "run.failed"))
        publish(world, event_message("tenant-a", "cron_01jd1111111111111111111111", "run.failed"))
        world.drain(world.notifier(NO_WAIT))
        assert sorted(g.json["type"] for g in failures.wait_for(2)) == ["run.failed", "run.failed"]
        assert sorted(g.json["type"] for g in one_task.wait_for(2)) == ["run.failed", "run.succeeded"]
        assert other.wait_for(1, timeout=0.5) == []


def test_a_slack_endpoint_gets_a_text_message(world):
    with webhook_receiver() as receiver:
        world.create_webhook(receiver.url, format="slack")
        publish(world, event_message("tenant-a", "cron_01", "run.failed"))
        world.drain(world.notifier(NO_WAIT))
        (got,) = receiver.wait_for(1)
    assert set(got.json) == {"text"} and "nightly" in got.json["text"] and "failed" in got.json["text"]


def test_a_delivery_that_fails_every_attempt_is_marked_failed_and_dead_lettered(world):
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.statuses = [500] * 20
        publish(world, event_message())
        world.drain(world.notifier(NO_WAIT))
        got = receiver.wait_for(8)
    assert len(got) == 8  # the first attempt and seven retries
    (delivery,) = deliveries(world, hook["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 8 and delivery["status_code"] == 500
    dead = world.messages("NotificationsDeadLetterQueue")
    assert len(dead) == 1 and json.loads(dead[0]["Body"])["webhook_id"] == hook["id"]


def test_retries_wait_the_contracts_backoff(world):
    """5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 24 h: each retry is a delayed message; SQS delays at
    most 15 minutes, so a message that arrives early is sent on for the time that remains."""
    with webhook_receiver() as receiver:
        world.create_webhook(receiver.url)
        receiver.statuses = [500] * 20
        notifier = world.notifier(NotifierPolicy(allow_private=True))
        publish(world, event_message())
        waits = []
        for _ in range(7):
            world.drain(notifier, rounds=1)
            (retry,) = world.sqs.receive_message(QueueUrl=world.queue_url, WaitTimeSeconds=0).get(
                "Messages", []
            ) or [None]
            assert retry is None  # invisible: delayed
            waits.append(_next_attempt(world))
            world.clock.now = _due(world)
            _make_visible(world)
    assert waits == [5, 300, 1800, 7200, 18000, 36000, 86400]


def _pending(world) -> dict:
    items = world.dynamodb.scan(TableName=world.env["WEBHOOKS_TABLE"])["Items"]
    (item,) = [i for i in items if i["sk"]["S"].startswith("delivery#")]
    return item


def _next_attempt(world) -> int:
    from heartbeat.timeutil import parse_iso

    item = _pending(world)
    return round((parse_iso(item["next_attempt_at"]["S"]) - world.clock.now).total_seconds())


def _due(world):
    from heartbeat.timeutil import parse_iso

    return parse_iso(_pending(world)["next_attempt_at"]["S"])


def _make_visible(world) -> None:
    """Stand in for SQS's delay passing: moto holds delayed messages for real seconds."""
    from moto.sqs.models import sqs_backends

    queue = sqs_backends["123456789012"]["us-east-1"].queues[world.names.queue("NotificationsQueue")]
    for message in queue._messages:
        message.delayed_until = 0


def test_an_endpoint_failing_every_delivery_for_24_hours_is_disabled_with_a_reason(world):
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.statuses = [500] * 50
        notifier = world.notifier(NotifierPolicy(allow_private=True, retry_delays=(timedelta(0),) * 7))
        start = world.clock.now
        for hours in (0, 12, 23):
            world.clock.now = start + timedelta(hours=hours)
            publish(world, event_message("tenant-a", "cron_01", "run.failed"))
            world.drain(notifier, rounds=1)
        assert world.api.call("GET", f"/v1/webhooks/{hook['id']}")[1]["webhook"]["enabled"] is True
        world.clock.now += timedelta(hours=2)
        world.drain(notifier, rounds=1)
    status, answer = world.api.call("GET", f"/v1/webhooks/{hook['id']}")
    assert answer["webhook"]["enabled"] is False
    assert "failed for 25 hours" in answer["webhook"]["disabled_reason"]
    status, enabled = world.api.call("PATCH", f"/v1/webhooks/{hook['id']}", body={"enabled": True})
    assert enabled["webhook"]["enabled"] is True and enabled["webhook"]["disabled_reason"] is None


def test_a_test_event_is_sent_now(world):
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.secret = hook["secret"]
        status, answer = world.api.call("POST", f"/v1/webhooks/{hook['id']}/test")
        assert status == 202
        world.drain(world.notifier(NO_WAIT))
        (got,) = receiver.wait_for(1)
    assert (
        got.verified
        and got.json["type"] == "webhook.test"
        and got.headers["webhook-id"] == answer["event_id"]
    )


@pytest.mark.parametrize("failing_call", range(4))  # a delivery makes four AWS calls
def test_a_failed_aws_call_in_the_notifier_retries_the_message_and_delivers_exactly_once(world, failing_call):
    """Fail the notifier's n-th AWS call once: the record is reported failed (partial batch
    failure), SQS redelivers it, and the receiver ends with the event delivered, the delivery
    recorded once, never lost."""
    with webhook_receiver() as receiver:
        hook = world.create_webhook(receiver.url)
        receiver.secret = hook["secret"]
        calls = {"n": 0}

        def fault(**kwargs):
            calls["n"] += 1
            if calls["n"] == failing_call + 1:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "op")

        own = {name: boto3.client(name) for name in ("dynamodb", "secretsmanager", "sqs")}
        for client in own.values():
            client.meta.events.register("before-call.*.*", fault)
        publish(world, event_message())
        world.drain(world.notifier(NO_WAIT, clients=own))
        assert calls["n"] > failing_call, "the fault was injected"
        world.drain(world.notifier(NO_WAIT))
        got = receiver.wait_for(1)
    assert got and all(g.verified for g in got)
    assert len({g.headers["webhook-id"] for g in got}) == 1
    (delivery,) = deliveries(world, hook["id"])
    assert delivery["status"] == "delivered"
