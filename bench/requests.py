"""AWS requests per API operation, counted with botocore's event hooks against moto, and what
they cost per million operations at published on-demand prices (us-east-1)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

# Published on-demand prices, us-east-1, USD (checked 2026-11). Estimates: a read or write is
# taken as one request unit (items are under 1 KB/4 KB); a transaction costs 2 units per item.
PRICES = {
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "scheduler_invocation": 1.00 / 1e6,  # scheduler API calls themselves are not charged
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "http_api_request": 1.00 / 1e6,
}
DYNAMO_WRITES = {
    "PutItem": 1,
    "UpdateItem": 1,
    "DeleteItem": 1,
    "TransactWriteItems": 4,
    "BatchWriteItem": 25,
}
DYNAMO_READS = {"GetItem": 1, "Query": 1, "Scan": 1, "BatchGetItem": 1}
# run_overhead: issue 8's five; the task's read became one BatchGetItem that also brings the tenant's
# #meta (webhook subscriptions, budget override) and today's usage, so budgets cost no extra request.
BUDGETS = {"create": 3, "get": 1, "list_page": 2, "delete": 3, "run_overhead": 5}


class RequestCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def attach(self, *clients: Any) -> None:
        # before-parameter-build fires once per API call, ahead of any handler (moto's or a
        # Stubber's) that answers it.
        for client in clients:
            client.meta.events.register("before-parameter-build", self)

    def take(self) -> dict[str, int]:
        calls = dict(self.calls)
        self.calls.clear()
        return calls


def cost_per_million(calls: dict[str, int], *, lambda_ms: float = 100.0, memory_mb: int = 512) -> float:
    """Dollars per million operations: AWS requests, plus the Lambda invocation and HTTP API request."""
    dollars = 0.0
    for key, count in calls.items():
        service, operation = key.split(":")
        if service == "dynamodb":
            dollars += count * DYNAMO_WRITES.get(operation, 0) * PRICES["dynamodb_write_unit"]
            dollars += count * DYNAMO_READS.get(operation, 0) * PRICES["dynamodb_read_unit"]
        elif (service, operation) == ("lambda", "Invoke"):
            dollars += count * PRICES["lambda_request"]  # the executor's own run is priced apart
    dollars += PRICES["lambda_request"] + PRICES["http_api_request"]
    dollars += (lambda_ms / 1000) * (memory_mb / 1024) * PRICES["lambda_gb_second_arm64"]
    return round(dollars * 1e6, 2)


def _api_caller(env: dict[str, str], clients: dict[str, Any]) -> Callable[..., tuple[int, Any]]:
    from heartbeat.api.config import ApiConfig
    from heartbeat.api.deps import AwsClients, Services
    from heartbeat.api.handler import ApiHandler

    config = ApiConfig.from_env(env)
    handler = ApiHandler(lambda: Services(config, AwsClients(**clients)))

    def call(
        method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        event = {
            "version": "2.0",
            "routeKey": f"{method} {path}",
            "rawPath": path,
            "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
            "queryStringParameters": query,
            "headers": {"content-type": "application/json"},
            "requestContext": {
                "http": {"method": method, "path": path},
                "requestId": "bench",
                "stage": "$default",
                "authorizer": {
                    "lambda": {"tenant_id": "bench", "key_id": "k", "scopes": "config.read config.write"}
                },
            },
            "body": json.dumps(body) if body is not None else None,
            "isBase64Encoded": False,
        }
        response = handler(event, None)
        return response["statusCode"], json.loads(response["body"])

    return call


def measure() -> dict[str, Any]:
    import boto3
    from botocore.stub import Stubber
    from moto import mock_aws

    from heartbeat_cli.local.resources import StackNames, provision

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    with mock_aws():
        names = StackNames()
        clients = {s: boto3.client(s) for s in ("dynamodb", "scheduler", "s3", "sqs")}
        provision(**clients, names=names)
        api_clients = {
            "dynamodb": clients["dynamodb"],
            "scheduler": clients["scheduler"],
            "lambda_": boto3.client("lambda"),
        }
        counter = RequestCounter()
        counter.attach(*api_clients.values())
        call = _api_caller(names.environment(), api_clients)
        seed = {"name": "bench", "prompt": "Summarise.", "schedule": "0 18 * * *"}
        for i in range(3):
            call("POST", "/v1/tasks", {**seed, "name": f"warm{i}"})
        counter.take()
        ops: dict[str, dict[str, int]] = {}
        status, body = call("POST", "/v1/tasks", seed)
        ops["create"] = counter.take()
        task_id = body["task"]["id"]
        call("GET", f"/v1/tasks/{task_id}")
        ops["get"] = counter.take()
        call("GET", "/v1/tasks", query={"limit": "2"})
        ops["list_page"] = counter.take()
        call("PATCH", f"/v1/tasks/{task_id}", {"name": "renamed"})
        ops["update_fields"] = counter.take()
        call("PATCH", f"/v1/tasks/{task_id}", {"schedule": "0 6 * * *"})
        ops["update_schedule"] = counter.take()
        status, body = call("POST", "/v1/tasks", {**seed, "name": "run-now"})
        counter.take()
        with Stubber(api_clients["lambda_"]) as lambda_stub:
            # moto cannot run the executor's code; the invoke itself is answered at the boundary.
            lambda_stub.add_response("invoke", {"StatusCode": 202})
            status, _ = call("POST", f"/v1/tasks/{body['task']['id']}/run")
        ops["run_now"] = counter.take()
        assert status == 202, f"run-now answered {status}"
        call("DELETE", f"/v1/tasks/{task_id}")
        ops["delete"] = counter.take()
    return {
        op: {
            "requests": sum(calls.values()),
            "by_operation": calls,
            "budget": BUDGETS.get(op),
            "within_budget": BUDGETS.get(op) is None or sum(calls.values()) <= BUDGETS[op],
            "usd_per_million": cost_per_million(calls),
        }
        for op, calls in ops.items()
    }
