"""notify: the agent flags something for a person. Each call records an `agent.notification` on
the run (`{"title", "message", "severity"}`, DESIGN.md sections 8 and 9); delivering it to the
tenant's webhooks is the notifier's job."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from heartbeat.soul.types import Tool, ToolError
from heartbeat.timeutil import iso, utcnow
from heartbeat.tools.base import ModelTool, ToolArguments

MAX_NOTIFICATIONS_PER_RUN = 5
MAX_TITLE = 200
MAX_MESSAGE = 4000


class NotifyArguments(ToolArguments):
    title: str = Field(min_length=1, max_length=MAX_TITLE, description="A short headline.")
    message: str = Field(
        min_length=1, max_length=MAX_MESSAGE, description="What happened and why it matters."
    )
    severity: Literal["info", "warning", "critical"] = Field(
        default="info", description="info, warning (needs a look) or critical (needs action now)."
    )


@dataclass
class Notifications:
    """The notifications of one run, in order, for its record."""

    items: list[dict[str, Any]] = field(default_factory=list)


def notify_tool(notifications: Notifications) -> Tool:
    def run(arguments: NotifyArguments) -> str:
        if len(notifications.items) >= MAX_NOTIFICATIONS_PER_RUN:
            raise ToolError(
                f"this run already sent {MAX_NOTIFICATIONS_PER_RUN} notifications, the most one run may: "
                "put everything else in your answer"
            )
        notifications.items.append(
            {
                "type": "agent.notification",
                "title": arguments.title,
                "message": arguments.message,
                "severity": arguments.severity,
                "at": iso(utcnow()),
            }
        )
        return f"Notification sent ({arguments.severity}): {arguments.title}"

    return ModelTool.build(
        "notify",
        "Notify the people who own this task (their webhooks receive an agent.notification). Use it to "
        "flag an anomaly or something that needs a person; do not use it for routine results.",
        NotifyArguments,
        run,
    )
