"""The local stack started again after being stopped: the latest slot each task missed while it was
down, within the task's catch-up window, runs once, and `next_run_at` stays true (DESIGN section 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heartbeat_cli.local.clock import ManualClock

from .conftest import create_key, http

pytestmark = pytest.mark.e2e


def five_minute_mark(now: datetime) -> datetime:
    return now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0) + timedelta(minutes=5)


def test_a_restart_runs_the_latest_missed_slot_once_and_keeps_next_run_at_true(
    data_dir: Path, start_stack: Any
) -> None:
    key = create_key(data_dir)
    start = five_minute_mark(datetime.now(UTC)) + timedelta(seconds=30)
    stack = start_stack(data_dir, clock=ManualClock(start))
    status, created = http(
        "POST",
        f"{stack.api_url}/v1/tasks",
        key=key,
        body={"name": "pulse", "prompt": "Say hello", "schedule": "*/5 * * * *"},
    )
    assert status == 201, created
    task_id = created["task"]["id"]
    status, hourly = http(
        "POST",
        f"{stack.api_url}/v1/tasks",
        key=key,
        body={
            "name": "short-window",
            "prompt": "Say hi",
            "schedule": "*/5 * * * *",
            "catchup_window_seconds": 60,
        },
    )
    assert status == 201, hourly
    assert stack.scheduler.drain(10)
    stack.stop()

    # Down for 17 minutes: the slots at +5, +10 and +15 minutes passed; the latest is 2.5 minutes old.
    restarted_at = start + timedelta(minutes=17)
    stack = start_stack(data_dir, clock=ManualClock(restarted_at))
    assert stack.scheduler.drain(60)
    status, runs = http("GET", f"{stack.api_url}/v1/tasks/{task_id}/runs", key=key)
    assert status == 200
    latest = start.replace(second=0) + timedelta(minutes=15)
    assert [(r["status"], r["scheduled_at"]) for r in runs["runs"]] == [
        ("ok", latest.strftime("%Y-%m-%dT%H:%M:00.000Z"))
    ]
    status, got = http("GET", f"{stack.api_url}/v1/tasks/{task_id}", key=key)
    state = got["task"]["state"]
    assert state["last_status"] == "ok" and state["last_run_id"] == runs["runs"][0]["id"]
    # The executor reads the real time (the test moved only the scheduler's): next_run_at is the
    # schedule's next fire time after it, never a slot that has passed.
    next_run = datetime.fromisoformat(state["next_run_at"].replace("Z", "+00:00"))
    assert next_run > datetime.now(UTC) - timedelta(seconds=5) and next_run.minute % 5 == 0

    # The caught-up run counts in today's usage (the executor's day: the real one).
    status, usage = http("GET", f"{stack.api_url}/v1/usage?days=2", key=key)
    assert status == 200 and len(usage["days"]) == 2 and usage["days"][0]["runs"] == 1
    assert usage["budget"] == {
        "daily_tokens": 0,
        "used_today": usage["budget"]["used_today"],
        "remaining_today": None,
    }
    assert usage["budget"]["used_today"] > 0

    # A task whose window (60 s) is shorter than the slot's age is not caught up.
    status, short = http("GET", f"{stack.api_url}/v1/tasks/{hourly['task']['id']}/runs", key=key)
    assert status == 200 and short["runs"] == []
