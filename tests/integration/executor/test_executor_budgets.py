"""Budgets, catch-up and honest outcomes (DESIGN section 10) through the real executor on moto:
per-run limits, the tenant's daily token budget, usage and cost, missed slots, structured answers."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from heartbeat.dal.runs import RunsTable
from heartbeat.dal.task_state import TaskStateTable
from heartbeat.dal.usage import UsageTable
from heartbeat.executor.config import ExecutorConfig
from heartbeat.executor.handler import ExecutorClients, build_executor
from heartbeat.executor.runner import AgentSoulRunner
from heartbeat.runs.service import RunsService
from heartbeat.soul.resolve import SoulSettings
from heartbeat.soul.types import ModelError
from heartbeat.usage.service import UsageService
from support.api import ApiClient

from .conftest import T0, make_harness

# The scripted model answers each call with 12 input and 7 output tokens.
RUN_TOKENS = 19
# The offline provider with a price, so the scripted model's runs (tasks name offline/heartbeat) cost something.
PRICED = json.dumps({"offline": {"kind": "offline", "prices": {"heartbeat": {"input": 2, "output": 10}}}})


def with_offline_model(harness: Any) -> None:
    """The harness's executor with the real Soul resolving `offline/heartbeat` (no scripted model)."""
    env = harness.aws.env
    soul = AgentSoulRunner(
        SoulSettings.from_env(env), memory_client=harness.aws.dynamodb, memory_table=env["MEMORY_TABLE"]
    )
    clients = ExecutorClients(
        dynamodb=harness.aws.dynamodb, scheduler=harness.aws.scheduler, s3=harness.aws.s3
    )
    harness.executor = build_executor(
        ExecutorConfig.from_env(env), clients, soul=soul, env=env, clock=harness.clock
    )


def usage_table(harness: Any) -> UsageTable:
    return UsageTable(harness.aws.dynamodb, harness.aws.env["RUNS_TABLE"], harness.aws.env["TASKS_TABLE"])


def test_a_budget_of_one_token_skips_the_next_run_sends_one_event_and_resumes_the_next_utc_day(aws) -> None:
    harness = make_harness(aws, DAILY_TOKEN_BUDGET="1")
    task_id = harness.create_task(schedule="*/5 * * * *")

    first = harness.deliver(task_id, T0)
    assert first.status == "ok" and first.events == ()  # it started under the budget

    harness.clock.now = T0 + timedelta(minutes=5)
    second = harness.deliver(task_id, harness.clock.now)
    assert second.status == "skipped" and second.run is not None
    assert (second.run.reason or "").startswith("budget_exhausted: this tenant used 19 tokens today (UTC)")
    assert "runs resume at 2026-11-24T00:00:00.000Z" in (second.run.reason or "")
    (event,) = second.events
    assert event.type == "budget.exhausted"
    assert event.data["budget"] == {
        "daily_tokens": 1,
        "used_today": RUN_TOKENS,
        "remaining_today": 0,
        "date": "2026-11-23",
        "resumes_at": "2026-11-24T00:00:00.000Z",
    }
    assert harness.task(task_id).task.state.last_status == "skipped"
    assert harness.task(task_id).task.state.consecutive_errors == 0

    harness.clock.now = T0 + timedelta(minutes=10)
    third = harness.deliver(task_id, harness.clock.now)
    assert third.status == "skipped" and third.events == ()  # one event a day
    assert len(harness.model.requests) == 1

    tomorrow = T0.replace(hour=0) + timedelta(days=1)
    harness.clock.now = tomorrow
    resumed = harness.deliver(task_id, tomorrow)
    assert resumed.status == "ok"  # nobody did anything: a new UTC day
    assert len(harness.model.requests) == 2


def test_run_now_counts_against_the_budget(aws) -> None:
    harness = make_harness(aws, DAILY_TOKEN_BUDGET="1")
    task_id = harness.create_task()
    assert harness.deliver(task_id).status == "ok"
    sent: list[dict[str, Any]] = []

    class Invoker:
        def invoke(self, payload: dict[str, Any]) -> None:
            sent.append(payload)

    runs = RunsService(
        RunsTable(aws.dynamodb, aws.env["RUNS_TABLE"]),
        TaskStateTable(aws.dynamodb, aws.env["TASKS_TABLE"]),
        Invoker(),
        clock=harness.clock,
    )
    queued = runs.run_now("tenant-a", task_id)
    (payload,) = sent
    outcome = harness.executor.handle(payload)
    assert outcome.status == "skipped" and outcome.run is not None and outcome.run.id == queued.id
    assert (outcome.reason or "").startswith("budget_exhausted")


