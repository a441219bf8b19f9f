"""/v1/tasks routes: parse, check the scope, call the logic, shape the answer."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response
from heartbeat.models.requests import TaskCreate, TaskPatch
from heartbeat.models.task import task_to_api

router = APIGatewayHttpRouter()


def _services() -> Services:
    services: Services = router.context["services"]
    return services


def _tenant(scope: str) -> str:
    return require(principal_from_event(router.current_event), scope).tenant_id


@router.post(
    "/v1/tasks",
    summary="Create a task",
    **documented("config.write", s.TaskAnswer, status=201, errors=(429,)),
)
def create_task(body: TaskCreate):
    task = _services().tasks.create(_tenant("config.write"), body)
    return json_response(201, {"task": task_to_api(task)})


@router.get("/v1/tasks", summary="List tasks", **documented("config.read", s.TaskList))
def list_tasks(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
):
    page = _services().tasks.page(_tenant("config.read"), limit, cursor)
    return json_response(
        200,
        {"tasks": [task_to_api(t) for t in page.tasks], "total": page.total, "next_cursor": page.next_cursor},
    )


@router.get(
    "/v1/tasks/<task_id>", summary="Read a task", **documented("config.read", s.TaskAnswer, errors=(404,))
)
def get_task(task_id: str):
    task = _services().tasks.get(_tenant("config.read"), task_id)
    return json_response(200, {"task": task_to_api(task)})


@router.patch(
    "/v1/tasks/<task_id>",
    summary="Change a task",
    **documented("config.write", s.TaskAnswer, errors=(404, 409)),
)
def update_task(task_id: str, body: TaskPatch):
    task = _services().tasks.update(_tenant("config.write"), task_id, body)
    return json_response(200, {"task": task_to_api(task)})


@router.delete(
    "/v1/tasks/<task_id>",
    summary="Delete a task and its schedule",
    **documented("config.write", s.Deleted, errors=(404,)),
)
def delete_task(task_id: str):
    _services().tasks.delete(_tenant("config.write"), task_id)
    return json_response(200, {"ok": True, "id": task_id})
