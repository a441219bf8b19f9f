"""A run: one execution (or skip) of one task's slot, as stored in the Runs table and as answered.

Status moves `queued` -> `running` -> `ok` | `error`, or `queued` -> `skipped`. `queued` and
`running` are visible while a run is in flight; `ok`, `error` and `skipped` are final.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from heartbeat.ids import encode_ulid

RunStatus = Literal["queued", "running", "ok", "error", "skipped"]
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
    )


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
        "usage": run.usage,
        "output": run.output,
        "output_bytes": run.output_bytes,
        "output_truncated": run.output_key is not None,
        "output_key": run.output_key,
        "error": run.error,
    }
