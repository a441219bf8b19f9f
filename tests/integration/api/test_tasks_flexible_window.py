"""flexible_window_minutes on POST and PATCH: answered in Task, sent to EventBridge as its
FlexibleTimeWindow, validated with 400s that name the field; next_run_at stays the slot."""

from __future__ import annotations

import pytest

from support.api import ApiClient

TASK = {"name": "morning", "prompt": "Summarise.", "schedule": "0 9 * * *", "timezone": "Europe/Berlin"}


@pytest.fixture
def api(aws):
    return ApiClient(aws)


def windows(aws):
    group = aws.names.schedule_group
    return [
        aws.scheduler.get_schedule(Name=s["Name"], GroupName=group)["FlexibleTimeWindow"]
        for s in aws.scheduler.list_schedules(GroupName=group)["Schedules"]
    ]


def test_a_task_without_a_window_fires_at_its_slot(api, aws):
    status, body = api.call("POST", "/v1/tasks", body=TASK)
    assert status == 201
    assert body["task"]["flexible_window_minutes"] == 0
    assert windows(aws) == [{"Mode": "OFF"}]


def test_a_window_becomes_eventbridges_flexible_time_window_and_next_run_at_stays_the_slot(api, aws):
    status, body = api.call("POST", "/v1/tasks", body={**TASK, "flexible_window_minutes": 15})
    assert status == 201
    task = body["task"]
    assert task["flexible_window_minutes"] == 15
    assert windows(aws) == [{"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}]
    assert task["state"]["next_run_at"].endswith(":00:00.000Z")  # 08:00Z or 07:00Z, the slot itself
    status, got = api.call("GET", f"/v1/tasks/{task['id']}")
    assert got["task"]["flexible_window_minutes"] == 15


def test_patch_changes_the_window_on_every_schedule_and_zero_turns_it_off(api, aws):
    _, body = api.call("POST", "/v1/tasks", body={**TASK, "schedule": "0 9 1 * 1"})  # two schedules
    task_id = body["task"]["id"]
    status, patched = api.call("PATCH", f"/v1/tasks/{task_id}", body={"flexible_window_minutes": 30})
    assert status == 200 and patched["task"]["flexible_window_minutes"] == 30
    assert windows(aws) == [{"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 30}] * 2
    status, patched = api.call("PATCH", f"/v1/tasks/{task_id}", body={"flexible_window_minutes": 0})
    assert status == 200 and patched["task"]["flexible_window_minutes"] == 0
    assert windows(aws) == [{"Mode": "OFF"}] * 2


@pytest.mark.parametrize("bad", [61, -1, "15", 1.5, True])
def test_a_window_outside_0_to_60_minutes_is_a_400_naming_the_field(api, aws, bad):
    status, body = api.call("POST", "/v1/tasks", body={**TASK, "flexible_window_minutes": bad})
    assert status == 400, body
    assert body["error"]["param"] == "flexible_window_minutes"
    assert aws.scheduler.list_schedules(GroupName=aws.names.schedule_group)["Schedules"] == []


def test_patching_the_window_to_null_is_a_400(api):
    _, body = api.call("POST", "/v1/tasks", body=TASK)
    status, answer = api.call(
        "PATCH", f"/v1/tasks/{body['task']['id']}", body={"flexible_window_minutes": None}
    )
    assert status == 400 and answer["error"]["param"] == "flexible_window_minutes"
