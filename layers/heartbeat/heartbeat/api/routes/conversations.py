"""/v1/conversations/{conversation_id}: a pinned conversation's transcript, read page by page or
forgotten. Scopes: memory.read to read, memory.write to delete (a transcript is what the agent
remembers of the conversation)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import MemoryRead, MemoryWrite
from heartbeat.api.deps import ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.conversations.service import DEFAULT_PAGE, MAX_PAGE


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver (see `heartbeat.api.routes.tasks.router`)."""
    router = APIGatewayHttpRouter()

    @router.get(
        "/v1/conversations/<conversation_id>",
        summary="Read a conversation's transcript, oldest message first",
        **documented("memory.read", s.Conversation, errors=(404,)),
    )
    # No return annotations: Powertools would validate them as models.
    def get_conversation(
        conversation_id: str,
        limit: Annotated[
            int,
            Query(
                ge=1,
                le=MAX_PAGE,
                description=f"messages per page: default {DEFAULT_PAGE}, at most {MAX_PAGE}",
            ),
        ] = DEFAULT_PAGE,
        cursor: Annotated[str | None, Query(max_length=16)] = None,
        *,
        tenant: MemoryRead,
        services: ServicesDep,
    ):
        page = services.conversations.page(tenant, conversation_id, limit, cursor)
        return json_response(
            200,
            {"conversation_id": conversation_id, "messages": page.messages, "next_cursor": page.next_cursor},
        )

    @router.delete(
        "/v1/conversations/<conversation_id>",
        summary="Forget a conversation's transcript",
        **documented("memory.write", s.Deleted, errors=(404,)),
    )
    def delete_conversation(conversation_id: str, tenant: MemoryWrite, services: ServicesDep):
        services.conversations.delete(tenant, conversation_id)
        return json_response(200, {"ok": True, "id": conversation_id})

    return router
