"""/v1/tasks routes: parse, check the scope, call the logic, shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import ConfigRead, ConfigWrite
from heartbeat.api.deps import Services, ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.models.requests import TaskCreate, TaskPatch
from heartbeat.models.task import task_to_api


def _with_warnings(services: Services, answer: dict[str, Any], model: str) -> dict[str, Any]:
    """`"warnings"` beside `"task"` when its model needs something configured before runs work."""
    warnings = services.model_warnings(model)
    return {**answer, "warnings": warnings} if warnings else answer


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver: Powertools' `include_router` ties a router to its resolver
    (and copies that resolver's context into the next one), so a module-level router would leak one
    simulated container's request into another."""
    router = APIGatewayHttpRouter()

    @router.post(
        "/v1/tasks",
        summary="Create a task",
        **documented("config.write", s.TaskAnswer, status=201, errors=(429,)),
    )
    def create_task(
        body: TaskCreate,
        idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=255)] = None,
        *,
        tenant: ConfigWrite,
        services: ServicesDep,
    ):
        def create() -> tuple[int, dict[str, object]]:
            task = services.tasks.create(tenant, body)
            return 201, _with_warnings(services, {"task": task_to_api(task)}, task.model)

        request = {"route": "create_task", "body": body.model_dump(mode="json", exclude_unset=True)}
        return json_response(
            *services.idempotency.answer(tenant, idempotency_key, request, create, router.lambda_context)
        )

    @router.get("/v1/tasks", summary="List tasks", **documented("config.read", s.TaskList))
    def list_tasks(
        limit: Annotated[
            int, Query(ge=1, le=100, description="tasks per page: default 20, at most 100")
        ] = 20,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        *,
        tenant: ConfigRead,
        services: ServicesDep,
    ):
        page = services.tasks.page(tenant, limit, cursor)
        return json_response(
            200,
            {
                "tasks": [task_to_api(t) for t in page.tasks],
                "total": page.total,
                "next_cursor": page.next_cursor,
            },
        )

    @router.get(
        "/v1/tasks/<task_id>", summary="Read a task", **documented("config.read", s.TaskAnswer, errors=(404,))
    )
    def get_task(task_id: str, tenant: ConfigRead, services: ServicesDep):
        task = services.tasks.get(tenant, task_id)
        return json_response(200, {"task": task_to_api(task)})

    @router.patch(
        "/v1/tasks/<task_id>",
        summary="Change a task",
        **documented("config.write", s.TaskAnswer, errors=(404, 409)),
    )
    def update_task(task_id: str, body: TaskPatch, tenant: ConfigWrite, services: ServicesDep):
        task = services.tasks.update(tenant, task_id, body)
        answer = {"task": task_to_api(task)}
        return json_response(
            200, _with_warnings(services, answer, task.model) if "model" in body.model_fields_set else answer
        )

    @router.delete(
        "/v1/tasks/<task_id>",
        summary="Delete a task and its schedule",
        **documented("config.write", s.Deleted, errors=(404,)),
    )
    def delete_task(task_id: str, tenant: ConfigWrite, services: ServicesDep):
        services.tasks.delete(tenant, task_id)
        return json_response(200, {"ok": True, "id": task_id})

    return router
