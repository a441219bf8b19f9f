"""How the API starts a run now: hand the executor its event, asynchronously."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.dal.shards import ExecutorTargets
from heartbeat.errors import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class RunInvoker(Protocol):
    """Deliver one executor event without waiting for the run. Raises `DependencyError` when the
    event could not be handed over."""

    def invoke(self, event: Mapping[str, Any]) -> None: ...


class LambdaInvoker:
    """AWS: an asynchronous (`InvocationType=Event`) invoke of the executor function, so Lambda
    queues it and retries it like a scheduled delivery. With several executor functions, the
    event goes to its tenant's shard, the one the tenant's schedules target."""

    def __init__(self, client: LambdaClient, executors: str | ExecutorTargets) -> None:
        self._client = client
        self._executors = ExecutorTargets.parse([executors]) if isinstance(executors, str) else executors

    def invoke(self, event: Mapping[str, Any]) -> None:
        try:
            response = self._client.invoke(
                FunctionName=self._executors.for_tenant(str(event.get("tenant_id", ""))),
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
