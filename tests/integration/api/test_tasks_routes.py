"""Every /v1/tasks route through the api handler against moto: answers, stored rows, schedules."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from heartbeat.timeutil import iso
from support.api import ApiClient

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SEED = {
    "name": "daily-summary",
    "prompt": "Summarise the day.",
    "schedule": "0 18 * * *",
    "timezone": "America/New_York",
}


@pytest.fixture
def api(aws):
    return ApiClient(aws)


def schedules(aws):
    group = aws.names.schedule_group
    names = [s["Name"] for s in aws.scheduler.list_schedules(GroupName=group)["Schedules"]]
    found = {n: aws.scheduler.get_schedule(Name=n, GroupName=group) for n in names}
    return {n: {k: v for k, v in s.items() if k != "ResponseMetadata"} for n, s in found.items()}


def test_create_answers_201_with_the_seed_task_shape(api):
    status, body = api.call("POST", "/v1/tasks", body=SEED)
    assert status == 201
    task = body["task"]
    assert re.fullmatch(r"cron_[0-9a-z]{26}", task["id"])
    assert task["name"] == "daily-summary"
    assert task["description"] is None and task["conversation_id"] is None
    assert task["enabled"] is True
    assert task["schedule"] == {"type": "cron", "expression": "0 18 * * *", "timezone": "America/New_York"}
    assert task["model"] == "offline/heartbeat"  # the deployment's default
    assert ISO_MS.match(task["created_at"]) and task["created_at"] == task["updated_at"]
    state = task["state"]
    assert ISO_MS.match(state["next_run_at"])
    # 18:00 in New York is 22:00 or 23:00 UTC depending on DST
    assert state["next_run_at"][11:16] in ("22:00", "23:00")
    assert state | {"next_run_at": None} == {
        "next_run_at": None,
        "last_run_at": None,
        "last_status": None,
        "consecutive_errors": 0,
        "last_error": None,
        "last_run_id": None,
    }


def test_create_makes_one_schedule_targeting_the_executor(api, aws):
    _, body = api.call("POST", "/v1/tasks", body=SEED)
    task_id = body["task"]["id"]
    found = schedules(aws)
    assert len(found) == 1
    ((name, schedule),) = found.items()
    assert len(name) <= 64 and re.fullmatch(r"[0-9a-zA-Z\-_.]+", name) and task_id in name
    assert schedule["ScheduleExpression"] == "cron(0 18 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert target["Arn"] == aws.env["EXECUTOR_ARN"]
    assert target["RoleArn"] == aws.env["SCHEDULER_ROLE_ARN"]
    assert json.loads(target["Input"]) == {
        "tenant_id": "tenant-a",
        "task_id": task_id,
        "scheduled_time": "<aws.scheduler.scheduled-time>",
    }
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["DeadLetterConfig"]["Arn"] == aws.env["SCHEDULE_DLQ_ARN"]


def test_both_day_fields_restricted_makes_two_schedules(api, aws):
    status, body = api.call("POST", "/v1/tasks", body={**SEED, "schedule": "0 9 1 * 1"})
    assert status == 201
    expressions = sorted(s["ScheduleExpression"] for s in schedules(aws).values())
    assert expressions == ["cron(0 9 1 * ? *)", "cron(0 9 ? * MON *)"]


def test_get_and_list_with_pagination(api):
    ids = [api.call("POST", "/v1/tasks", body={**SEED, "name": f"t{i}"})[1]["task"]["id"] for i in range(5)]
    status, body = api.call("GET", f"/v1/tasks/{ids[2]}")
    assert status == 200 and body["task"]["name"] == "t2"

    seen, cursor = [], None
    while True:
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page = api.call("GET", "/v1/tasks", query=query)
        assert status == 200 and page["total"] == 5 and len(page["tasks"]) <= 2
        seen += [t["id"] for t in page["tasks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids  # creation order, each exactly once


def test_list_defaults_and_bad_paging_input(api):
    status, body = api.call("GET", "/v1/tasks")
    assert (status, body) == (200, {"tasks": [], "total": 0, "next_cursor": None})
    for query, param in (
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        status, body = api.call("GET", "/v1/tasks", query=query)
        assert status == 400, query
        assert body["error"]["type"] == "invalid_request_error" and body["error"]["param"] == param


def test_patch_fields_without_touching_the_schedule(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    before = schedules(aws)
    status, body = api.call(
        "PATCH",
        f"/v1/tasks/{task['id']}",
        body={"name": "renamed", "prompt": "New prompt", "description": "d"},
    )
    assert status == 200
    assert (body["task"]["name"], body["task"]["prompt"], body["task"]["description"]) == (
        "renamed",
        "New prompt",
        "d",
    )
    assert body["task"]["updated_at"] >= task["updated_at"]
    assert schedules(aws) == before
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"]["name"] == "renamed"


def test_patch_schedule_and_timezone_replace_the_whole_schedule(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    status, body = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "30 6 * * 1-5"})
    assert status == 200
    assert body["task"]["schedule"] == {
        "type": "cron",
        "expression": "30 6 * * 1-5",
        "timezone": "America/New_York",
    }
    (schedule,) = schedules(aws).values()
    assert schedule["ScheduleExpression"] == "cron(30 6 ? * MON-FRI *)"
    assert json.loads(schedule["Target"]["Input"])["task_id"] == task["id"]  # the target survives

    status, body = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"timezone": "Europe/Dublin"})
    assert status == 200 and body["task"]["schedule"]["timezone"] == "Europe/Dublin"
    (schedule,) = schedules(aws).values()
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Dublin"


def test_patch_between_one_and_two_schedules(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 9 13 * 5"})
    assert len(schedules(aws)) == 2
    api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 9 * * *"})
    assert [s["ScheduleExpression"] for s in schedules(aws).values()] == ["cron(0 9 * * ? *)"]


def test_disable_and_enable(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    status, body = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"enabled": False})
    assert status == 200 and body["task"]["enabled"] is False
    assert body["task"]["state"]["next_run_at"] is None
    assert [s["State"] for s in schedules(aws).values()] == ["DISABLED"]
    status, body = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"enabled": True})
    assert body["task"]["state"]["next_run_at"] is not None
    assert [s["State"] for s in schedules(aws).values()] == ["ENABLED"]


def test_create_disabled_task(api, aws):
    status, body = api.call("POST", "/v1/tasks", body={**SEED, "enabled": False})
    assert status == 201 and body["task"]["state"]["next_run_at"] is None
    assert [s["State"] for s in schedules(aws).values()] == ["DISABLED"]


def test_delete_removes_row_schedule_and_count(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    api.call("POST", "/v1/tasks", body={**SEED, "name": "other"})
    status, body = api.call("DELETE", f"/v1/tasks/{task['id']}")
    assert (status, body) == (200, {"ok": True, "id": task["id"]})
    assert api.call("GET", f"/v1/tasks/{task['id']}")[0] == 404
    assert api.call("DELETE", f"/v1/tasks/{task['id']}")[0] == 404
    assert api.call("GET", "/v1/tasks")[1]["total"] == 1
    assert all(task["id"] not in name for name in schedules(aws))


def test_unknown_ids_are_404(api):
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        for task_id in ("cron_01jdzzzzzzzzzzzzzzzzzzzzzz", "nope"):
            status, answer = api.call(method, f"/v1/tasks/{task_id}", body=body)
            assert status == 404, (method, task_id)
            assert answer["error"]["type"] == "not_found_error"


def test_quota_is_429_and_leaves_nothing_behind(aws):
    api = ApiClient(aws, TASK_QUOTA="2")
    for i in range(2):
        assert api.call("POST", "/v1/tasks", body={**SEED, "name": f"t{i}"})[0] == 201
    status, body = api.call("POST", "/v1/tasks", body=SEED)
    assert status == 429 and body["error"]["type"] == "quota_exceeded_error"
    assert "2 tasks" in body["error"]["message"]
    assert len(schedules(aws)) == 2 and api.call("GET", "/v1/tasks")[1]["total"] == 2
    # another tenant has its own quota
    assert api.call("POST", "/v1/tasks", body=SEED, tenant="tenant-b")[0] == 201


def test_unknown_route_is_404_in_the_envelope(api):
    status, body = api.call("GET", "/v1/nothing")
    assert status == 404 and body["error"]["type"] == "not_found_error"


def test_patch_keeps_what_the_executor_wrote(api, aws):
    """A PATCH writes only the fields it changes: a run's lease and state written meanwhile survive."""
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    key = {"pk": {"S": "tenant-a"}, "sk": {"S": task["id"]}}
    aws.dynamodb.update_item(
        TableName=aws.env["TASKS_TABLE"],
        Key=key,
        UpdateExpression="SET lease_run_id = :r, lease_until = :u, last_status = :s, last_run_id = :r",
        ExpressionAttributeValues={":r": {"S": "run_x"}, ":u": {"N": "99999999999999"}, ":s": {"S": "ok"}},
    )
    status, body = api.call(
        "PATCH", f"/v1/tasks/{task['id']}", body={"name": "renamed", "schedule": "0 6 * * *"}
    )
    assert status == 200
    item = aws.dynamodb.get_item(TableName=aws.env["TASKS_TABLE"], Key=key)["Item"]
    assert item["lease_run_id"]["S"] == "run_x" and item["lease_until"]["N"] == "99999999999999"
    assert item["name"]["S"] == "renamed"
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"]["state"]["last_status"] == "ok"


