"""POST /v1/tasks/{id}/run and GET /v1/tasks/{id}/runs through the api handler against moto,
with run-now handed to the executor in process (as the local stack does)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.stub import Stubber

from heartbeat.api.config import ApiConfig
from heartbeat.api.deps import AwsClients, Services
from heartbeat.api.handler import ApiHandler
from heartbeat.errors import DependencyError
from heartbeat.executor.config import ExecutorConfig
from heartbeat.executor.handler import ExecutorClients, build_executor
from heartbeat.executor.runner import AgentSoulRunner
from heartbeat.runs.invoker import LambdaInvoker
from heartbeat.soul.resolve import SoulSettings
from heartbeat.soul.types import ModelRequest, ModelResponse, Usage
from support.api import LambdaContext, http_event

SEED = {"name": "daily", "prompt": "Summarise the day.", "schedule": "0 18 * * *"}


class EchoModel:
    name = "test/echo"

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        return ModelResponse(text=f"summary #{self.calls}", usage=Usage(input_tokens=3, output_tokens=2))


class InProcessInvoker:
    """Runs the executor right away, in this process: the shape of the local stack's invoker."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.events: list[Mapping[str, Any]] = []

    def invoke(self, event: Mapping[str, Any]) -> None:
        self.events.append(event)
        self.executor.handle(event)


class Api:
    def __init__(self, aws: Any, invoker: Any) -> None:
        config = ApiConfig.from_env(aws.env)
        clients = AwsClients(dynamodb=aws.dynamodb, scheduler=aws.scheduler, lambda_=aws.lambda_)
        self.handler = ApiHandler(lambda: Services(config, clients, invoker=invoker))

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = self.handler(http_event(method, path, **kwargs), LambdaContext())
        return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def model() -> EchoModel:
    return EchoModel()


@pytest.fixture
def invoker(aws, model) -> InProcessInvoker:
    soul = AgentSoulRunner(
        SoulSettings.from_env(aws.env),
        memory_client=aws.dynamodb,
        memory_table=aws.env["MEMORY_TABLE"],
        resolve=lambda name: model,
    )
    executor = build_executor(
        ExecutorConfig.from_env(aws.env),
        ExecutorClients(dynamodb=aws.dynamodb, scheduler=aws.scheduler, s3=aws.s3),
        soul=soul,
    )
    return InProcessInvoker(executor)


@pytest.fixture
def api(aws, invoker) -> Api:
    return Api(aws, invoker)


def create(api: Api, tenant: str = "tenant-a") -> str:
    status, body = api.call("POST", "/v1/tasks", body=SEED, tenant=tenant)
    assert status == 201
    return str(body["task"]["id"])


def test_run_now_answers_202_with_the_run_and_runs_it_under_the_executor(api, invoker) -> None:
    task_id = create(api)
    status, body = api.call("POST", f"/v1/tasks/{task_id}/run")
    assert status == 202
    run = body["run"]
    assert run["id"].startswith("run_") and run["task_id"] == task_id and run["trigger"] == "manual"
    assert invoker.events == [
        {
            "tenant_id": "tenant-a",
            "task_id": task_id,
            "scheduled_time": run["scheduled_at"],
            "trigger": "manual",
            "run_id": run["id"],
        }
    ]
    # the in-process invoker ran it before the answer: it is finished
    assert run["status"] == "ok" and run["output"] == "summary #1"
    assert run["usage"]["input_tokens"] == 3 and run["error"] is None and run["output_truncated"] is False

    status, body = api.call("GET", f"/v1/tasks/{task_id}")
    assert body["task"]["state"]["last_run_id"] == run["id"] and body["task"]["state"]["last_status"] == "ok"


