"""/v1/webhooks routes: parse, check the scope, call the logic, shape the answer."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import ConfigRead, ConfigWrite
from heartbeat.api.deps import ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.models.webhook import WebhookCreate, WebhookPatch, delivery_to_api, webhook_to_api


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver (see `heartbeat.api.routes.tasks.router`)."""
    router = APIGatewayHttpRouter()

    @router.post(
        "/v1/webhooks",
        summary="Add a webhook endpoint (its secret is answered this once)",
        **documented("config.write", s.WebhookAnswer, status=201, errors=(429,)),
    )
    # No return annotations: Powertools would validate them as models.
    def create_webhook(body: WebhookCreate, tenant: ConfigWrite, services: ServicesDep):
        webhook, secret = services.webhooks.create(tenant, body)
        return json_response(201, {"webhook": webhook_to_api(webhook, secret=secret)})

    @router.get("/v1/webhooks", summary="List webhook endpoints", **documented("config.read", s.WebhookList))
    def list_webhooks(tenant: ConfigRead, services: ServicesDep):
        webhooks = services.webhooks.endpoints(tenant)
        return json_response(200, {"webhooks": [webhook_to_api(w) for w in webhooks]})

    @router.get(
        "/v1/webhooks/<webhook_id>",
        summary="Read a webhook endpoint",
        **documented("config.read", s.WebhookAnswer, errors=(404,)),
    )
    def get_webhook(webhook_id: str, tenant: ConfigRead, services: ServicesDep):
        return json_response(200, {"webhook": webhook_to_api(services.webhooks.get(tenant, webhook_id))})

    @router.patch(
        "/v1/webhooks/<webhook_id>",
        summary="Change a webhook endpoint",
        **documented("config.write", s.WebhookAnswer, errors=(404, 409)),
    )
    def update_webhook(webhook_id: str, body: WebhookPatch, tenant: ConfigWrite, services: ServicesDep):
        webhook = services.webhooks.update(tenant, webhook_id, body)
        return json_response(200, {"webhook": webhook_to_api(webhook)})

    @router.delete(
        "/v1/webhooks/<webhook_id>",
        summary="Delete a webhook endpoint and its secret",
        **documented("config.write", s.Deleted, errors=(404,)),
    )
    def delete_webhook(webhook_id: str, tenant: ConfigWrite, services: ServicesDep):
        services.webhooks.delete(tenant, webhook_id)
        return json_response(200, {"ok": True, "id": webhook_id})

    @router.post(
        "/v1/webhooks/<webhook_id>/test",
        summary="Send a webhook.test event to the endpoint now",
        **documented("config.write", s.WebhookTestQueued, status=202, errors=(404,)),
    )
    def test_webhook(webhook_id: str, tenant: ConfigWrite, services: ServicesDep):
        event = services.webhooks.send_test(tenant, webhook_id)
        return json_response(202, {"ok": True, "event_id": event.id})

    @router.get(
        "/v1/webhooks/<webhook_id>/deliveries",
        summary="List an endpoint's deliveries, newest first",
        **documented("config.read", s.DeliveryList, errors=(404,)),
    )
    def list_deliveries(
        webhook_id: str,
        limit: Annotated[
            int, Query(ge=1, le=100, description="deliveries per page: default 20, at most 100")
        ] = 20,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        *,
        tenant: ConfigRead,
        services: ServicesDep,
    ):
        deliveries, next_cursor = services.webhooks.deliveries(tenant, webhook_id, limit, cursor)
        return json_response(
            200, {"deliveries": [delivery_to_api(d) for d in deliveries], "next_cursor": next_cursor}
        )

    return router
