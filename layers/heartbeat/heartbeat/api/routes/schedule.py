"""GET /v1/tasks/{task_id}/schedule: a task's schedule in words and its next fire times, as
EventBridge Scheduler will fire them (the console shows these; `heartbeat cron explain` is the
same for a schedule not yet created)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import principal_from_event, require
from heartbeat.api.deps import Services
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response

router = APIGatewayHttpRouter()


@router.get(
    "/v1/tasks/<task_id>/schedule",
    summary="A task's schedule in words and its next fire times",
    **documented("config.read", s.ScheduleAnswer, errors=(404,)),
)
def get_schedule(task_id: str, count: Annotated[int, Query(ge=1, le=20)] = 5):
    from datetime import UTC, datetime

    from heartbeat.schedule import parse_schedule
    from heartbeat.schedule.describe import describe
    from heartbeat.timeutil import iso, utcnow

    services: Services = router.context["services"]
    tenant_id = require(principal_from_event(router.current_event), "config.read").tenant_id
    task = services.tasks.get(tenant_id, task_id)
    # A stored schedule was checked when it was set: read it back without the "not in the past"
    # rule an `at` schedule has at creation.
    schedule = parse_schedule(task.schedule, now=datetime(1970, 1, 1, tzinfo=UTC))
    times = schedule.next_times(utcnow(), count) if task.enabled else []
    return json_response(
        200,
        {
            "task_id": task.id,
            "schedule": task.schedule,
            "description": describe(schedule),
            "timezone": schedule.timezone,
            "eventbridge": [e.expression for e in schedule.eventbridge()],
            "next": [iso(t) for t in times],
        },
    )
