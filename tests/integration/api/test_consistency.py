"""Failures injected at the AWS boundary never leave a task row without its schedule(s) or a
schedule without its row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from support.api import ApiClient

SEED = {"name": "n", "prompt": "p", "schedule": "0 18 * * *"}


def server_error(operation: str) -> Exception:
    return ClientError({"Error": {"Code": "InternalServerException", "Message": "injected"}}, operation)


def unreachable(operation: str) -> Exception:
    return EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")


def timed_out(operation: str) -> Exception:
    return ReadTimeoutError(endpoint_url="https://scheduler.us-east-1.amazonaws.com")


# AWS answering with an error, and AWS not answering at all (botocore gave up after its retries).
FAILURES = pytest.mark.parametrize("failure", [server_error, unreachable, timed_out])


class Faults:
    """Make chosen AWS operations fail, at the botocore boundary, a given number of times."""

    def __init__(self) -> None:
        self.remaining: dict[str, int] = {}
        self.error = server_error

    def fail(self, operation: str, times: int = 1, error=None) -> None:
        self.remaining[operation] = times
        if error is not None:
            self.error = error

    def __call__(self, model, **_):
        name = model.name
        if self.remaining.get(name, 0) > 0:
            self.remaining[name] -= 1
            raise self.error(name)


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


@FAILURES
def test_failed_create_schedule_leaves_no_row(api, aws, faults, failure):
    faults.fail("CreateSchedule", error=failure)
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


@FAILURES
def test_failed_row_write_removes_the_schedule(api, aws, faults, failure):
    faults.fail("TransactWriteItems", error=failure)
    status, _ = api.call("POST", "/v1/tasks", body=SEED)
    assert status == 500
    assert schedules(aws) == {} and api.call("GET", "/v1/tasks")[1]["total"] == 0


@FAILURES
def test_failed_update_schedule_keeps_old_task_and_schedule(api, aws, faults, failure):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    before = schedules(aws)
    faults.fail("UpdateSchedule", error=failure)
    status, _ = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 6 * * *", "name": "new"})
    assert status == 500
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"] == task
    assert schedules(aws) == before


@FAILURES
def test_failed_row_update_puts_the_old_schedule_back(api, aws, faults, failure):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    before = {n: s["ScheduleExpression"] for n, s in schedules(aws).items()}
    faults.fail("UpdateItem", error=failure)
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


@FAILURES
def test_a_failed_delete_leaves_the_task_whole_and_a_retry_completes(api, aws, faults, failure):
    task = api.call("POST", "/v1/tasks", body={**SEED, "schedule": "0 9 1 * 1"})[1]["task"]
    before = schedules(aws)
    faults.fail("TransactWriteItems", error=failure)
    assert api.call("DELETE", f"/v1/tasks/{task['id']}")[0] == 500
    assert api.call("GET", f"/v1/tasks/{task['id']}") == (200, {"task": task})
    assert schedules(aws) == before  # never a row without its schedules
    assert api.call("DELETE", f"/v1/tasks/{task['id']}") == (200, {"ok": True, "id": task["id"]})
    assert schedules(aws) == {} and api.call("GET", "/v1/tasks")[1]["total"] == 0


def test_a_schedule_that_outlives_a_delete_is_removed_when_it_fires(api, aws, faults):
    from heartbeat.dal.retry_schedules import OrphanJanitor

    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    faults.fail("DeleteSchedule", error=unreachable)
    assert api.call("DELETE", f"/v1/tasks/{task['id']}") == (200, {"ok": True, "id": task["id"]})
    assert api.call("GET", f"/v1/tasks/{task['id']}")[0] == 404
    (left,) = schedules(aws)
    # what the executor does when that schedule fires for a task that no longer exists
    janitor = OrphanJanitor(
        aws.scheduler,
        aws.names.schedule_group,
        clock=lambda: datetime.now(UTC) + timedelta(minutes=10),
    )
    assert janitor.sweep("tenant-a", task["id"]) == [left]
    assert schedules(aws) == {}


def test_a_patch_that_loses_a_race_leaves_the_winners_schedule(api, aws):
    task = api.call("POST", "/v1/tasks", body=SEED)[1]["task"]
    raced: list = []

    def winner_first(model, **_):
        if not raced:  # the loser read the task and wrote its schedule; the winner now commits
            raced.append("winner")
            raced.append(api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 3 * * *"}))

    aws.dynamodb.meta.events.register("before-call.dynamodb.UpdateItem", winner_first)
    status, body = api.call("PATCH", f"/v1/tasks/{task['id']}", body={"schedule": "0 2 * * *"})
    aws.dynamodb.meta.events.unregister("before-call.dynamodb.UpdateItem", winner_first)
    assert raced[1][0] == 200
    assert status == 409 and body["error"]["type"] == "conflict_error"
    assert api.call("GET", f"/v1/tasks/{task['id']}")[1]["task"]["schedule"]["expression"] == "0 3 * * *"
    assert [s["ScheduleExpression"] for s in schedules(aws).values()] == ["cron(0 3 * * ? *)"]
