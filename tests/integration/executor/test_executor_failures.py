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
    from heartbeat.executor.soul import AgentSoulRunner
    from heartbeat.soul.models import SoulSettings

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
