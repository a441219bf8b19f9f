"""The `Idempotency-Key` header on POST /v1/tasks and POST /v1/tasks/{id}/run, with Powertools'
Idempotency utility over a DynamoDB table (docs/decisions/2026-12-01-idempotency-key.md):

- the same key from the same tenant within 24 hours answers the first request's answer (status
  and body) and does no new work;
- the same key with a different request (another body, another task, another route) is a 422
  `idempotency_error`; while the first request is still in progress, a 409;
- a request that fails is not remembered: sending it again with its key runs it again.

Keys are scoped per tenant (the tenant is part of the hashed key), so two tenants' keys never meet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from heartbeat.errors import ConflictError, DependencyError, IdempotencyKeyReusedError, InvalidRequestError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HEADER = "Idempotency-Key"
EXPIRES_AFTER_SECONDS = 24 * 60 * 60
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII without spaces, as Stripe's

Answer = tuple[int, dict[str, Any]]


class IdempotentRequests:
    def __init__(self, client: DynamoDBClient, table_name: str | None) -> None:
        self._client = client
        self._table = table_name
        self._store: Any = None

    def answer(
        self,
        tenant_id: str,
        key: str | None,
        request: dict[str, Any],
        work: Callable[[], Answer],
        lambda_context: Any = None,
    ) -> Answer:
        """`work()`'s answer; with a key, the first answer this tenant got for that key."""
        if key is None:
            return work()
        if not _KEY.match(key):
            raise InvalidRequestError(
                f"{HEADER} must be 1 to 255 printable ASCII characters without spaces (a UUID works)",
                param=HEADER,
            )
        if self._table is None:
            raise DependencyError(f"{HEADER} is not available: this deployment has no IDEMPOTENCY_TABLE")
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="request",
            expires_after_seconds=EXPIRES_AFTER_SECONDS,
        )
        if lambda_context is not None and hasattr(lambda_context, "get_remaining_time_in_millis"):
            # A request that dies in progress frees its key when its Lambda would have timed out.
            config.register_lambda_context(lambda_context)

        def run(data: dict[str, Any]) -> dict[str, Any]:
            status, body = work()
            return {"status": status, "body": body}

        wrapped = idempotent_function(
            run,
            data_keyword_argument="data",
            persistence_store=self._persistence(),
            config=config,
            key_prefix="heartbeat-api",
        )
        try:
            stored = wrapped(data={"key": f"{tenant_id}\n{key}", "request": request})
        except IdempotencyValidationError as exc:
            raise IdempotencyKeyReusedError(
                f"this {HEADER} was already used with a different request: use a new key for a new request",
                param=HEADER,
            ) from exc
        except IdempotencyAlreadyInProgressError as exc:
            raise ConflictError(
                f"a request with this {HEADER} is still in progress: retry when it has finished",
                param=HEADER,
            ) from exc
        except IdempotencyPersistenceLayerError as exc:
            raise DependencyError(f"remembering the {HEADER} failed ({exc})") from exc
        return int(stored["status"]), dict(stored["body"])

    def _persistence(self) -> Any:
        if self._store is None:
            from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

            self._store = DynamoDBPersistenceLayer(table_name=str(self._table), boto3_client=self._client)
        return self._store
