"""Failed runs: the backoff ladder, auto-disable with the schedule, terminal errors, secrets."""

from __future__ import annotations

from datetime import timedelta

from heartbeat.soul.types import ModelError


def overloaded(request):
    return ModelError("the provider is overloaded (529): retry later", transient=True, status=529)


def test_after_each_failure_slots_are_skipped_until_the_ladder_step_has_passed(harness_with) -> None:
    harness = harness_with(MAX_CONSECUTIVE_ERRORS="10")
    task_id = harness.create_task(schedule="* * * * *")
    harness.model.reply = overloaded
    slot = harness.t0
    for errors, wait in enumerate((30, 60, 300, 900, 3600, 3600), start=1):
        harness.clock.now = slot
        outcome = harness.deliver(task_id, slot)
        assert outcome.status == "error", (errors, outcome)
        state = harness.task(task_id).task.state
        assert state.consecutive_errors == errors
        assert state.last_error == "the provider is overloaded (529): retry later"
        # a slot just before the step has passed is skipped, and says why
        early = slot + timedelta(seconds=wait - 1)
        harness.clock.now = early
        skipped = harness.deliver(task_id, early)
        assert skipped.status == "skipped"
        assert f"backing off after {errors} consecutive failed run" in skipped.reason
        assert "overloaded" in skipped.reason
        assert harness.task(task_id).task.state.consecutive_errors == errors  # skips do not count
        slot = slot + timedelta(seconds=wait + 1)

    harness.model.reply = lambda request: "fine again"
    harness.clock.now = slot
    assert harness.deliver(task_id, slot).status == "ok"
    state = harness.task(task_id)
    assert state.task.state.consecutive_errors == 0 and state.task.state.last_error is None
    assert state.backoff_until is None
    harness.clock.now = slot + timedelta(seconds=1)
    assert harness.deliver(task_id, slot + timedelta(seconds=1)).status == "ok"  # no backoff after a success


def test_after_max_consecutive_errors_the_task_and_its_schedule_are_disabled(harness_with) -> None:
    harness = harness_with(MAX_CONSECUTIVE_ERRORS="3")
    task_id = harness.create_task(schedule="*/5 * * * *")
    harness.model.reply = overloaded
    slot = harness.t0
    for _ in range(3):
        harness.clock.now = slot
        assert harness.deliver(task_id, slot).status == "error"
        slot += timedelta(hours=2)
    snapshot = harness.task(task_id)
    task = snapshot.task
    assert task.enabled is False and task.state.consecutive_errors == 3
    assert task.state.disabled_reason.startswith("disabled after 3 consecutive failed runs; the last error: ")
    assert 'PATCH {"enabled": true}' in task.state.disabled_reason
    assert task.state.next_run_at is None
    states = {n: s for n, s in harness.schedule_states().items() if task_id in n}
    assert list(states.values()) == ["DISABLED"]

    _, answer = harness.api.call("GET", f"/v1/tasks/{task_id}")
    assert answer["task"]["enabled"] is False and answer["task"]["state"]["disabled_reason"]

    harness.clock.now = slot
    later = harness.deliver(task_id, slot)  # a delivery already on its way
    assert later.status == "skipped" and later.reason.startswith("the task is disabled: disabled after 3")

    # re-enabling through the API starts afresh and turns the schedule back on
    status, answer = harness.api.call("PATCH", f"/v1/tasks/{task_id}", body={"enabled": True})
    assert status == 200 and answer["task"]["state"]["consecutive_errors"] == 0
    assert [s for n, s in harness.schedule_states().items() if task_id in n] == ["ENABLED"]


def test_an_error_retrying_cannot_fix_disables_the_task_at_once(harness_with) -> None:
    harness = harness_with(MAX_CONSECUTIVE_ERRORS="10")
    task_id = harness.create_task(schedule="0 9 1 * 1")  # two schedules: both are disabled
    harness.model.reply = lambda request: ModelError(
        "anthropic rejected the API key (401): check the key in heartbeat/anthropic",
        transient=False,
        status=401,
    )
    outcome = harness.deliver(task_id)
    assert outcome.status == "error"
    assert outcome.run.error == "anthropic rejected the API key (401): check the key in heartbeat/anthropic"
    task = harness.task(task_id).task
    assert task.enabled is False and task.state.consecutive_errors == 10
    assert task.state.disabled_reason.startswith(
        "disabled after an error that retrying cannot fix: anthropic"
    )
    states = [s for n, s in harness.schedule_states().items() if task_id in n]
    assert states == ["DISABLED", "DISABLED"]


