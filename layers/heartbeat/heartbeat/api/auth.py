"""The caller, as the authorizer described it, and the scope each operation needs.

Routes take the caller's tenant as a parameter, `tenant: ConfigRead` (or `ConfigWrite`,
`MemoryRead`, `MemoryWrite`): Powertools' `Depends` reads the event of the resolver that is
answering and checks the scope before the route runs, so no route reads a module-level router."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request

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


def tenant_with(scope: str) -> Depends:
    """A route parameter's dependency: the caller's tenant, once its key is known to hold `scope`."""

    def tenant(request: Request) -> str:
        return require(principal_from_event(request.resolved_event), scope).tenant_id

    tenant.__name__ = f"tenant_with_{scope.replace('.', '_')}"
    return Depends(tenant)


ConfigRead = Annotated[str, tenant_with("config.read")]
ConfigWrite = Annotated[str, tenant_with("config.write")]
MemoryRead = Annotated[str, tenant_with("memory.read")]
MemoryWrite = Annotated[str, tenant_with("memory.write")]
