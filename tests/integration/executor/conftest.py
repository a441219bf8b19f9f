"""The executor against moto: tasks created through the real API, the real agent loop and memory,
and a scripted model at the LLM boundary. Time is an injectable clock.

moto runs as a server that answers one request at a time, so each DynamoDB call is atomic as it
is in AWS, while the executor's threads really run at once. (moto in-process is not: two threads'
conditional writes can both pass, and a cancelled transaction restores whole tables over the
other threads' writes.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from heartbeat.dal.runs import RunsTable
from heartbeat.dal.task_state import TaskSnapshot, TaskStateTable
from heartbeat.executor.config import ExecutorConfig
from heartbeat.executor.core import Executor, Outcome
from heartbeat.executor.handler import ExecutorClients, build_executor
from heartbeat.executor.runner import AgentSoulRunner
from heartbeat.models.run import Run
from heartbeat.soul.resolve import SoulSettings
from heartbeat.soul.types import ModelRequest, ModelResponse, Usage
from heartbeat.timeutil import iso
from support.api import ApiClient

T0 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class ScriptedModel:
    """A `Model` at the LLM boundary: answers with `reply(request)`, or raises what it returns
    when that is an exception. Records every request and how many calls run at once."""

    name = "test/scripted"

    def __init__(self) -> None:
        self.reply: Callable[[ModelRequest], Any] = lambda request: (
            f"answer to: {request.messages[-1].content}"
        )
        self.requests: list[ModelRequest] = []
        self.active = 0
        self.max_active: dict[str, int] = {}
        self._lock = threading.Lock()

    def complete(self, request: ModelRequest) -> ModelResponse:
        prompt = request.messages[-1].content
        group = prompt.split(":", 1)[0]
        with self._lock:
            self.requests.append(request)
            self.active += 1
            self.max_active[group] = max(self.max_active.get(group, 0), self.active)
        try:
            answer = self.reply(request)
        finally:
            with self._lock:
                self.active -= 1
        if isinstance(answer, BaseException):
            raise answer
        return ModelResponse(text=answer, usage=Usage(input_tokens=12, output_tokens=7))


@dataclass
class Harness:
    aws: Any
    clock: Clock
    model: ScriptedModel
    executor: Executor
    api: ApiClient
    t0: datetime = T0

    def create_task(self, tenant: str = "tenant-a", **fields: Any) -> str:
        body = {"name": "t", "prompt": "p: say hello", "schedule": "0 18 * * *", **fields}
        status, answer = self.api.call("POST", "/v1/tasks", body=body, tenant=tenant)
        assert status == 201, answer
        return str(answer["task"]["id"])

    def deliver(self, task_id: str, slot: datetime = T0, tenant: str = "tenant-a", **extra: Any) -> Outcome:
        event = {
            "tenant_id": tenant,
            "task_id": task_id,
            "scheduled_time": iso(slot).replace(".000", ""),
            **extra,
        }
        return self.executor.handle(event, executor_arn=self.aws.env["EXECUTOR_ARN"])

    def runs(self, task_id: str, tenant: str = "tenant-a") -> list[Run]:
        runs, _ = RunsTable(self.aws.dynamodb, self.aws.env["RUNS_TABLE"]).page(tenant, task_id, 100, None)
        return runs

    def task(self, task_id: str, tenant: str = "tenant-a") -> TaskSnapshot:
        snapshot = TaskStateTable(self.aws.dynamodb, self.aws.env["TASKS_TABLE"]).load(tenant, task_id)
        assert snapshot is not None
        return snapshot

    def schedule_states(self, prefix: str = "hb-") -> dict[str, str]:
        group = self.aws.names.schedule_group
        listed = self.aws.scheduler.list_schedules(GroupName=group)["Schedules"]
        return {s["Name"]: s["State"] for s in listed if s["Name"].startswith(prefix)}


def make_harness(aws: Any, clock: Clock | None = None, **env: str) -> Harness:
    environment = {**aws.env, "HEARTBEAT_MODEL_MAX_ATTEMPTS": "1", **env}
    clock = clock or Clock(T0)
    model = ScriptedModel()
    soul = AgentSoulRunner(
        SoulSettings.from_env(environment),
        memory_client=aws.dynamodb,
        memory_table=environment["MEMORY_TABLE"],
        resolve=lambda name: model,
    )
    executor = build_executor(
        ExecutorConfig.from_env(environment),
        ExecutorClients(dynamodb=aws.dynamodb, scheduler=aws.scheduler, s3=aws.s3),
        soul=soul,
        clock=clock,
    )
    return Harness(aws=aws, clock=clock, model=model, executor=executor, api=ApiClient(aws))


@dataclass
class ServedAws:
    dynamodb: Any
    scheduler: Any
    s3: Any
    sqs: Any
    lambda_: Any
    names: Any
    env: dict[str, str]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    server = make_server(
        "127.0.0.1",
        0,
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[ServedAws]:
    """Like the shared `aws` fixture, against the one-request-at-a-time moto server."""
    import urllib.request

    import boto3
    from botocore.config import Config

    from heartbeat_cli.local.resources import StackNames, provision

    urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10
    )
    config = Config(max_pool_connections=50, retries={"max_attempts": 1})

    def client(service: Any) -> Any:
        return boto3.client(service, endpoint_url=moto_endpoint, region_name="us-east-1", config=config)

    names = StackNames()
    clients = {name: client(name) for name in ("dynamodb", "scheduler", "s3", "sqs")}
    provision(**clients, names=names)
    yield ServedAws(**clients, lambda_=client("lambda"), names=names, env=names.environment())


@pytest.fixture
def harness(aws: Any) -> Harness:
    return make_harness(aws)


@pytest.fixture
def harness_with(aws: Any) -> Callable[..., Harness]:
    """A harness with environment overrides: `harness_with(MAX_CONSECUTIVE_ERRORS="3")`."""
    return lambda **env: make_harness(aws, **env)
