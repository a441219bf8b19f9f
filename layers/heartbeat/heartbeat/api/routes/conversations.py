"""/v1/conversations/{conversation_id}: a pinned conversation's transcript, read page by page or
forgotten. Scopes: memory.read to read, memory.write to delete (a transcript is what the agent
remembers of the conversation)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.responses import json_response
from heartbeat.conversations.service import DEFAULT_PAGE, MAX_PAGE

router = APIGatewayHttpRouter()


def _services() -> Services:
    services: Services = router.context["services"]
    return services


def _tenant(scope: str) -> str:
    return require(principal_from_event(router.current_event), scope).tenant_id


@router.get(
    "/v1/conversations/<conversation_id>", summary="Read a conversation's transcript, oldest message first"
)
def get_conversation(
    conversation_id: str,
    limit: Annotated[
        int,
        Query(
            ge=1, le=MAX_PAGE, description=f"messages per page: default {DEFAULT_PAGE}, at most {MAX_PAGE}"
        ),
    ] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=16)] = None,
):  # no return annotation: Powertools would validate it as a model
    page = _services().conversations.page(_tenant("memory.read"), conversation_id, limit, cursor)
    return json_response(
        200, {"conversation_id": conversation_id, "messages": page.messages, "next_cursor": page.next_cursor}
    )


@router.delete("/v1/conversations/<conversation_id>", summary="Forget a conversation's transcript")
def delete_conversation(conversation_id: str):
    _services().conversations.delete(_tenant("memory.write"), conversation_id)
    return json_response(200, {"ok": True, "id": conversation_id})
