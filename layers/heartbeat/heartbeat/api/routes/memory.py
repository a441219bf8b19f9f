"""/v1/memory routes: parse, check the scope, call the tenant's memory, shape the answer.

Limits (block size, passage size, tags, query size) are checked by `heartbeat.memory`, whose
`InvalidRequestError` names the field, so the API and the Soul's tools answer the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel, ConfigDict

from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.responses import json_response

if TYPE_CHECKING:
    from heartbeat.memory.store import MemoryStore

router = APIGatewayHttpRouter()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CoreBlockPut(_Strict):
    value: str
    limit: int | None = None
    description: str | None = None


class PassageCreate(_Strict):
    text: str
    tags: list[str] | None = None


def _store(scope: str) -> MemoryStore:
    from heartbeat.memory.store import MemoryStore

    tenant_id = require(principal_from_event(router.current_event), scope).tenant_id
    services: Services = router.context["services"]
    return MemoryStore(services.clients.dynamodb, services.config.memory_table, tenant_id)


@router.get("/v1/memory/core", summary="List core memory blocks")
def list_core_blocks():  # no return annotation: Powertools would validate it as a model
    blocks = _store("memory.read").core_blocks()
    return json_response(200, {"blocks": [b.to_dict() for b in blocks]})


@router.get("/v1/memory/core/<label>", summary="Read a core memory block")
def get_core_block(label: str):
    return json_response(200, {"block": _store("memory.read").get_block(label).to_dict()})


@router.put("/v1/memory/core/<label>", summary="Create or replace a core memory block")
def put_core_block(label: str, body: CoreBlockPut):
    block = _store("memory.write").put_block(
        label, body.value, limit=body.limit, description=body.description
    )
    return json_response(200, {"block": block.to_dict()})


@router.post("/v1/memory/archival", summary="Store an archival passage")
def create_passage(body: PassageCreate):
    passage = _store("memory.write").insert_passage(body.text, body.tags)
    return json_response(201, {"passage": passage.to_dict()})


@router.get("/v1/memory/archival", summary="Search archival passages (newest first without a query)")
def search_passages(
    query: Annotated[str | None, Query()] = None,
    limit: Annotated[int | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=1024)] = None,
):
    tags = [t for t in tag.split(",") if t] if tag else None
    result = _store("memory.read").search_result(query, limit=limit, tags=tags)
    return json_response(
        200, {"passages": [p.to_dict() for p in result.passages], "exhaustive": result.exhaustive}
    )


@router.delete("/v1/memory/archival/<passage_id>", summary="Delete an archival passage")
def delete_passage(passage_id: str):
    _store("memory.write").delete_passage(passage_id)
    return json_response(200, {"ok": True, "id": passage_id})