def test_a_concurrent_change_is_a_409(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    key = {"pk": {"S": "tenant-a"}, "sk": {"S": task["id"]}}
    bump = {
        "TableName": aws.env["TASKS_TABLE"],
        "Key": key,
        "UpdateExpression": "ADD version :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }

    def changed_meanwhile(**_):
        aws.dynamodb.meta.events.unregister("before-call.dynamodb.UpdateItem", changed_meanwhile)
        aws.dynamodb.update_item(**bump)

    aws.dynamodb.meta.events.register("before-call.dynamodb.UpdateItem", changed_meanwhile)
    status, body = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"name": "mine"})
    assert status == 409 and body["error"]["type"] == "conflict_error"
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"]["name"] == SEED["name"]


def test_every_schedule_starts_where_next_run_at_counts_from(api, aws):
    status, body = api.call("POST", "/v1/tasks", body={**SEED, "schedule": {"type": "every", "minutes": 15}})
    assert status == 201, body
    task = body["task"]
    assert task["schedule"]["type"] == "every" and task["schedule"]["minutes"] == 15
    (schedule,) = schedules(aws).values()
    assert schedule["ScheduleExpression"] == "rate(15 minutes)"
    start = schedule["StartDate"].astimezone(UTC)
    assert iso(start) == task["state"]["next_run_at"]  # the first fire is the start


def test_at_schedule_deletes_itself_after_running(api, aws):
    at = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    status, body = api.call("POST", "/v1/tasks", body={**SEED, "schedule": {"type": "at", "at": iso(at)}})
    assert status == 201, body
    (schedule,) = schedules(aws).values()
    assert schedule["ScheduleExpression"].startswith("at(") and schedule["ActionAfterCompletion"] == "DELETE"
    assert body["task"]["state"]["next_run_at"] == iso(at)
    past = {"type": "at", "at": "2020-01-01T00:00:00Z"}
    status, body = api.call("POST", "/v1/tasks", body={**SEED, "schedule": past})
    assert status == 400 and body["error"]["param"] == "schedule"
