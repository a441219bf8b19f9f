"""The events a run produces, and their ids.

An event's id derives from what it is about (a run and the event's type, or a tenant and a day),
never from the delivery that noticed it, so every duplicate delivery of a slot and every retry of
a webhook carries the same `webhook-id` and a receiver can drop repeats.

`task.failing` fires once per incident: on the run whose failure brings `consecutive_errors` up
to the task's `alert_after_errors` (from below), so later failures of the same incident stay
quiet. `task.recovered` fires on the first success after that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ALERT_AFTER_ERRORS = 3
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def event_id(*parts: str) -> str:
    """`evt_` + 26 Crockford base32 characters of a hash of `parts`: the same parts, the same id."""
    value = int.from_bytes(hashlib.sha256("\n".join(parts).encode()).digest()[:17]) >> 6
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "evt_" + "".join(reversed(chars))


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    timestamp: str
    tenant_id: str
    task_id: str | None
    data: Mapping[str, Any] = field(default_factory=dict)

    def body(self) -> str:
        """The request body every endpoint receives, byte for byte the same on every attempt."""
        return json.dumps(
            {"type": self.type, "timestamp": self.timestamp, "data": self.data},
            separators=(",", ":"),
            ensure_ascii=False,
            sort_keys=True,
        )

    def to_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "timestamp": self.timestamp,
            "tenant_id": self.tenant_id,
            "task_id": self.task_id,
            "data": dict(self.data),
        }

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Event:
        return cls(
            id=str(message["id"]),
            type=str(message["type"]),
            timestamp=str(message["timestamp"]),
            tenant_id=str(message["tenant_id"]),
            task_id=message.get("task_id"),
            data=dict(message.get("data") or {}),
        )


@dataclass(frozen=True)
class RunFacts:
    """What one finished run changed, as the executor recorded it."""

    tenant_id: str
    task_id: str
    run_id: str
    status: str  # ok | error | skipped | missed
    finished_at: str
    errors_before: int
    errors_after: int
    alert_after_errors: int
    disabled: bool  # this run disabled the task
    task: Mapping[str, Any]  # the task as the API answers it, after the run
    run: Mapping[str, Any]  # the run as the API answers it
    notifications: Sequence[Mapping[str, Any]] = ()


def run_events(facts: RunFacts) -> list[Event]:
    """The events of one finished run, in the order a person would read them."""
    base = {"task": dict(facts.task), "run": dict(facts.run)}

    def make(kind: str, *extra: str, data: Mapping[str, Any] | None = None) -> Event:
        return Event(
            id=event_id(facts.tenant_id, facts.task_id, facts.run_id, kind, *extra),
            type=kind,
            timestamp=facts.finished_at,
            tenant_id=facts.tenant_id,
            task_id=facts.task_id,
            data={**base, **(data or {})},
        )

    events: list[Event] = []
    for index, note in enumerate(facts.notifications):
        notification = {
            "title": note.get("title"),
            "message": note.get("message"),
            "severity": note.get("severity", "info"),
        }
        events.append(make("agent.notification", str(index), data={"notification": notification}))
    threshold = max(facts.alert_after_errors, 1)
    if facts.status == "ok":
        events.append(make("run.succeeded"))
        if facts.errors_before >= threshold:
            events.append(make("task.recovered"))
    elif facts.status == "error":
        events.append(make("run.failed"))
        if facts.errors_before < threshold <= facts.errors_after:
            events.append(make("task.failing"))
    elif facts.status == "missed":
        events.append(make("run.missed"))
    if facts.disabled:
        events.append(make("task.disabled"))
    return events


def wanted(events: Sequence[Event], subscriptions: Sequence[Mapping[str, Any]]) -> list[Event]:
    """The events at least one enabled endpoint subscribes to."""
    from heartbeat.models.webhook import subscription_matches

    return [
        event
        for event in events
        if any(subscription_matches(dict(s), event.type, event.task_id) for s in subscriptions)
    ]