def test_a_tenants_own_budget_overrides_the_deployments(aws) -> None:
    harness = make_harness(aws, DAILY_TOKEN_BUDGET="1")
    usage_table(harness).set_budget_override("tenant-a", 0)  # the operator: no budget for this tenant
    task_id = harness.create_task(schedule="*/5 * * * *")
    assert harness.deliver(task_id, T0).status == "ok"
    harness.clock.now = T0 + timedelta(minutes=5)
    assert harness.deliver(task_id, harness.clock.now).status == "ok"
    other = harness.create_task(tenant="tenant-b")
    assert harness.deliver(other, tenant="tenant-b").status == "ok"
    harness.clock.now = T0 + timedelta(minutes=10)
    other_again = harness.create_task(tenant="tenant-b")
    assert harness.deliver(other_again, tenant="tenant-b").status == "skipped"


def test_concurrent_runs_race_past_the_budget_by_at_most_their_own_limits(aws) -> None:
    harness = make_harness(aws, DAILY_TOKEN_BUDGET="10")
    tasks = [harness.create_task(name=f"t{i}", limits={"max_tokens": 50}) for i in range(4)]
    inside = threading.Barrier(4, timeout=10)

    def reply(request: Any) -> str:
        inside.wait()  # all four have passed the budget check before any finishes
        return "done"

    harness.model.reply = reply
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(harness.deliver, tasks))
    assert [o.status for o in outcomes] == ["ok"] * 4
    view = usage_table(harness).budget("tenant-a", "2026-11-23", default=10)
    # Over the budget by the runs that were in flight, each within its own limit (50 tokens).
    assert view.today.total_tokens == 4 * RUN_TOKENS <= 10 + 4 * 50
    assert view.today.runs == 4 and view.exhausted
    late = harness.create_task(name="late")
    assert harness.deliver(late).status == "skipped"


def test_a_delivery_two_hours_late_is_recorded_missed_without_touching_the_error_count(aws) -> None:
    harness = make_harness(aws)
    task_id = harness.create_task(schedule="*/5 * * * *")
    harness.model.reply = lambda request: ModelError("provider overloaded", transient=True, status=529)
    assert harness.deliver(task_id, T0).status == "error"
    assert harness.task(task_id).task.state.consecutive_errors == 1

    slot = T0 + timedelta(minutes=5)
    harness.clock.now = slot + timedelta(hours=2)
    missed = harness.deliver(task_id, slot)
    assert missed.status == "missed" and missed.run is not None
    assert missed.run.status == "missed"
    assert missed.run.reason == (
        "missed: the delivery arrived 2 h after its slot 2026-11-23T18:05:00.000Z, later than the task's "
        "catchup_window_seconds=3600, so it was not run"
    )
    (event,) = missed.events
    assert event.type == "run.missed" and event.data["run"]["status"] == "missed"
    state = harness.task(task_id).task.state
    assert (
        state.last_status == "missed" and state.consecutive_errors == 1 and state.last_run_id == missed.run.id
    )
    assert state.next_run_at == "2026-11-23T20:10:00.000Z"
    assert len(harness.model.requests) == 1  # not run
    again = harness.deliver(task_id, slot)  # EventBridge's duplicate of the same late slot
    assert again.status == "duplicate" and again.events == ()


def test_a_wider_catch_up_window_runs_a_late_delivery(aws) -> None:
    harness = make_harness(aws)
    task_id = harness.create_task(catchup_window_seconds=3 * 3600)
    harness.clock.now = T0 + timedelta(hours=2)
    assert harness.deliver(task_id, T0).status == "ok"


def test_the_steps_limit_of_a_task_fails_the_run_naming_it(aws) -> None:
    harness = make_harness(aws)
    task_id = harness.create_task(
        model="offline/heartbeat", prompt="Remember the deploy is at noon", limits={"max_steps": 1}
    )
    with_offline_model(harness)
    outcome = harness.deliver(task_id)
    assert outcome.status == "error"
    assert "limits.max_steps=1" in (outcome.reason or "")
    state = harness.task(task_id).task.state
    assert state.consecutive_errors == 1 and harness.task(task_id).task.enabled  # counts once, not terminal


