"""/v1/usage: a tenant's tokens, runs and estimated cost per UTC day, and its daily budget."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import ConfigRead
from heartbeat.api.deps import ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.usage.service import MAX_DAYS


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver (see `heartbeat.api.routes.runs.router`)."""
    router = APIGatewayHttpRouter()

    @router.get(
        "/v1/usage",
        summary="Usage per UTC day, newest first, and today's budget",
        **documented("config.read", s.Usage),
    )
    # No return annotations: Powertools would validate them as models.
    def get_usage(
        days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
        *,
        tenant: ConfigRead,
        services: ServicesDep,
    ):
        return json_response(200, services.usage.usage(tenant, days))

    return router
