"""Drive the api and authorizer handlers with API Gateway (HTTP API, payload 2.0) events."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
ALL_SCOPES = ("config.read", "config.write", "memory.read", "memory.write")


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py as Lambda would (each function has its own app.py)."""
    spec = importlib.util.spec_from_file_location(f"function_{name}", ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    function_name = "heartbeat-test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:heartbeat-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    tenant: str | None = "tenant-a",
    scopes: tuple[str, ...] = ALL_SCOPES,
    base64_body: bool = False,
) -> dict[str, Any]:
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "authorization": "Bearer hb_test_x"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": "req-1",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "22/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795000000000,
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = query
    if tenant is not None:
        event["requestContext"]["authorizer"] = {
            "lambda": {"tenant_id": tenant, "scopes": " ".join(scopes), "key_id": "key_test"}
        }
    if text is not None:
        event["body"] = base64.b64encode(text.encode()).decode() if base64_body else text
    return event


class ApiClient:
    """Calls the api handler in process, as API Gateway would after the authorizer allowed."""

    def __init__(self, aws: Any, **env: str) -> None:
        from heartbeat.api.config import ApiConfig
        from heartbeat.api.deps import AwsClients, Services
        from heartbeat.api.handler import ApiHandler

        config = ApiConfig.from_env({**aws.env, **env})
        clients = AwsClients(dynamodb=aws.dynamodb, scheduler=aws.scheduler, lambda_=aws.lambda_)
        self.handler = ApiHandler(lambda: Services(config, clients, env={**aws.env, **env}))

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = self.handler(http_event(method, path, **kwargs), LambdaContext())
        body = response.get("body")
        return response["statusCode"], (json.loads(body) if body else None)
