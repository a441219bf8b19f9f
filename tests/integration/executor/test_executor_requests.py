"""What a run costs in AWS requests (counted with botocore's event hooks), and the tenant slot and
task state the start and finish transactions leave behind in the cases that are not the common one."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from heartbeat.dal.runs import RunsTable
from heartbeat.models.run import slot_run_id
from heartbeat.timeutil import iso

# A scheduled run's requests apart from the model and its tools: issue 8's five, and issue 17's one
# read of the tenant's budget (counting its usage rides in the finish transaction).
RUN_OVERHEAD_BUDGET = 5


def counted[T](harness: Any, action: Callable[[], T]) -> tuple[T, Counter[str]]:
    calls: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    clients = (harness.aws.dynamodb, harness.aws.scheduler, harness.aws.s3)
    for client in clients:
        client.meta.events.register("before-call", hook)
    try:
        return action(), calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-call", hook)


def runs_table(harness: Any) -> RunsTable:
    return RunsTable(harness.aws.dynamodb, harness.aws.env["RUNS_TABLE"])


def hold_slot(harness: Any, index: int, until_ms: int, tenant: str = "tenant-a") -> None:
    harness.aws.dynamodb.put_item(
        TableName=harness.aws.env["RUNS_TABLE"],
        Item={
            "pk": {"S": f"{tenant}#concurrency"},
            "sk": {"S": f"slot#{index}"},
            "lease_until": {"N": str(until_ms)},
            "run_id": {"S": "run_someoneelse"},
        },
    )


def preferred_slot(harness: Any, task_id: str, limit: int) -> int:
    slot = iso(harness.t0)
    run_id = slot_run_id("tenant-a", task_id, slot, int(harness.t0.timestamp() * 1000))
    return RunsTable.preferred_slot(run_id, limit)


def far_future_ms(harness: Any) -> int:
    return int((harness.t0 + timedelta(days=1)).timestamp() * 1000)


def test_a_scheduled_run_costs_at_most_five_aws_requests(harness) -> None:
    task_id = harness.create_task()
    outcome, calls = counted(harness, lambda: harness.deliver(task_id))
    assert outcome.status == "ok"
    assert sum(calls.values()) <= RUN_OVERHEAD_BUDGET, calls
    assert calls["TransactWriteItems"] == 2  # start, finish: lease, record, tenant slot in each
    # the task, the tenant's #meta (its webhooks and its budget) and today's usage: one BatchGetItem
    assert calls["BatchGetItem"] == 1 and calls["GetItem"] == 0
    (run,) = harness.runs(task_id)
    assert run.status == "ok" and run.output == "answer to: p: say hello"
    snapshot = harness.task(task_id)
    assert snapshot.task.state.last_run_id == run.id and snapshot.lease_until_ms is None
    assert runs_table(harness).free_slots("tenant-a", limit=5, now_ms=0) == [0, 1, 2, 3, 4]


def test_a_run_whose_preferred_slot_is_held_takes_a_free_one_and_gives_it_back(harness_with) -> None:
    harness = harness_with(TENANT_CONCURRENCY="2")
    task_id = harness.create_task()
    held = preferred_slot(harness, task_id, 2)
    hold_slot(harness, held, far_future_ms(harness))
    outcome, calls = counted(harness, lambda: harness.deliver(task_id))
    assert outcome.status == "ok"
    assert calls["Query"] == 2 and calls["TransactWriteItems"] == 3  # + the free-slot read, one more try
    now_ms = int(harness.t0.timestamp() * 1000)
    assert runs_table(harness).free_slots("tenant-a", limit=2, now_ms=now_ms) == [1 - held]


def test_a_slot_whose_holder_is_past_its_time_is_taken_without_a_read(harness_with) -> None:
    harness = harness_with(TENANT_CONCURRENCY="1")
    task_id = harness.create_task()
    hold_slot(harness, 0, int(harness.t0.timestamp() * 1000) - 1)  # its run crashed; its time is up
    outcome, calls = counted(harness, lambda: harness.deliver(task_id))
    assert outcome.status == "ok" and calls["TransactWriteItems"] == 2


def test_a_run_finds_every_slot_held_and_waits(harness_with) -> None:
    harness = harness_with(TENANT_CONCURRENCY="2")
    task_id = harness.create_task()
    for index in (0, 1):
        hold_slot(harness, index, far_future_ms(harness))
    outcome = harness.deliver(task_id)
    assert outcome.status == "queued" and "already has 2 runs in progress" in (outcome.reason or "")
    assert harness.model.requests == []
    snapshot = harness.task(task_id)
    assert snapshot.lease_until_ms is None  # the lease was not taken without a slot


def test_a_task_edited_while_it_runs_keeps_the_edit_and_records_the_run(harness) -> None:
    task_id = harness.create_task()

    def edit_meanwhile(request: Any) -> str:
        status, _ = harness.api.call("PATCH", f"/v1/tasks/{task_id}", body={"name": "renamed"})
        assert status == 200
        return "done"

    harness.model.reply = edit_meanwhile
    outcome = harness.deliver(task_id)
    assert outcome.status == "ok"
    snapshot = harness.task(task_id)
    assert snapshot.task.name == "renamed"
    assert snapshot.task.state.last_status == "ok" and snapshot.task.state.last_run_id == outcome.run.id
    assert snapshot.task.state.next_run_at is not None and snapshot.lease_until_ms is None
    assert runs_table(harness).free_slots("tenant-a", limit=5, now_ms=0) == [0, 1, 2, 3, 4]


def test_a_run_that_finishes_after_its_lease_expired_keeps_its_result_but_not_the_task(
    harness, caplog
) -> None:
    task_id = harness.create_task(schedule="*/5 * * * *")
    inside, release = threading.Event(), threading.Event()
    answers = iter(["late answer", "next answer"])

    def reply(request: Any) -> str:
        answer = next(answers)
        if answer == "late answer":
            inside.set()
            release.wait(5)
        return answer

    harness.model.reply = reply
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(harness.deliver, task_id, harness.t0)
        assert inside.wait(5)
        later = harness.t0 + timedelta(minutes=30)  # past the first run's lease
        harness.clock.now = later
        second = harness.deliver(task_id, later)
        release.set()
        late = first.result(5)
    assert second.status == "ok" and late.status == "ok"
    assert f"run {late.run.id} lost the task's lease" in caplog.text
    runs = {r.id: r for r in harness.runs(task_id)}
    assert runs[late.run.id].status == "ok" and runs[late.run.id].output == "late answer"
    assert runs[second.run.id].output == "next answer"
    snapshot = harness.task(task_id)
    assert snapshot.task.state.last_run_id == second.run.id and snapshot.lease_until_ms is None
    assert runs_table(harness).free_slots("tenant-a", limit=5, now_ms=0) == [0, 1, 2, 3, 4]
