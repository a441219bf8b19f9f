"""/v1/usage: a tenant's tokens, runs and estimated cost per UTC day, and its daily budget."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.responses import json_response
from heartbeat.usage.service import MAX_DAYS

router = APIGatewayHttpRouter()


def _services() -> Services:
    services: Services = router.context["services"]
    return services


@router.get("/v1/usage", summary="Usage per UTC day, newest first, and today's budget")
def get_usage(days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30):
    tenant = require(principal_from_event(router.current_event), "config.read").tenant_id
    return json_response(200, _services().usage.usage(tenant, days))
