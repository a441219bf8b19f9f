"""The api function's entry: the resolver plus the services it injects into every request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from heartbeat.api.app import build_resolver
from heartbeat.api.body import utf8_problem
from heartbeat.api.config import ApiConfig
from heartbeat.api.deps import AwsClients, Services


def default_services() -> Services:
    return Services(ApiConfig.from_env(), AwsClients.default())


class ApiHandler:
    """Builds the services on the first request (config read once, clients reused while the
    container lives) and passes them to the routes through the resolver's context."""

    def __init__(self, services_factory: Callable[[], Services], logger: Logger | None = None) -> None:
        self._resolver = build_resolver(logger)
        self._factory = services_factory
        self._services: Services | None = None

    @property
    def resolver(self) -> Any:
        return self._resolver

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self._services is None:
            self._services = self._factory()
        problem = utf8_problem(event)
        if problem is not None:  # before routing: Powertools would fail decoding it (a 500)
            return {
                "statusCode": 400,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(
                    {"error": {"type": "invalid_request_error", "message": problem, "param": None}}
                ),
                "isBase64Encoded": False,
            }
        self._resolver.append_context(services=self._services)
        return self._resolver.resolve(event, context)
