"""/v1/webhooks routes: parse, check the scope, call the logic, shape the answer."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.responses import json_response
from heartbeat.models.webhook import WebhookCreate, WebhookPatch, delivery_to_api, webhook_to_api

router = APIGatewayHttpRouter()


def _services() -> Services:
    services: Services = router.context["services"]
    return services


def _tenant(scope: str) -> str:
    return require(principal_from_event(router.current_event), scope).tenant_id


@router.post("/v1/webhooks", summary="Add a webhook endpoint (its secret is answered this once)")
def create_webhook(body: WebhookCreate):
    webhook, secret = _services().webhooks.create(_tenant("config.write"), body)
    return json_response(201, {"webhook": webhook_to_api(webhook, secret=secret)})


@router.get("/v1/webhooks", summary="List webhook endpoints")
def list_webhooks():
    webhooks = _services().webhooks.endpoints(_tenant("config.read"))
    return json_response(200, {"webhooks": [webhook_to_api(w) for w in webhooks]})


@router.get("/v1/webhooks/<webhook_id>", summary="Read a webhook endpoint")
def get_webhook(webhook_id: str):
    webhook = _services().webhooks.get(_tenant("config.read"), webhook_id)
    return json_response(200, {"webhook": webhook_to_api(webhook)})


@router.patch("/v1/webhooks/<webhook_id>", summary="Change a webhook endpoint")
def update_webhook(webhook_id: str, body: WebhookPatch):
    webhook = _services().webhooks.update(_tenant("config.write"), webhook_id, body)
    return json_response(200, {"webhook": webhook_to_api(webhook)})


@router.delete("/v1/webhooks/<webhook_id>", summary="Delete a webhook endpoint and its secret")
def delete_webhook(webhook_id: str):
    _services().webhooks.delete(_tenant("config.write"), webhook_id)
    return json_response(200, {"ok": True, "id": webhook_id})


@router.post("/v1/webhooks/<webhook_id>/test", summary="Send a webhook.test event to the endpoint now")
def test_webhook(webhook_id: str):
    event = _services().webhooks.send_test(_tenant("config.write"), webhook_id)
    return json_response(202, {"ok": True, "event_id": event.id})


@router.get("/v1/webhooks/<webhook_id>/deliveries", summary="List an endpoint's deliveries, newest first")
def list_deliveries(
    webhook_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
):
    deliveries, next_cursor = _services().webhooks.deliveries(
        _tenant("config.read"), webhook_id, limit, cursor
    )
    return json_response(
        200, {"deliveries": [delivery_to_api(d) for d in deliveries], "next_cursor": next_cursor}
    )
