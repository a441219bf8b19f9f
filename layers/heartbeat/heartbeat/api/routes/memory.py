"""/v1/memory routes: parse, check the scope, call the tenant's memory, shape the answer.

Limits (block size, passage size, tags, query size) are checked by `heartbeat.memory`, whose
`InvalidRequestError` names the field, so the API and the Soul's tools answer the same way.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict

from heartbeat.api import schemas as s
from heartbeat.api.auth import MemoryRead, MemoryWrite
from heartbeat.api.deps import ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.errors import InvalidRequestError
from heartbeat.memory.limits import DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CoreBlockPut(_Strict):
    value: str
    limit: int | None = None
    description: str | None = None


class PassageCreate(_Strict):
    text: str
    tags: list[str] | None = None


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver: Powertools' `include_router` ties a router to its resolver
    (and copies that resolver's context into the next one), so a module-level router would leak one
    simulated container's request into another."""
    router = APIGatewayHttpRouter()

    @router.get(
        "/v1/memory/core", summary="List core memory blocks", **documented("memory.read", s.CoreBlockList)
    )
    # No return annotations: Powertools would validate them as models.
    def list_core_blocks(tenant: MemoryRead, services: ServicesDep):
        blocks = services.memory(tenant).core_blocks()
        return json_response(200, {"blocks": [b.to_dict() for b in blocks]})

    @router.get(
        "/v1/memory/core/<label>",
        summary="Read a core memory block",
        **documented("memory.read", s.CoreBlockAnswer, errors=(404,)),
    )
    def get_core_block(label: str, tenant: MemoryRead, services: ServicesDep):
        return json_response(200, {"block": services.memory(tenant).get_block(label).to_dict()})

    @router.put(
        "/v1/memory/core/<label>",
        summary="Create or replace a core memory block",
        **documented("memory.write", s.CoreBlockAnswer, errors=(429,)),
    )
    def put_core_block(label: str, body: CoreBlockPut, tenant: MemoryWrite, services: ServicesDep):
        block = services.memory(tenant).put_block(
            label, body.value, limit=body.limit, description=body.description
        )
        return json_response(200, {"block": block.to_dict()})

    @router.delete(
        "/v1/memory/core/<label>",
        summary="Delete a core memory block",
        **documented("memory.write", s.CoreBlockDeleted, errors=(404,)),
    )
    def delete_core_block(label: str, tenant: MemoryWrite, services: ServicesDep):
        services.memory(tenant).delete_block(label)
        return json_response(200, {"ok": True, "label": label})

    @router.post(
        "/v1/memory/archival",
        summary="Store an archival passage (the same text again answers the passage that holds it, 200)",
        **documented(
            "memory.write",
            s.PassageAnswer,
            status=201,
            also={200: "The same text is stored already: the passage that holds it, with existing: true"},
            errors=(429,),
        ),
    )
    def create_passage(body: PassageCreate, tenant: MemoryWrite, services: ServicesDep):
        passage = services.memory(tenant).insert_passage(body.text, body.tags)
        if passage.existing:
            return json_response(200, {"passage": passage.to_dict(), "existing": True})
        return json_response(201, {"passage": passage.to_dict()})

    @router.get(
        "/v1/memory/archival",
        summary=f"Search archival passages, best first; without query or tag, every passage newest first, "
        f"page by page (limit: default {DEFAULT_SEARCH_LIMIT}, at most {MAX_SEARCH_LIMIT})",
        **documented("memory.read", s.PassageList),
    )
    def search_passages(
        query: Annotated[str | None, Query()] = None,
        limit: Annotated[
            int | None,
            Query(description=f"passages: default {DEFAULT_SEARCH_LIMIT}, at most {MAX_SEARCH_LIMIT}"),
        ] = None,
        tag: Annotated[str | None, Query(max_length=1024)] = None,
        cursor: Annotated[
            str | None,
            Query(
                max_length=64,
                description="the next_cursor of the previous page (listing without query or tag)",
            ),
        ] = None,
        *,
        tenant: MemoryRead,
        services: ServicesDep,
    ):
        tags = [t for t in tag.split(",") if t] if tag else None
        store = services.memory(tenant)
        exhaustive = True
        if (query is None or not query.strip()) and not tags:
            passages, next_cursor = store.list_passages(limit, cursor)
        elif cursor is not None:
            raise InvalidRequestError(
                "cursor pages the listing without query or tag; a search answers its best matches in one page",
                param="cursor",
            )
        else:
            result = store.search_result(query, limit=limit, tags=tags)
            passages, next_cursor, exhaustive = list(result.passages), None, result.exhaustive
        return json_response(
            200,
            {
                "passages": [p.to_dict() for p in passages],
                "next_cursor": next_cursor,
                # False: a passage the search did not read might outscore the last one answered.
                "exhaustive": exhaustive,
            },
        )

    @router.delete(
        "/v1/memory/archival/<passage_id>",
        summary="Delete an archival passage",
        **documented("memory.write", s.Deleted, errors=(404,)),
    )
    def delete_passage(passage_id: str, tenant: MemoryWrite, services: ServicesDep):
        services.memory(tenant).delete_passage(passage_id)
        return json_response(200, {"ok": True, "id": passage_id})

    return router