def test_the_token_limit_of_a_task_fails_the_run_naming_it(aws) -> None:
    harness = make_harness(aws)
    task_id = harness.create_task(
        model="offline/heartbeat", prompt="Remember the deploy is at noon", limits={"max_tokens": 5}
    )
    with_offline_model(harness)
    outcome = harness.deliver(task_id)
    assert outcome.status == "error" and "limits.max_tokens=5" in (outcome.reason or "")
    assert outcome.run is not None and outcome.run.usage and sum(outcome.run.usage.values()) > 5


def test_a_matching_structured_answer_is_stored_as_output_json(aws) -> None:
    harness = make_harness(aws)
    schema = {"type": "object", "properties": {"healthy": {"type": "boolean"}}, "required": ["healthy"]}
    task_id = harness.create_task(output_schema=schema)
    harness.model.reply = lambda request: '```json\n{"healthy": true}\n```'
    outcome = harness.deliver(task_id)
    assert outcome.status == "ok", outcome.reason
    assert harness.model.requests[0].output_schema == schema  # the provider was told
    status, answer = harness.api.call("GET", f"/v1/tasks/{task_id}/runs")
    assert status == 200 and answer["runs"][0]["output_json"] == {"healthy": True}


def test_a_structured_answer_that_does_not_match_fails_the_run_with_the_validators_message(aws) -> None:
    harness = make_harness(aws)
    schema = {"type": "object", "properties": {"healthy": {"type": "boolean"}}, "required": ["healthy"]}
    task_id = harness.create_task(output_schema=schema)
    harness.model.reply = lambda request: '{"healthy": "yes"}'
    outcome = harness.deliver(task_id)
    assert outcome.status == "error"
    assert outcome.reason == (
        "the final answer does not match the task's output_schema (at healthy): 'yes' is not of type 'boolean'"
    )
    assert outcome.run is not None and outcome.run.output_json is None and outcome.run.usage is not None
    assert harness.task(task_id).task.enabled  # the next run may answer better


def test_usage_and_cost_are_counted_per_utc_day_and_answered_newest_first(aws) -> None:
    harness = make_harness(aws, HEARTBEAT_PROVIDERS=PRICED, DAILY_TOKEN_BUDGET="1000")
    task_id = harness.create_task(schedule="0 * * * *")
    days = [T0, T0 + timedelta(hours=1), T0 + timedelta(days=2)]
    for slot in days:
        harness.clock.now = slot
        outcome = harness.deliver(task_id, slot)
        assert outcome.status == "ok"
        # 12 input tokens at $2 and 7 output at $10 per million
        assert outcome.run is not None and outcome.run.cost_usd == 0.000094
    service = UsageService(
        usage_table(harness), default_budget=1000, clock=lambda: T0 + timedelta(days=2, hours=3)
    )
    answer = service.usage("tenant-a", 4)
    assert [d["date"] for d in answer["days"]] == ["2026-11-25", "2026-11-24", "2026-11-23", "2026-11-22"]
    assert [d["runs"] for d in answer["days"]] == [1, 0, 2, 0]
    assert answer["days"][2] == {
        "date": "2026-11-23",
        "runs": 2,
        "input_tokens": 24,
        "output_tokens": 14,
        "cached_tokens": 0,
        "cost_usd": 0.000188,
    }
    assert answer["budget"] == {
        "daily_tokens": 1000,
        "used_today": RUN_TOKENS,
        "remaining_today": 1000 - RUN_TOKENS,
    }


def test_get_usage_answers_today_and_zero_days(aws) -> None:
    harness = make_harness(aws)
    api = ApiClient(aws)
    status, answer = api.call("GET", "/v1/usage", query={"days": "3"})
    assert status == 200, answer
    assert len(answer["days"]) == 3 and all(d["runs"] == 0 and d["cost_usd"] == 0 for d in answer["days"])
    assert answer["days"][0]["date"] > answer["days"][1]["date"] > answer["days"][2]["date"]
    assert answer["budget"] == {"daily_tokens": 0, "used_today": 0, "remaining_today": None}
    status, error = api.call("GET", "/v1/usage", query={"days": "91"})
    assert status == 400 and error["error"]["param"] == "days"
    status, _ = api.call("GET", "/v1/usage", scopes=("memory.read",))
    assert status == 403
    assert harness.model.requests == []
