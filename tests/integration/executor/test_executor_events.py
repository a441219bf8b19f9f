"""What a run tells the tenant's webhooks: its events on the notifications queue, once per run
however many times its slot is delivered, failing alerts once per incident, and nothing queued
(no request at all) when no enabled endpoint listens."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from heartbeat.errors import DependencyError

from .conftest import T0


def queued_events(harness) -> list[dict]:
    url = harness.aws.env["NOTIFICATIONS_QUEUE_URL"]
    events = []
    while True:
        got = harness.aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return events
        for message in got:
            events.extend(json.loads(message["Body"])["events"])
            harness.aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def subscribe(harness, **fields) -> dict:
    status, answer = harness.api.call(
        "POST", "/v1/webhooks", body={"url": "https://hooks.example.com/x", **fields}
    )
    assert status == 201, answer
    return answer["webhook"]


def test_a_run_with_no_listening_webhook_sends_nothing_and_makes_no_extra_request(harness):
    task_id = harness.create_task()
    calls: list[str] = []
    harness.aws.sqs.meta.events.register("before-call.sqs.*", lambda model, **kw: calls.append(model.name))
    assert harness.deliver(task_id).status == "ok"
    assert calls == []
    subscribe(harness, events=["run.failed"])  # listening, but not for successes
    assert harness.deliver(task_id, T0 + timedelta(days=1)).status == "ok"
    assert calls == []


def test_a_successful_run_queues_run_succeeded_with_the_task_and_the_run(harness):
    subscribe(harness)
    task_id = harness.create_task(name="nightly")
    outcome = harness.deliver(task_id)
    (event,) = queued_events(harness)
    assert event["type"] == "run.succeeded" and event["task_id"] == task_id
    assert event["data"]["run"]["id"] == outcome.run.id and event["data"]["run"]["status"] == "ok"
    assert (
        event["data"]["task"]["name"] == "nightly" and event["data"]["task"]["state"]["last_status"] == "ok"
    )


def test_five_concurrent_deliveries_of_one_slot_queue_its_events_once(harness):
    subscribe(harness)
    task_id = harness.create_task()
    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(lambda _: harness.deliver(task_id), range(5)))
    assert sorted(o.status for o in outcomes).count("ok") == 1
    assert [e["type"] for e in queued_events(harness)] == ["run.succeeded"]


def test_a_failing_task_alerts_once_per_incident_and_recovers_once(harness):
    subscribe(harness, events=["task.failing", "task.recovered"])
    task_id = harness.create_task(alert_after_errors=2)
    from heartbeat.soul.types import ModelError

    harness.model.reply = lambda request: ModelError("the provider is overloaded", transient=True, status=529)
    types = []
    slot = T0
    for _ in range(4):
        slot += timedelta(days=1)
        harness.clock.now = slot + timedelta(minutes=1)  # slots a day apart: past any backoff
        harness.deliver(task_id, slot)
        types += [e["type"] for e in queued_events(harness)]
    harness.model.reply = lambda request: "all good"
    for _ in range(2):
        slot += timedelta(days=1)
        harness.clock.now = slot + timedelta(minutes=1)
        harness.deliver(task_id, slot)
        types += [e["type"] for e in queued_events(harness)]
    assert types == ["task.failing", "task.recovered"]
    assert harness.task(task_id).task.state.consecutive_errors == 0


def test_a_late_delivery_sends_run_missed_to_a_subscribed_webhook(harness):
    subscribe(harness, events=["run.missed"])
    task_id = harness.create_task(name="market-open")
    harness.clock.now = T0 + timedelta(hours=2)  # past the default one-hour catch-up window
    outcome = harness.deliver(task_id)
    assert outcome.status == "missed"
    (event,) = queued_events(harness)
    assert event["type"] == "run.missed" and event["data"]["run"]["status"] == "missed"
    assert "2 h" in event["data"]["run"]["reason"] or "late" in event["data"]["run"]["reason"]
    assert event["data"]["task"]["name"] == "market-open"


def test_an_exhausted_budget_sends_budget_exhausted_once_a_day(harness_with):
    harness = harness_with(DAILY_TOKEN_BUDGET="1")
    subscribe(harness, events=["budget.exhausted"])
    task_id = harness.create_task()
    assert harness.deliver(task_id).status == "ok"  # spends the day's token
    skipped = [harness.deliver(task_id, T0 + timedelta(minutes=m)) for m in (1, 2)]
    assert [o.status for o in skipped] == ["skipped", "skipped"]
    (event,) = queued_events(harness)
    assert event["type"] == "budget.exhausted" and event["data"]["budget"]["daily_tokens"] == 1


class Killed(BaseException):
    """The process dying at a call: nothing after it runs, not even `except Exception`."""


def failing_send(harness, error: BaseException, times: int = 1) -> list[str]:
    """The next `times` SendMessage calls raise `error` before reaching the queue."""
    left = [times]
    failed: list[str] = []

    def hook(**_: object) -> None:
        if left[0] > 0:
            left[0] -= 1
            failed.append("SendMessage")
            raise error

    harness.aws.sqs.meta.events.register("before-call.sqs.SendMessage", hook)
    return failed


def throttled() -> ClientError:
    return ClientError(
        {"Error": {"Code": "ServiceUnavailable", "Message": "try again"}, "ResponseMetadata": {}},
        "SendMessage",
    )


def test_a_run_whose_events_could_not_be_queued_fails_its_delivery_and_the_retry_queues_them(harness):
    subscribe(harness)
    task_id = harness.create_task()
    failed = failing_send(harness, throttled())
    with pytest.raises(DependencyError, match="the run is recorded"):
        harness.deliver(task_id)
    assert failed == ["SendMessage"] and queued_events(harness) == []
    (run,) = harness.runs(task_id)
    assert run.status == "ok"  # the run itself is not undone or repeated
    retried = harness.deliver(task_id)  # Lambda's retry of the same event
    assert retried.status == "duplicate"
    (event,) = queued_events(harness)
    assert event["type"] == "run.succeeded" and event["data"]["run"]["id"] == run.id
    assert len(harness.runs(task_id)) == 1 and len(harness.model.requests) == 1


def test_a_delivery_killed_after_recording_a_failure_is_retried_into_the_same_alert(harness):
    subscribe(harness, events=["run.failed", "task.failing"])
    task_id = harness.create_task(alert_after_errors=1)
    from heartbeat.soul.types import ModelError

    harness.model.reply = lambda request: ModelError("the provider is overloaded", transient=True, status=529)
    failing_send(harness, Killed())
    with pytest.raises(Killed):
        harness.deliver(task_id)
    assert queued_events(harness) == []
    assert harness.deliver(task_id).status == "duplicate"
    first = queued_events(harness)
    assert [e["type"] for e in first] == ["run.failed", "task.failing"]
    # Another repeat queues the very same events (same ids): the notifier posts each once.
    assert harness.deliver(task_id).status == "duplicate"
    again = queued_events(harness)
    assert [e["id"] for e in again] == [e["id"] for e in first]
    assert harness.task(task_id).task.state.consecutive_errors == 1  # counted once


def test_a_missed_slot_whose_event_was_lost_is_sent_by_the_retry(harness):
    subscribe(harness, events=["run.missed"])
    task_id = harness.create_task()
    harness.clock.now = T0 + timedelta(hours=2)
    failing_send(harness, throttled())
    with pytest.raises(DependencyError):
        harness.deliver(task_id)
    assert harness.deliver(task_id).status == "duplicate"
    (event,) = queued_events(harness)
    assert event["type"] == "run.missed"


def test_a_repeated_run_now_delivery_requeues_the_events_of_its_finished_run(harness):
    from heartbeat.dal.runs import RunsTable
    from heartbeat.dal.task_state import TaskStateTable
    from heartbeat.runs.service import RunsService

    subscribe(harness)
    task_id = harness.create_task()
    sent: list[dict] = []

    class Invoker:
        def invoke(self, payload: dict) -> None:
            sent.append(payload)

    runs = RunsService(
        RunsTable(harness.aws.dynamodb, harness.aws.env["RUNS_TABLE"]),
        TaskStateTable(harness.aws.dynamodb, harness.aws.env["TASKS_TABLE"]),
        Invoker(),
        clock=harness.clock,
    )
    queued = runs.run_now("tenant-a", task_id)
    (payload,) = sent
    failing_send(harness, Killed())
    with pytest.raises(Killed):
        harness.executor.handle(payload)
    outcome = harness.executor.handle(payload)
    assert outcome.status == "duplicate"
    (event,) = queued_events(harness)
    assert event["type"] == "run.succeeded" and event["data"]["run"]["id"] == queued.id
