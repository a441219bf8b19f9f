"""Failures injected at the AWS boundary never leave a task row without its schedule(s) or a
schedule without its row."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support.api import ApiClient

SEED = {"name": "n", "prompt": "p", "schedule": "0 18 * * *"}


class Faults:
    """Make chosen AWS operations fail, at the botocore boundary, a given number of times."""

    def __init__(self) -> None:
        self.remaining: dict[str, int] = {}

    def fail(self, operation: str, times: int = 1) -> None:
        self.remaining[operation] = times

    def __call__(self, model, **_):
        name = model.name
        if self.remaining.get(name, 0) > 0:
            self.remaining[name] -= 1
            raise ClientError({"Error": {"Code": "InternalServerException", "Message": "injected"}}, name)


@pytest.fixture
def faults(aws):
    faults = Faults()
    aws.scheduler.meta.events.register("before-call.scheduler", faults)
    aws.dynamodb.meta.events.register("before-call.dynamodb", faults)
    return faults


@pytest.fixture
def api(aws):
    return ApiClient(aws)


def schedules(aws):
    group = aws.names.schedule_group
    found = {
        s["Name"]: aws.scheduler.get_schedule(Name=s["Name"], GroupName=group)
        for s in aws.scheduler.list_schedules(GroupName=group)["Schedules"]
    }
    return {
        n: {k: v for k, v in s.items() if k not in ("ResponseMetadata", "LastModificationDate")}
        for n, s in found.items()
    }


def test_failed_create_schedule_leaves_no_row(api, aws, faults):
    faults.fail("CreateSchedule")
    status, body = api.call("POST", "/v1/tasks", body=SEED)
    assert status == 500 and body["error"]["type"] == "api_error"
    assert api.call("GET", "/v1/tasks")[1] == {"tasks": [], "total": 0, "next_cursor": None}
    assert schedules(aws) == {}


def test_failed_second_schedule_removes_the_first(api, aws):
    calls = {"n": 0}

    def second_fails(model, **_):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ClientError(
                {"Error": {"Code": "InternalServerException", "Message": "x"}}, "CreateSchedule"
            )

    aws.scheduler.meta.events.register("before-call.scheduler.CreateSchedule", second_fails)
    status, _ = api.call("POST", "/v1/tasks", body={**SEED, "schedule": "0 9 1 * 1"})
    assert status == 500
    assert schedules(aws) == {} and api.call("GET", "/v1/tasks")[1]["total"] == 0


def test_failed_row_write_removes_the_schedule(api, aws, faults):
    faults.fail("TransactWriteItems")
    status, _ = api.call("POST", "/v1/tasks", body=SEED)
    assert status == 500
    assert schedules(aws) == {} and api.call("GET", "/v1/tasks")[1]["total"] == 0


def test_failed_update_schedule_keeps_old_task_and_schedule(api, aws, faults):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    before = schedules(aws)
    faults.fail("UpdateSchedule")
    status, _ = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 6 * * *", "name": "new"})
    assert status == 500
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"] == task
    assert schedules(aws) == before


def test_failed_row_update_puts_the_old_schedule_back(api, aws, faults):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    before = {n: s["ScheduleExpression"] for n, s in schedules(aws).items()}
    faults.fail("UpdateItem")
    status, _ = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 6 * * *"})
    assert status == 500
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"] == task
    assert {n: s["ScheduleExpression"] for n, s in schedules(aws).items()} == before


def test_failed_growth_to_two_schedules_rolls_back_to_one(api, aws, faults):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    faults.fail("UpdateItem")
    status, _ = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 9 1 * 1"})
    assert status == 500
    assert [s["ScheduleExpression"] for s in schedules(aws).values()] == ["cron(0 18 * * ? *)"]


def test_delete_failing_half_way_completes_on_retry(api, aws, faults):
    task = api.call("POST", "/v1/tasks", body={**SEED, "schedule": "0 9 1 * 1"})[1]["task"]
    faults.fail("TransactWriteItems")
    assert api.call("DELETE", f"/v1/tasks/{task['id']}")[0] == 500
    assert api.call("GET", f"/v1/tasks/{task['id']}")[0] == 200  # the row is still there to retry
    assert api.call("DELETE", f"/v1/tasks/{task['id']}") == (200, {"ok": True, "id": task["id"]})
    assert schedules(aws) == {} and api.call("GET", "/v1/tasks")[1]["total"] == 0