def test_runs_are_listed_newest_first_a_page_at_a_time(api) -> None:
    task_id = create(api)
    ids = [api.call("POST", f"/v1/tasks/{task_id}/run")[1]["run"]["id"] for _ in range(3)]
    status, body = api.call("GET", f"/v1/tasks/{task_id}/runs", query={"limit": "2"})
    assert status == 200
    assert [r["id"] for r in body["runs"]] == [ids[2], ids[1]]
    assert [r["output"] for r in body["runs"]] == ["summary #3", "summary #2"]
    status, body = api.call(
        "GET", f"/v1/tasks/{task_id}/runs", query={"limit": "2", "cursor": body["next_cursor"]}
    )
    assert [r["id"] for r in body["runs"]] == [ids[0]] and body["next_cursor"] is None


def test_a_task_without_runs_lists_none(api) -> None:
    task_id = create(api)
    assert api.call("GET", f"/v1/tasks/{task_id}/runs") == (200, {"runs": [], "next_cursor": None})


def test_another_tenants_task_is_not_found_for_both_routes(api, invoker) -> None:
    task_id = create(api, tenant="tenant-a")
    api.call("POST", f"/v1/tasks/{task_id}/run")
    for method, path in (("POST", f"/v1/tasks/{task_id}/run"), ("GET", f"/v1/tasks/{task_id}/runs")):
        status, body = api.call(method, path, tenant="tenant-b")
        assert status == 404 and body["error"]["type"] == "not_found_error"
    assert len(invoker.events) == 1


def test_scopes_read_lists_write_runs(api) -> None:
    task_id = create(api)
    status, body = api.call("POST", f"/v1/tasks/{task_id}/run", scopes=("config.read",))
    assert status == 403 and "config.write" in body["error"]["message"]
    status, _ = api.call("GET", f"/v1/tasks/{task_id}/runs", scopes=("config.write",))
    assert status == 403


def test_run_now_while_a_run_holds_the_task_is_a_conflict(aws, api) -> None:
    task_id = create(api)
    aws.dynamodb.update_item(
        TableName=aws.env["TASKS_TABLE"],
        Key={"pk": {"S": "tenant-a"}, "sk": {"S": task_id}},
        UpdateExpression="SET lease_until = :u, lease_run_id = :r",
        ExpressionAttributeValues={
            ":u": {"N": "99999999999999"},
            ":r": {"S": "run_01jdqm5v0n8g2x3k4y5z6a7b8c"},
        },
    )
    status, body = api.call("POST", f"/v1/tasks/{task_id}/run")
    assert status == 409 and "run_01jdqm5v0n8g2x3k4y5z6a7b8c" in body["error"]["message"]


def test_a_run_that_could_not_be_handed_over_is_recorded_failed_and_answers_500(aws) -> None:
    import boto3

    lambda_client = boto3.client("lambda")
    stubber = Stubber(lambda_client)
    stubber.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
    api = Api(aws, LambdaInvoker(lambda_client, aws.env["EXECUTOR_ARN"]))
    task_id = create(api)
    with stubber:
        status, body = api.call("POST", f"/v1/tasks/{task_id}/run")
    assert (
        status == 500
        and "executor could not be invoked (TooManyRequestsException)" in body["error"]["message"]
    )
    _, listed = api.call("GET", f"/v1/tasks/{task_id}/runs")
    (run,) = listed["runs"]
    assert run["status"] == "error" and "could not be invoked" in run["error"]


def test_lambda_invoker_sends_an_asynchronous_invoke() -> None:
    import boto3

    client = boto3.client("lambda", region_name="us-east-1")
    stubber = Stubber(client)
    event = {
        "tenant_id": "t",
        "task_id": "cron_x",
        "scheduled_time": "2026-11-23T18:00:00.000Z",
        "run_id": "run_1",
    }
    stubber.add_response(
        "invoke",
        {"StatusCode": 202},
        {
            "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:x",
            "InvocationType": "Event",
            "Payload": json.dumps(event).encode(),
        },
    )
    with stubber:
        LambdaInvoker(client, "arn:aws:lambda:us-east-1:123456789012:function:x").invoke(event)
    stubber.assert_no_pending_responses()
    stubber.add_response("invoke", {"StatusCode": 200})
    with stubber, pytest.raises(DependencyError):
        LambdaInvoker(client, "arn:aws:lambda:us-east-1:123456789012:function:x").invoke(event)
