"""A run: one execution (or skip) of one task's slot, as stored in the Runs table and as answered.

Status moves `queued` -> `running` -> `ok` | `error`, or `queued` -> `skipped`, or `queued` ->
`missed` (a delivery later than the task's catch-up window). `queued` and `running` are visible
while a run is in flight; `ok`, `error`, `skipped` and `missed` are final.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from heartbeat.ids import encode_ulid

RunStatus = Literal["queued", "running", "ok", "error", "skipped", "missed"]
Trigger = Literal["schedule", "manual"]

RUN_SK_PREFIX = "run#"


def runs_pk(tenant_id: str, task_id: str) -> str:
    return f"{tenant_id}#{task_id}"


def slot_run_id(tenant_id: str, task_id: str, slot: str, slot_ms: int) -> str:
    """The id of the one run of a scheduled slot: `run_<ulid>` whose time is the slot's and whose
    random part is a hash of (tenant, task, slot). Every delivery of the slot derives the same id,
    so a conditional put of the record claims the slot. Ids still sort by time."""
    import hashlib

    digest = hashlib.sha256(f"{tenant_id}\n{task_id}\n{slot}".encode()).digest()
    return "run_" + encode_ulid(slot_ms, int.from_bytes(digest[:10]))


@dataclass(frozen=True)
class Run:
    tenant_id: str
    task_id: str
    id: str  # run_<ulid>: sorts by creation time
    status: RunStatus
    trigger: Trigger
    scheduled_at: str
    created_at: str
    expires_at: int  # epoch seconds: the table's TTL attribute
    model: str | None = None
    conversation_id: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: int | None = None
    reason: str | None = None
    usage: dict[str, int] | None = None
    output: str | None = None  # the whole output, or its preview when `output_key` is set
    output_bytes: int | None = None
    output_key: str | None = None  # S3 key of the whole output when it was too large to keep here
    error: str | None = None
    cost_usd: float | None = None  # estimated from the price table (heartbeat.usage.prices)
    output_json: str | None = None  # with an output_schema: the checked answer, as JSON text
    tool_calls: list[dict[str, Any]] | None = None
    """Each tool call as `{"name", "ok", "ms", "error"}`: never its arguments (they may hold secrets)."""
    notifications: list[dict[str, Any]] | None = None
    """The run's `agent.notification`s (`{"type", "title", "message", "severity", "at"}`), for delivery."""
    transition: dict[str, Any] | None = None
    """Stored, never answered: what a finished run did to its task (`{"errors_before",
    "errors_after", "disables"}`), so a redelivery can rebuild the very events it sent."""

    def evolve(self, **changes: Any) -> Run:
        return replace(self, **changes)


_OPTIONAL = (
    "model",
    "conversation_id",
    "started_at",
    "finished_at",
    "duration_ms",
    "reason",
    "usage",
    "output",
    "output_bytes",
    "output_key",
    "error",
    "output_json",
    "tool_calls",
    "notifications",
    "transition",
)


def run_to_item(run: Run) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": runs_pk(run.tenant_id, run.task_id),
        "sk": RUN_SK_PREFIX + run.id,
        "tenant_id": run.tenant_id,
        "task_id": run.task_id,
        "run_id": run.id,
        "status": run.status,
        "trigger": run.trigger,
        "scheduled_at": run.scheduled_at,
        "created_at": run.created_at,
        "expires_at": run.expires_at,
    }
    for name in _OPTIONAL:
        value = getattr(run, name)
        if value is not None:
            item[name] = value
    if run.cost_usd is not None:
        from decimal import Decimal

        item["cost_usd"] = Decimal(str(run.cost_usd))
    return item


def run_from_item(item: dict[str, Any]) -> Run:
    usage = item.get("usage")
    return Run(
        tenant_id=item["tenant_id"],
        task_id=item["task_id"],
        id=item["run_id"],
        status=item["status"],
        trigger=item["trigger"],
        scheduled_at=item["scheduled_at"],
        created_at=item["created_at"],
        expires_at=int(item["expires_at"]),
        model=item.get("model"),
        conversation_id=item.get("conversation_id"),
        started_at=item.get("started_at"),
        finished_at=item.get("finished_at"),
        duration_ms=int(item["duration_ms"]) if item.get("duration_ms") is not None else None,
        reason=item.get("reason"),
        usage={k: int(v) for k, v in usage.items()} if usage is not None else None,
        output=item.get("output"),
        output_bytes=int(item["output_bytes"]) if item.get("output_bytes") is not None else None,
        output_key=item.get("output_key"),
        error=item.get("error"),
        cost_usd=float(item["cost_usd"]) if item.get("cost_usd") is not None else None,
        output_json=item.get("output_json"),
        tool_calls=[_tool_call(call) for call in item["tool_calls"]] if item.get("tool_calls") else None,
        notifications=[dict(n) for n in item["notifications"]] if item.get("notifications") else None,
        transition=_transition(item["transition"]) if item.get("transition") else None,
    )


def _transition(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "errors_before": int(value["errors_before"]),
        "errors_after": int(value["errors_after"]),
        "disables": bool(value["disables"]),
    }


def _tool_call(call: dict[str, Any]) -> dict[str, Any]:
    return {"name": call["name"], "ok": bool(call["ok"]), "ms": int(call["ms"]), "error": call.get("error")}


def run_to_api(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "task_id": run.task_id,
        "status": run.status,
        "trigger": run.trigger,
        "reason": run.reason,
        "scheduled_at": run.scheduled_at,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_ms": run.duration_ms,
        "model": run.model,
        "conversation_id": run.conversation_id,
        "usage": _usage_to_api(run.usage),
        "output": run.output,
        "output_bytes": run.output_bytes,
        "output_truncated": run.output_key is not None,
        "output_key": run.output_key,
        "output_json": _parsed(run.output_json),
        "error": run.error,
        "cost_usd": run.cost_usd,
        "tool_calls": run.tool_calls or [],
        "notifications": [
            {k: n.get(k) for k in ("title", "message", "severity", "at")} for n in run.notifications or []
        ],
    }


def _usage_to_api(usage: dict[str, int] | None) -> dict[str, int] | None:
    """The stored counts, with `cached_tokens` (read from the prompt cache) as the usage report names it."""
    if usage is None:
        return None
    return {**usage, "cached_tokens": usage.get("cache_read_tokens", 0)}


def _parsed(text: str | None) -> Any:
    import json

    return None if text is None else json.loads(text)
