"""/v1/tasks/{task_id}/run and /v1/tasks/{task_id}/runs: parse, check the scope, call the logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.models.run import run_to_api

router = APIGatewayHttpRouter()


def _services() -> Services:
    services: Services = router.context["services"]
    return services


def _tenant(scope: str) -> str:
    return require(principal_from_event(router.current_event), scope).tenant_id


@router.post(
    "/v1/tasks/<task_id>/run",
    summary="Run a task now, outside its schedule",
    **documented("config.write", s.RunAnswer, status=202, errors=(404, 409, 429)),
)
def run_task(task_id: str):  # no return annotation: Powertools would validate it as a model
    run = _services().runs.run_now(_tenant("config.write"), task_id)
    return json_response(202, {"run": run_to_api(run)})


@router.get(
    "/v1/tasks/<task_id>/runs",
    summary="List a task's runs, newest first",
    **documented("config.read", s.RunList, errors=(404,)),
)
def list_runs(
    task_id: str,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
):
    runs, next_cursor = _services().runs.list(_tenant("config.read"), task_id, limit, cursor)
    return json_response(200, {"runs": [run_to_api(r) for r in runs], "next_cursor": next_cursor})