def test_an_unknown_provider_fails_the_run_with_a_clear_message_and_no_secret(aws, harness) -> None:
    from heartbeat.executor.config import ExecutorConfig
    from heartbeat.executor.handler import ExecutorClients, build_executor
    from heartbeat.executor.runner import AgentSoulRunner
    from heartbeat.soul.resolve import SoulSettings

    env = {**aws.env, "ANTHROPIC_API_KEY": "sk-ant-very-secret-value"}
    real_soul = AgentSoulRunner(
        SoulSettings.from_env(env), memory_client=aws.dynamodb, memory_table=env["MEMORY_TABLE"]
    )
    executor = build_executor(
        ExecutorConfig.from_env(env),
        ExecutorClients(dynamodb=aws.dynamodb, scheduler=aws.scheduler, s3=aws.s3),
        soul=real_soul,
        clock=harness.clock,
    )
    task_id = harness.create_task()
    # the row names a provider this deployment does not have (e.g. configuration changed since)
    aws.dynamodb.update_item(
        TableName=aws.env["TASKS_TABLE"],
        Key={"pk": {"S": "tenant-a"}, "sk": {"S": task_id}},
        UpdateExpression="SET model = :m",
        ExpressionAttributeValues={":m": {"S": "mystery/model-1"}},
    )
    outcome = executor.handle(
        {"tenant_id": "tenant-a", "task_id": task_id, "scheduled_time": "2026-11-23T18:00:00Z"}
    )
    assert outcome.status == "error" and outcome.run is not None and outcome.run.error is not None
    assert "unknown provider 'mystery'" in outcome.run.error and "HEARTBEAT_PROVIDERS" in outcome.run.error
    assert "sk-ant" not in outcome.run.error
    assert harness.task(task_id).task.enabled is False  # terminal: counted at once


class Crash(BaseException):
    """The executor dying mid-run (timeout, out of memory): nothing after it runs."""


def test_runs_that_crash_count_as_failures_and_disable_the_task(harness_with) -> None:
    import pytest

    harness = harness_with(MAX_CONSECUTIVE_ERRORS="3")
    task_id = harness.create_task(schedule="0 * * * *")
    harness.model.reply = lambda request: Crash()
    slot = harness.t0
    crashed = []
    for expected_errors in (0, 1, 2):
        harness.clock.now = slot
        with pytest.raises(Crash):
            harness.deliver(task_id, slot)
        crashed.append(next(r.id for r in harness.runs(task_id) if r.status == "running"))
        state = harness.task(task_id).task.state
        assert state.consecutive_errors == expected_errors  # each earlier crash counted when found
        slot += timedelta(hours=1)  # past the crashed run's lease

    harness.model.reply = lambda request: "never asked"
    harness.clock.now = slot
    outcome = harness.deliver(task_id, slot)
    assert outcome.status == "skipped"
    assert outcome.reason.startswith("the task is disabled: disabled after 3 consecutive failed runs")
    assert "did not finish before its lease expired" in outcome.reason
    task = harness.task(task_id).task
    assert task.enabled is False and task.state.consecutive_errors == 3
    assert task.state.last_status == "skipped" and task.state.next_run_at is None
    assert [s for n, s in harness.schedule_states().items() if task_id in n] == ["DISABLED"]
    runs = {r.id: r for r in harness.runs(task_id)}
    assert all(runs[run_id].status == "error" for run_id in crashed)
    assert harness.model.requests[3:] == []


def test_a_crash_found_by_a_later_slot_sets_off_the_backoff(harness_with) -> None:
    import pytest

    harness = harness_with(MAX_CONSECUTIVE_ERRORS="10")
    task_id = harness.create_task(schedule="* * * * *")
    harness.model.reply = lambda request: Crash()
    harness.clock.now = harness.t0
    with pytest.raises(Crash):
        harness.deliver(task_id, harness.t0)
    snapshot = harness.task(task_id)
    lease_end = snapshot.lease_until_ms / 1000
    # the first slot after the lease ran out finds the crash, records it, and waits out its 30 s
    slot = harness.t0.replace(second=0) + timedelta(seconds=int(lease_end - harness.t0.timestamp()) + 1)
    harness.clock.now = slot
    outcome = harness.deliver(task_id, slot)
    assert outcome.status == "skipped" and "backing off after 1 consecutive failed run" in outcome.reason
    state = harness.task(task_id)
    assert state.task.state.consecutive_errors == 1 and state.task.state.last_status == "skipped"
    assert state.lease_until_ms is None


def test_a_task_re_enabled_while_a_run_fails_keeps_its_fresh_start(harness_with) -> None:
    harness = harness_with(MAX_CONSECUTIVE_ERRORS="2")
    task_id = harness.create_task(schedule="0 * * * *")
    harness.model.reply = overloaded
    harness.clock.now = harness.t0
    assert harness.deliver(task_id, harness.t0).status == "error"
    assert harness.task(task_id).task.state.consecutive_errors == 1

    def reset_meanwhile(request):
        for enabled in (False, True):
            status, _ = harness.api.call("PATCH", f"/v1/tasks/{task_id}", body={"enabled": enabled})
            assert status == 200
        return overloaded(request)

    harness.model.reply = reset_meanwhile
    slot = harness.t0 + timedelta(hours=1)
    harness.clock.now = slot
    assert harness.deliver(task_id, slot).status == "error"
    task = harness.task(task_id).task
    # the run started before the user's reset: it is recorded, but not held against the task
    assert task.enabled is True and task.state.consecutive_errors == 0
    assert task.state.last_status == "error" and "overloaded" in task.state.last_error
    assert [s for n, s in harness.schedule_states().items() if task_id in n] == ["ENABLED"]
