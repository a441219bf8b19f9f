"""/v1/tasks/{task_id}/run and /v1/tasks/{task_id}/runs: parse, check the scope, call the logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.responses import json_response
from heartbeat.models.run import run_to_api

router = APIGatewayHttpRouter()


def _services() -> Services:
    services: Services = router.context["services"]
    return services


def _tenant(scope: str) -> str:
    return require(principal_from_event(router.current_event), scope).tenant_id


@router.post("/v1/tasks/<task_id>/run", summary="Run a task now, outside its schedule")
def run_task(  # no return annotation: Powertools would validate it as a model
    task_id: str,
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=255)] = None,
):
    tenant, services = _tenant("config.write"), _services()

    def run_now() -> tuple[int, dict[str, object]]:
        return 202, {"run": run_to_api(services.runs.run_now(tenant, task_id))}

    request = {"route": "run_task", "task_id": task_id}
    return json_response(
        *services.idempotency.answer(tenant, idempotency_key, request, run_now, router.lambda_context)
    )


@router.get("/v1/tasks/<task_id>/runs", summary="List a task's runs, newest first")
def list_runs(
    task_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
):
    runs, next_cursor = _services().runs.list(_tenant("config.read"), task_id, limit, cursor)
    return json_response(200, {"runs": [run_to_api(r) for r in runs], "next_cursor": next_cursor})
