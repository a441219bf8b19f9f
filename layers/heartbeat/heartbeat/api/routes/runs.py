"""/v1/tasks/{task_id}/run and /v1/tasks/{task_id}/runs: parse, check the scope, call the logic."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import ConfigRead, ConfigWrite
from heartbeat.api.deps import ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.models.run import run_to_api


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver: Powertools' `include_router` ties a router to its resolver
    (and copies that resolver's context into the next one), so a module-level router would leak one
    simulated container's request into another."""
    router = APIGatewayHttpRouter()

    @router.post(
        "/v1/tasks/<task_id>/run",
        summary="Run a task now, outside its schedule",
        **documented("config.write", s.RunAnswer, status=202, errors=(404, 409, 429)),
    )
    # No return annotations: Powertools would validate them as models.
    def run_task(
        task_id: str,
        idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=255)] = None,
        *,
        tenant: ConfigWrite,
        services: ServicesDep,
    ):
        def run_now() -> tuple[int, dict[str, object]]:
            return 202, {"run": run_to_api(services.runs.run_now(tenant, task_id))}

        request = {"route": "run_task", "task_id": task_id}
        return json_response(
            *services.idempotency.answer(tenant, idempotency_key, request, run_now, router.lambda_context)
        )

    @router.get(
        "/v1/tasks/<task_id>/runs",
        summary="List a task's runs, newest first",
        **documented("config.read", s.RunList, errors=(404,)),
    )
    def list_runs(
        task_id: str,
        limit: Annotated[int, Query(ge=1, le=100, description="runs per page: default 20, at most 100")] = 20,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        *,
        tenant: ConfigRead,
        services: ServicesDep,
    ):
        runs, next_cursor = services.runs.list(tenant, task_id, limit, cursor)
        return json_response(200, {"runs": [run_to_api(r) for r in runs], "next_cursor": next_cursor})

    @router.get(
        "/v1/tasks/<task_id>/runs/<run_id>",
        summary="Read one run with its whole output",
        **documented("config.read", s.RunAnswer, errors=(404,)),
    )
    def get_run(task_id: str, run_id: str, tenant: ConfigRead, services: ServicesDep):
        run = services.runs.get(tenant, task_id, run_id)
        answer = run_to_api(run)
        return json_response(
            200, {"run": {**answer, "output_truncated": False} if run.output_key else answer}
        )

    return router
