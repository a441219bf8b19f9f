"""The API and the executor over moto for the tools' tests: the real handlers, the offline model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heartbeat.executor.config import ExecutorConfig
from heartbeat.executor.core import Executor, Outcome
from heartbeat.executor.handler import ExecutorClients, build_executor
from heartbeat.models.run import Run
from support.api import ApiClient


@dataclass
class Stack:
    aws: Any
    api: ApiClient
    executor: Executor
    secrets: Any
    invoker: Any

    def create_task(self, tenant: str = "tenant-a", **fields: Any) -> dict[str, Any]:
        body = {"name": "monitor", "prompt": "say hello", "schedule": "0 18 * * *", **fields}
        status, answer = self.api.call("POST", "/v1/tasks", body=body, tenant=tenant)
        assert status == 201, answer
        return answer["task"]

    def run(self, task_id: str, tenant: str = "tenant-a") -> Run:
        status, answer = self.api.call("POST", f"/v1/tasks/{task_id}/run", tenant=tenant)
        assert status == 202, answer
        event = self.invoker.events.pop()
        assert event["run_id"] == answer["run"]["id"]
        outcome: Outcome = self.executor.handle(event, executor_arn=self.aws.env["EXECUTOR_ARN"])
        assert outcome.run is not None, outcome
        return outcome.run

    def runs_api(self, task_id: str, tenant: str = "tenant-a") -> list[dict[str, Any]]:
        status, answer = self.api.call("GET", f"/v1/tasks/{task_id}/runs", tenant=tenant)
        assert status == 200, answer
        return answer["runs"]


class _Invoker:
    """Run-now's asynchronous invoke: keeps the event, which the test hands to the executor."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: Any) -> None:
        self.events.append(dict(event))


def make_stack(aws: Any, *, bedrock_runtime: Any = None, **env: str) -> Stack:
    import boto3

    from heartbeat.api.config import ApiConfig
    from heartbeat.api.deps import AwsClients, Services
    from heartbeat.api.handler import ApiHandler

    environment = {**aws.env, **env}
    secrets = boto3.client("secretsmanager")
    api = ApiClient(aws)
    config = ApiConfig.from_env(environment)
    clients = AwsClients(
        dynamodb=aws.dynamodb, scheduler=aws.scheduler, lambda_=aws.lambda_, secretsmanager=secrets
    )
    invoker = _Invoker()
    api.handler = ApiHandler(lambda: Services(config, clients, invoker, env=environment))  # type: ignore[arg-type]
    executor = build_executor(
        ExecutorConfig.from_env(environment),
        ExecutorClients(
            dynamodb=aws.dynamodb,
            scheduler=aws.scheduler,
            s3=aws.s3,
            secretsmanager=secrets,
            bedrock_runtime=bedrock_runtime,
        ),
        env=environment,
    )
    return Stack(aws=aws, api=api, executor=executor, secrets=secrets, invoker=invoker)
