"""One run per slot, the lease, and what a user sees in the run history and the task's state."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from heartbeat.executor.core import LEASE_EXPIRED_REASON


def test_a_slot_runs_and_leaves_a_record_and_state(harness) -> None:
    task_id = harness.create_task()
    outcome = harness.deliver(task_id)
    assert outcome.status == "ok"
    (run,) = harness.runs(task_id)
    assert run.id.startswith("run_") and run.status == "ok" and run.trigger == "schedule"
    assert run.scheduled_at == "2026-11-23T18:00:00.000Z"
    assert run.output == "answer to: p: say hello"
    assert run.usage == {
        "input_tokens": 12,
        "output_tokens": 7,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
    }
    assert run.model == "offline/heartbeat" and run.duration_ms is not None and run.finished_at
    assert run.expires_at == int(harness.t0.timestamp()) + 30 * 86400
    state = harness.task(task_id)
    assert state.task.state.last_status == "ok" and state.task.state.last_run_id == run.id
    assert state.task.state.consecutive_errors == 0 and state.task.state.last_error is None
    assert state.task.state.next_run_at == "2026-11-24T18:00:00.000Z"
    assert state.lease_until_ms is None  # released


def test_twenty_concurrent_deliveries_of_one_slot_make_exactly_one_run(harness) -> None:
    task_id = harness.create_task()
    start = threading.Barrier(20)

    def deliver(_: int) -> str:
        start.wait()
        return harness.deliver(task_id).status

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(deliver, range(20)))
    assert statuses.count("ok") == 1
    assert set(statuses) == {"ok", "duplicate"}
    assert [r.status for r in harness.runs(task_id)] == ["ok"]
    assert len(harness.model.requests) == 1


def test_a_late_duplicate_makes_no_run(harness) -> None:
    task_id = harness.create_task()
    assert harness.deliver(task_id).status == "ok"
    harness.clock.advance(hours=3)
    assert harness.deliver(task_id).status == "duplicate"
    assert len(harness.runs(task_id)) == 1 and len(harness.model.requests) == 1


def test_both_schedules_of_a_both_day_fields_cron_firing_together_run_once(harness) -> None:
    # Day 1 of the month OR Mondays: two EventBridge schedules; 2026-06-01 is both a 1st and a Monday.
    task_id = harness.create_task(schedule="0 9 1 * 1")
    assert len([n for n in harness.schedule_states() if task_id in n]) == 2
    from datetime import UTC, datetime

    slot = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    harness.clock.now = slot
    assert harness.deliver(task_id, slot).status == "ok"
    assert harness.deliver(task_id, slot).status == "duplicate"
    assert len(harness.runs(task_id)) == 1


def test_a_slot_arriving_while_the_previous_run_holds_the_lease_is_skipped(harness) -> None:
    task_id = harness.create_task()
    inside, release = threading.Event(), threading.Event()

    def slow(request):
        inside.set()
        release.wait(5)
        return "slow answer"

    harness.model.reply = slow
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(harness.deliver, task_id, harness.t0)
        assert inside.wait(5)
        harness.clock.advance(minutes=1)
        second = harness.deliver(task_id, harness.t0.replace(minute=1))
        release.set()
        assert first.result(5).status == "ok"
    assert second.status == "skipped"
    running_id = first.result().run.id
    assert f"the previous run {running_id} is still running" in second.reason
    runs = {r.status: r for r in harness.runs(task_id)}
    assert runs["skipped"].reason == second.reason and runs["ok"].output == "slow answer"
    assert harness.task(task_id).task.state.last_status == "ok"


class Crash(BaseException):
    """The executor dying mid-run (timeout, out of memory): nothing after it runs."""


def test_a_crashed_runs_lease_expires_and_the_next_slot_runs(harness) -> None:
    task_id = harness.create_task()
    harness.model.reply = lambda request: Crash()
    with pytest.raises(Crash):
        harness.deliver(task_id)
    (crashed,) = harness.runs(task_id)
    assert crashed.status == "running"

    harness.model.reply = lambda request: "recovered"
    harness.clock.advance(minutes=5)
    blocked = harness.deliver(task_id, harness.t0.replace(minute=5))
    assert blocked.status == "skipped" and crashed.id in blocked.reason

    harness.clock.advance(minutes=30)  # past the lease (the Lambda's time plus a margin)
    assert harness.deliver(task_id, harness.t0.replace(minute=35)).status == "ok"
    runs = {r.id: r for r in harness.runs(task_id)}
    assert runs[crashed.id].status == "error" and runs[crashed.id].reason == LEASE_EXPIRED_REASON
    assert "did not finish before its lease expired" in runs[crashed.id].error
    assert sorted(r.status for r in runs.values()) == ["error", "ok", "skipped"]


def test_a_disabled_task_records_its_slot_as_skipped(harness) -> None:
    task_id = harness.create_task()
    status, _ = harness.api.call("PATCH", f"/v1/tasks/{task_id}", body={"enabled": False})
    assert status == 200
    outcome = harness.deliver(task_id)
    assert outcome.status == "skipped" and outcome.reason == "the task is disabled"
    assert harness.model.requests == []
    assert harness.task(task_id).task.state.last_status == "skipped"
