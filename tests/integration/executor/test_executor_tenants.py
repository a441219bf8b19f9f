"""The tenant limit, run records' artifacts (large outputs, transcripts), orphan schedules."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from heartbeat.dal.artifacts import PREVIEW_BYTES


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_a_tenant_runs_at_most_k_at_once_the_rest_wait_and_other_tenants_are_unaffected(harness_with) -> None:
    harness = harness_with(TENANT_CONCURRENCY="2")
    busy = [harness.create_task(tenant="tenant-a", prompt=f"a: job {n}") for n in range(3)]
    other = harness.create_task(tenant="tenant-b", prompt="b: other job")
    release = threading.Event()
    harness.model.reply = lambda request: (release.wait(5), "done")[1]

    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(harness.deliver, task_id, harness.t0, "tenant-a") for task_id in busy]
        wait_for(lambda: harness.model.active == 2 and sum(f.done() for f in futures) == 1)
        queued = next(f.result() for f in futures if f.done())
        assert queued.status == "queued"
        assert "this tenant already has 2 runs in progress" in queued.reason
        # another tenant runs while tenant-a is at its limit
        harness.model.reply = lambda request: (
            "done" if request.messages[-1].content.startswith("b:") else (release.wait(5), "done")[1]
        )
        assert harness.deliver(other, harness.t0, "tenant-b").status == "ok"
        release.set()
        assert sorted(f.result(5).status for f in futures) == ["ok", "ok", "queued"]
    assert harness.model.max_active["a"] == 2

    # the waiting run is not dropped: a one-time schedule redelivers it
    waiting = queued.run
    group = harness.aws.names.schedule_group
    retry = harness.aws.scheduler.get_schedule(Name=f"hb-retry-{waiting.id}", GroupName=group)
    assert retry["ScheduleExpression"].startswith("at(") and retry["ActionAfterCompletion"] == "DELETE"
    assert retry["Target"]["Arn"] == harness.aws.env["EXECUTOR_ARN"]
    payload = json.loads(retry["Target"]["Input"])
    assert payload["run_id"] == waiting.id and payload["attempt"] == 1
    (record,) = [r for r in harness.runs(waiting.task_id) if r.id == waiting.id]
    assert record.status == "queued" and "retry 1 at" in record.reason

    harness.clock.advance(seconds=45)
    outcome = harness.executor.handle(payload, executor_arn=harness.aws.env["EXECUTOR_ARN"])
    assert outcome.status == "ok" and outcome.run.id == waiting.id
    (record,) = harness.runs(waiting.task_id)
    assert record.status == "ok" and record.scheduled_at == "2026-11-23T18:00:00.000Z"
    # the same retry delivered twice does nothing more
    assert harness.executor.handle(payload).status == "duplicate"


def test_a_run_that_waits_too_long_for_a_slot_is_recorded_skipped(harness_with) -> None:
    harness = harness_with(TENANT_CONCURRENCY="1", MAX_QUEUE_SECONDS="600")
    first, second = (harness.create_task(prompt=f"a: {n}") for n in range(2))
    release = threading.Event()
    harness.model.reply = lambda request: (release.wait(5), "done")[1]
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(harness.deliver, first)
        wait_for(lambda: harness.model.active == 1)
        payload = {"tenant_id": "tenant-a", "task_id": second, "scheduled_time": "2026-11-23T18:00:00Z"}
        assert harness.deliver(second).status == "queued"
        (waiting,) = harness.runs(second)
        harness.clock.advance(minutes=11)  # past MAX_QUEUE_SECONDS, while the first run still holds its slot
        late = harness.executor.handle({**payload, "run_id": waiting.id, "attempt": 7})
        release.set()
        assert running.result(5).status == "ok"
    assert late.status == "skipped" and late.reason.startswith("waited 11 minutes for a free run slot")
    assert harness.model.max_active["a"] == 1


def test_a_pinned_conversation_carries_earlier_turns_and_an_unpinned_task_starts_fresh(harness) -> None:
    pinned = harness.create_task(prompt="p: what did I say before?", conversation_id="standup")
    fresh = harness.create_task(prompt="f: hello")
    for hour in (18, 19):
        slot = harness.t0.replace(hour=hour)
        harness.clock.now = slot
        assert harness.deliver(pinned, slot).status == "ok"
        assert harness.deliver(fresh, slot).status == "ok"
    by_prompt: dict[str, list] = {}
    for request in harness.model.requests:
        by_prompt.setdefault(request.messages[-1].content[:2], []).append(request)
    second_pinned = by_prompt["p:"][1]
    assert [(m.role, m.content) for m in second_pinned.messages] == [
        ("user", "p: what did I say before?"),
        ("assistant", "answer to: p: what did I say before?"),
        ("user", "p: what did I say before?"),
    ]
    assert [m.role for m in by_prompt["f:"][1].messages] == ["user"]
    body = harness.aws.s3.get_object(
        Bucket=harness.aws.names.bucket, Key="transcripts/tenant-a/standup.json"
    )["Body"]
    assert len(json.loads(body.read())["messages"]) == 4


def test_an_output_over_64_kib_goes_to_s3_and_the_record_keeps_a_preview(harness) -> None:
    task_id = harness.create_task()
    big = "é" + "x" * (100 * 1024)
    harness.model.reply = lambda request: big
    outcome = harness.deliver(task_id)
    (run,) = harness.runs(task_id)
    assert outcome.status == "ok" and run.status == "ok"
    assert run.output_key == f"outputs/tenant-a/{task_id}/{run.id}.txt"
    assert run.output_bytes == len(big.encode())
    assert big.startswith(run.output) and len(run.output.encode()) <= PREVIEW_BYTES
    stored = harness.aws.s3.get_object(Bucket=harness.aws.names.bucket, Key=run.output_key)["Body"].read()
    assert stored.decode() == big


def test_a_small_output_stays_in_the_record(harness) -> None:
    task_id = harness.create_task()
    harness.deliver(task_id)
    (run,) = harness.runs(task_id)
    assert run.output_key is None and run.output == "answer to: p: say hello"


def test_the_schedule_of_a_task_row_that_is_gone_is_removed_once_it_is_old_enough(harness) -> None:
    from heartbeat.dal.tasks import TasksTable

    task_id = harness.create_task()
    TasksTable(harness.aws.dynamodb, harness.aws.env["TASKS_TABLE"]).delete("tenant-a", task_id)
    assert any(task_id in n for n in harness.schedule_states())

    harness.clock.now = datetime.now(UTC)  # the schedule was just created: its row may be on the way
    assert harness.deliver(task_id).status == "orphan"
    assert any(task_id in n for n in harness.schedule_states())

    harness.clock.now = datetime.now(UTC) + timedelta(minutes=10)
    outcome = harness.deliver(task_id)
    assert outcome.status == "orphan" and outcome.run is None
    assert not any(task_id in n for n in harness.schedule_states())
    assert harness.runs(task_id) == []


def test_an_executor_invoked_as_another_shard_runs_the_task_and_queues_its_retry_there(harness_with) -> None:
    # A schedule written under an older ExecutorShards points at a function that is no longer the
    # tenant's shard (or one this executor has never heard of): the run still happens, and a run
    # that must wait is retried on the function that received it, which exists.
    harness = harness_with(TENANT_CONCURRENCY="1")
    other = "arn:aws:lambda:us-east-1:123456789012:function:hb-ExecutorShard7"
    first, second = (harness.create_task(prompt=f"a: {n}") for n in range(2))
    event = {"tenant_id": "tenant-a", "task_id": first, "scheduled_time": "2026-11-23T18:00:00Z"}
    assert harness.executor.handle(event, executor_arn=other).status == "ok"

    release = threading.Event()
    harness.model.reply = lambda request: (release.wait(5), "done")[1]
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(harness.deliver, first, harness.t0 + timedelta(days=1))
        wait_for(lambda: harness.model.active == 1)
        waiting = harness.executor.handle({**event, "task_id": second}, executor_arn=other)
        release.set()
        assert running.result(5).status == "ok"
    assert waiting.status == "queued"
    group = harness.aws.names.schedule_group
    retry = harness.aws.scheduler.get_schedule(Name=f"hb-retry-{waiting.run.id}", GroupName=group)
    assert retry["Target"]["Arn"] == other
