"""GET /v1/tasks/{task_id}/schedule: a task's schedule in words and its next fire times, as
EventBridge Scheduler will fire them (the console shows these; `heartbeat cron explain` is the
same for a schedule not yet created)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from heartbeat.api import schemas as s
from heartbeat.api.auth import ConfigRead
from heartbeat.api.deps import ServicesDep
from heartbeat.api.openapi import documented
from heartbeat.api.responses import json_response


def router() -> APIGatewayHttpRouter:
    """A fresh router for each resolver (see api/routes/tasks.py)."""
    router = APIGatewayHttpRouter()

    @router.get(
        "/v1/tasks/<task_id>/schedule",
        summary="A task's schedule in words and its next fire times",
        **documented("config.read", s.ScheduleAnswer, errors=(404,)),
    )
    # No return annotation: Powertools would validate it as a model.
    def get_schedule(
        task_id: str,
        count: Annotated[int, Query(ge=1, le=20)] = 5,
        *,
        tenant: ConfigRead,
        services: ServicesDep,
    ):
        from datetime import UTC, datetime

        from heartbeat.schedule import parse_schedule
        from heartbeat.schedule.describe import describe
        from heartbeat.timeutil import iso, utcnow

        task = services.tasks.get(tenant, task_id)
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

    return router
