"""The task fields of DESIGN section 10 through /v1/tasks: `limits`, `catchup_window_seconds` and
`output_schema`, their defaults, their 400s, and the schedules' retry window."""

from __future__ import annotations

import pytest

from support.api import ApiClient

BASE = {"name": "monitor", "prompt": "Check the deploy.", "schedule": "*/15 * * * *"}


@pytest.fixture
def api(aws):
    return ApiClient(aws)


def event_ages(aws) -> list[int]:
    group = aws.names.schedule_group
    listed = aws.scheduler.list_schedules(GroupName=group)["Schedules"]
    return [
        aws.scheduler.get_schedule(Name=s["Name"], GroupName=group)["Target"]["RetryPolicy"][
            "MaximumEventAgeInSeconds"
        ]
        for s in listed
    ]


def test_a_task_answers_the_default_limits_and_catch_up_window(api, aws):
    status, body = api.call("POST", "/v1/tasks", body=BASE)
    assert status == 201, body
    task = body["task"]
    assert task["limits"] == {"max_steps": 10, "max_tokens": 100_000, "timeout_seconds": 600}
    assert task["catchup_window_seconds"] == 3600 and task["output_schema"] is None
    assert event_ages(aws) == [3600]


def test_limits_and_the_window_are_kept_and_patched_field_by_field(api, aws):
    body = {**BASE, "limits": {"max_steps": 3}, "catchup_window_seconds": 600}
    status, created = api.call("POST", "/v1/tasks", body=body)
    assert status == 201, created
    task = created["task"]
    assert task["limits"] == {"max_steps": 3, "max_tokens": 100_000, "timeout_seconds": 600}
    assert event_ages(aws) == [600]  # EventBridge stops retrying when the run would be missed

    status, patched = api.call(
        "PATCH",
        f"/v1/tasks/{task['id']}",
        body={"limits": {"timeout_seconds": 60}, "catchup_window_seconds": 86400},
    )
    assert status == 200, patched
    assert patched["task"]["limits"] == {"max_steps": 3, "max_tokens": 100_000, "timeout_seconds": 60}
    assert event_ages(aws) == [86400]
    status, got = api.call("GET", f"/v1/tasks/{task['id']}")
    assert got["task"]["limits"]["timeout_seconds"] == 60 and got["task"]["catchup_window_seconds"] == 86400

    status, reset = api.call(
        "PATCH", f"/v1/tasks/{task['id']}", body={"limits": None, "catchup_window_seconds": None}
    )
    assert status == 200 and reset["task"]["limits"]["max_steps"] == 10
    assert reset["task"]["catchup_window_seconds"] == 3600 and event_ages(aws) == [3600]


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("limits", {"max_steps": 51}, "limits.max_steps"),
        ("limits", {"max_steps": 0}, "limits.max_steps"),
        ("limits", {"timeout_seconds": 29}, "limits.timeout_seconds"),
        ("limits", {"timeout_seconds": 841}, "limits.timeout_seconds"),
        ("limits", {"max_tokens": 0}, "limits.max_tokens"),
        ("limits", {"max_turns": 3}, "limits.max_turns"),
        ("catchup_window_seconds", 59, "catchup_window_seconds"),
        ("catchup_window_seconds", 86401, "catchup_window_seconds"),
    ],
)
def test_limits_and_windows_out_of_range_are_a_400_naming_the_field(api, field, value, param):
    status, body = api.call("POST", "/v1/tasks", body={**BASE, field: value})
    assert status == 400, body
    assert body["error"]["param"] == param


def test_an_output_schema_is_checked_as_a_json_schema(api):
    schema = {"type": "object", "properties": {"healthy": {"type": "boolean"}}, "required": ["healthy"]}
    status, created = api.call("POST", "/v1/tasks", body={**BASE, "output_schema": schema})
    assert status == 201 and created["task"]["output_schema"] == schema

    status, bad = api.call("POST", "/v1/tasks", body={**BASE, "output_schema": {"type": "nothing"}})
    assert status == 400 and bad["error"]["param"] == "output_schema"
    assert bad["error"]["message"].startswith("output_schema is not a valid JSON Schema (at type):")

    huge = {"type": "object", "description": "x" * 9000}
    status, big = api.call("POST", "/v1/tasks", body={**BASE, "output_schema": huge})
    assert status == 400 and "the limit is 8192 bytes (8 KiB)" in big["error"]["message"]

    task_id = created["task"]["id"]
    status, patched = api.call("PATCH", f"/v1/tasks/{task_id}", body={"output_schema": {"minLength": "two"}})
    assert status == 400 and patched["error"]["param"] == "output_schema"
    status, cleared = api.call("PATCH", f"/v1/tasks/{task_id}", body={"output_schema": None})
    assert status == 200 and cleared["task"]["output_schema"] is None
