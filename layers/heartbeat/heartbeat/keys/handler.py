"""The Lambda REQUEST authorizer's logic (HTTP API, simple responses).

API Gateway caches the answer per `Authorization` header for every route, so the answer may not
depend on the route: a known key is allowed with its tenant and scopes in the context, and the api
function checks the scope each route needs (403). An unknown or revoked key raises `Unauthorized`,
which API Gateway turns into 401; a missing header never reaches us (API Gateway answers 401)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import Field

from heartbeat.config import FunctionConfig
from heartbeat.errors import UnauthorizedError
from heartbeat.keys.service import KeyService


class AuthorizerConfig(FunctionConfig):
    keys_table: str = Field(alias="KEYS_TABLE")


class Unauthorized(Exception):  # noqa: N818 - the message API Gateway maps to 401 is this name
    def __init__(self) -> None:
        super().__init__("Unauthorized")


def default_keys() -> KeyService:
    import boto3

    from heartbeat.dal.keys import KeysTable

    return KeyService(KeysTable(boto3.client("dynamodb"), AuthorizerConfig.from_env().keys_table))


class Authorizer:
    def __init__(self, keys_factory: Callable[[], KeyService]) -> None:
        self._factory = keys_factory
        self._keys: KeyService | None = None

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        if self._keys is None:
            self._keys = self._factory()
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            principal = self._keys.authenticate(headers.get("authorization"))
        except UnauthorizedError as exc:
            raise Unauthorized() from exc
        return {
            "isAuthorized": True,
            "context": {
                "tenant_id": principal.tenant_id,
                "scopes": " ".join(sorted(principal.scopes)),
                "key_id": principal.key_id,
            },
        }
