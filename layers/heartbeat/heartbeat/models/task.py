"""The task as stored and as answered. Storage items and API answers are built from this one
dataclass by explicit functions, so neither format leaks into the other."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from heartbeat.models.tools import DEFAULT_TOOLS

DEFAULT_LIMITS: dict[str, int] = {"max_steps": 10, "max_tokens": 100_000, "timeout_seconds": 600}
DEFAULT_CATCHUP_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class TaskState:
    next_run_at: str | None = None
    last_run_at: str | None = None
    last_status: str | None = None
    consecutive_errors: int = 0
    last_error: str | None = None
    last_run_id: str | None = None
    disabled_reason: str | None = None


@dataclass(frozen=True)
class Task:
    tenant_id: str
    id: str
    name: str
    prompt: str
    schedule: dict[str, Any]  # the engine's to_api() form
    model: str
    created_at: str
    updated_at: str
    description: str | None = None
    conversation_id: str | None = None
    enabled: bool = True
    schedule_count: int = 1  # how many EventBridge schedules back it (2 for a both-day-fields cron)
    alert_after_errors: int = 3  # task.failing is sent when consecutive errors reach this
    limits: dict[str, int] | None = None  # per-run limits as sent (see `effective_limits`)
    catchup_window_seconds: int = DEFAULT_CATCHUP_WINDOW_SECONDS
    output_schema: dict[str, Any] | None = None
    version: int = 1
    flexible_window_minutes: int = 0  # EventBridge's FlexibleTimeWindow (0: off)
    state: TaskState = field(default_factory=TaskState)
    tools: tuple[str, ...] = DEFAULT_TOOLS
    web_allow: tuple[str, ...] = ()

    def evolve(self, **changes: Any) -> Task:
        return replace(self, **changes)

    def effective_limits(self) -> dict[str, int]:
        """The run limits that apply: the task's own over the defaults (section 10)."""
        return {**DEFAULT_LIMITS, **(self.limits or {})}


def task_to_api(task: Task) -> dict[str, Any]:
    state = task.state
    api_state: dict[str, Any] = {
        "next_run_at": state.next_run_at,
        "last_run_at": state.last_run_at,
        "last_status": state.last_status,
        "consecutive_errors": state.consecutive_errors,
        "last_error": state.last_error,
        "last_run_id": state.last_run_id,
    }
    if state.disabled_reason is not None:
        api_state["disabled_reason"] = state.disabled_reason
    return {
        "id": task.id,
        "name": task.name,
        "description": task.description,
        "enabled": task.enabled,
        "schedule": task.schedule,
        "prompt": task.prompt,
        "model": task.model,
        "conversation_id": task.conversation_id,
        "alert_after_errors": task.alert_after_errors,
        "flexible_window_minutes": task.flexible_window_minutes,
        "limits": task.effective_limits(),
        "catchup_window_seconds": task.catchup_window_seconds,
        "output_schema": task.output_schema,
        "tools": list(task.tools),
        "web_allow": list(task.web_allow),
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "state": api_state,
    }


_STATE_FIELDS = (
    "next_run_at",
    "last_run_at",
    "last_status",
    "consecutive_errors",
    "last_error",
    "last_run_id",
    "disabled_reason",
)


def task_to_item(task: Task) -> dict[str, Any]:
    """The DynamoDB item (plain Python values; the DAL serialises). None values are omitted."""
    item: dict[str, Any] = {
        "pk": task.tenant_id,
        "sk": task.id,
        "name": task.name,
        "prompt": task.prompt,
        "schedule": task.schedule,
        "model": task.model,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "description": task.description,
        "conversation_id": task.conversation_id,
        "enabled": task.enabled,
        "schedule_count": task.schedule_count,
        "alert_after_errors": task.alert_after_errors,
        "version": task.version,
        "flexible_window_minutes": task.flexible_window_minutes or None,
        "limits": task.limits,
        "catchup_window_seconds": task.catchup_window_seconds,
        # As JSON text: a schema's keys and numbers survive exactly, whatever they are.
        "output_schema": _json(task.output_schema),
        "tools": list(task.tools),
        "web_allow": list(task.web_allow) or None,
    }
    for name in _STATE_FIELDS:
        item[name] = getattr(task.state, name)
    return {k: v for k, v in item.items() if v is not None}


def task_from_item(item: dict[str, Any]) -> Task:
    state = TaskState(
        **{name: item.get(name) for name in _STATE_FIELDS if name != "consecutive_errors"},
        consecutive_errors=int(item.get("consecutive_errors", 0)),
    )
    return Task(
        tenant_id=item["pk"],
        id=item["sk"],
        name=item["name"],
        prompt=item["prompt"],
        schedule=_plain(item["schedule"]),
        model=item["model"],
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        description=item.get("description"),
        conversation_id=item.get("conversation_id"),
        enabled=bool(item.get("enabled", True)),
        schedule_count=int(item.get("schedule_count", 1)),
        alert_after_errors=int(item.get("alert_after_errors", 3)),
        version=int(item.get("version", 1)),
        flexible_window_minutes=int(item.get("flexible_window_minutes", 0)),
        limits=_plain(item["limits"]) if item.get("limits") is not None else None,
        catchup_window_seconds=int(item.get("catchup_window_seconds", DEFAULT_CATCHUP_WINDOW_SECONDS)),
        output_schema=_unjson(item.get("output_schema")),
        state=state,
        tools=tuple(item["tools"]) if "tools" in item else DEFAULT_TOOLS,
        web_allow=tuple(item.get("web_allow") or ()),
    )


def _json(value: dict[str, Any] | None) -> str | None:
    import json

    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


def _unjson(text: str | None) -> dict[str, Any] | None:
    import json

    return None if text is None else json.loads(text)


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the schedule object holds small integers."""
    from decimal import Decimal

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
