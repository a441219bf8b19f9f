"""The caller, as the authorizer described it, and the scope each operation needs."""

from __future__ import annotations

from typing import Any

from heartbeat.errors import ForbiddenError, UnauthorizedError
from heartbeat.models.key import Principal


def principal_from_event(event: Any) -> Principal:
    """Read the authorizer's context (HTTP API payload 2.0: requestContext.authorizer.lambda)."""
    context = (event.request_context.authorizer.get_lambda or {}) if event.request_context.authorizer else {}
    tenant_id = context.get("tenant_id")
    if not tenant_id:
        raise UnauthorizedError("send 'Authorization: Bearer <key>' with a Heartbeat key")
    scopes = frozenset(str(context.get("scopes", "")).split())
    return Principal(tenant_id=str(tenant_id), scopes=scopes, key_id=str(context.get("key_id", "")))


def require(principal: Principal, scope: str) -> Principal:
    if scope not in principal.scopes:
        raise ForbiddenError(f"this key lacks the '{scope}' scope: use a key that has it", param=None)
    return principal
