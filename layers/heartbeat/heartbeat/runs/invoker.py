"""How the API starts a run now: hand the executor its event, asynchronously."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.errors import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class RunInvoker(Protocol):
    """Deliver one executor event without waiting for the run. Raises `DependencyError` when the
    event could not be handed over."""

    def invoke(self, event: Mapping[str, Any]) -> None: ...


class LambdaInvoker:
    """AWS: an asynchronous (`InvocationType=Event`) invoke of the executor function, so Lambda
    queues it and retries it like a scheduled delivery."""

    def __init__(self, client: LambdaClient, function_arn: str) -> None:
        self._client = client
        self._function_arn = function_arn

    def invoke(self, event: Mapping[str, Any]) -> None:
        try:
            response = self._client.invoke(
                FunctionName=self._function_arn,
                InvocationType="Event",
                Payload=json.dumps(dict(event)).encode(),
            )
        except AWS_ERRORS as exc:
            raise DependencyError(
                f"starting the run failed: the executor could not be invoked ({error_code(exc)})"
            ) from exc
        if response.get("StatusCode") != 202:
            raise DependencyError(
                f"starting the run failed: the executor answered {response.get('StatusCode')} instead of 202"
            )
