"""Webhook endpoints and their deliveries: what callers send, what is stored, what is answered.

An endpoint belongs to one tenant; its signing secret is kept in Secrets Manager (never in the
item, never answered after create). A delivery is one event's attempts at one endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

EVENT_TYPES = (
    "run.succeeded",
    "run.failed",
    "run.missed",
    "task.failing",
    "task.recovered",
    "task.disabled",
    "agent.notification",
    "budget.exhausted",
)
TEST_EVENT = "webhook.test"
MAX_WEBHOOKS_PER_TENANT = 20
# Each named task is checked in the endpoint's write transaction (100 actions at most, two of
# them the endpoint and its subscription), so a webhook names at most 50; for more, leave task_ids out.
MAX_TASK_IDS = 50
MAX_URL = 2048

WebhookFormat = Literal["standard", "slack"]
DeliveryStatus = Literal["pending", "delivered", "failed"]


def _events(value: list[str]) -> list[str]:
    if not value:
        raise ValueError('events must name at least one event type, or be ["*"] for all')
    if "*" in value:
        if len(value) > 1:
            raise ValueError('events is either ["*"] or a list of event types, not both')
        return value
    unknown = [name for name in value if name not in EVENT_TYPES]
    if unknown:
        raise ValueError(f'unknown event type {unknown[0]!r}; known: {", ".join(EVENT_TYPES)} (or "*")')
    return sorted(set(value), key=EVENT_TYPES.index)


def _task_ids(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if not value:
        raise ValueError("task_ids must name at least one task; leave it out for every task")
    if len(set(value)) > MAX_TASK_IDS:
        raise ValueError(f"task_ids names at most {MAX_TASK_IDS} tasks; leave it out for every task")
    return sorted(set(value))


Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL)]
Events = Annotated[list[str], AfterValidator(_events)]
TaskId = Annotated[str, StringConstraints(pattern=r"^cron_[0-9a-z]{26}$")]
TaskIds = Annotated[list[TaskId] | None, AfterValidator(_task_ids)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class WebhookCreate(_Strict):
    url: Url
    events: Events = ["*"]
    task_ids: TaskIds = None
    format: WebhookFormat = "standard"


class WebhookPatch(_Strict):
    url: Url | None = None
    events: Events | None = None
    task_ids: TaskIds = None
    format: WebhookFormat | None = None
    enabled: bool | None = None


@dataclass(frozen=True)
class Webhook:
    tenant_id: str
    id: str  # wh_<ulid>
    url: str
    events: tuple[str, ...]
    format: WebhookFormat
    created_at: str
    updated_at: str
    task_ids: tuple[str, ...] | None = None
    enabled: bool = True
    disabled_reason: str | None = None
    failing_since: str | None = None  # the first failed attempt since the last delivered one
    version: int = 1

    def evolve(self, **changes: Any) -> Webhook:
        return replace(self, **changes)

    def wants(self, event_type: str, task_id: str | None) -> bool:
        return subscription_matches(self.subscription(), event_type, task_id)

    def subscription(self) -> dict[str, Any]:
        """What the executor needs to know to decide whether a run's events have a receiver."""
        return {"events": list(self.events), "task_ids": list(self.task_ids) if self.task_ids else None}


def subscription_matches(subscription: dict[str, Any], event_type: str, task_id: str | None) -> bool:
    events = subscription.get("events") or []
    if "*" not in events and event_type not in events:
        return False
    task_ids = subscription.get("task_ids")
    return not task_ids or task_id is None or task_id in task_ids


def webhook_to_api(webhook: Webhook, *, secret: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "task_ids": list(webhook.task_ids) if webhook.task_ids is not None else None,
        "format": webhook.format,
        "enabled": webhook.enabled,
        "disabled_reason": webhook.disabled_reason,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
    }
    if secret is not None:
        answer["secret"] = secret
    return answer


WEBHOOK_SK_PREFIX = "webhook#"
DELIVERY_SK_PREFIX = "delivery#"


def webhook_to_item(webhook: Webhook) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": webhook.tenant_id,
        "sk": WEBHOOK_SK_PREFIX + webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "format": webhook.format,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
        "task_ids": list(webhook.task_ids) if webhook.task_ids is not None else None,
        "enabled": webhook.enabled,
        "disabled_reason": webhook.disabled_reason,
        "failing_since": webhook.failing_since,
        "version": webhook.version,
    }
    return {k: v for k, v in item.items() if v is not None}


def webhook_from_item(item: dict[str, Any]) -> Webhook:
    task_ids = item.get("task_ids")
    return Webhook(
        tenant_id=item["pk"],
        id=item["sk"].removeprefix(WEBHOOK_SK_PREFIX),
        url=item["url"],
        events=tuple(item.get("events") or ("*",)),
        format=item.get("format", "standard"),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        task_ids=tuple(task_ids) if task_ids is not None else None,
        enabled=bool(item.get("enabled", True)),
        disabled_reason=item.get("disabled_reason"),
        failing_since=item.get("failing_since"),
        version=int(item.get("version", 1)),
    )


@dataclass(frozen=True)
class Delivery:
    """One event's attempts at one endpoint. `created_at` is the event's time (it orders the list)."""

    tenant_id: str
    webhook_id: str
    event_id: str
    type: str
    created_at: str
    expires_at: int
    status: DeliveryStatus = "pending"
    attempts: int = 0
    status_code: int | None = None
    error: str | None = None
    delivered_at: str | None = None
    next_attempt_at: str | None = None

    def evolve(self, **changes: Any) -> Delivery:
        return replace(self, **changes)


def deliveries_pk(tenant_id: str, webhook_id: str) -> str:
    return f"{tenant_id}#{webhook_id}"


def delivery_sk(created_at: str, event_id: str) -> str:
    return f"{DELIVERY_SK_PREFIX}{created_at}#{event_id}"


def delivery_to_item(delivery: Delivery) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": deliveries_pk(delivery.tenant_id, delivery.webhook_id),
        "sk": delivery_sk(delivery.created_at, delivery.event_id),
        "event_id": delivery.event_id,
        "type": delivery.type,
        "created_at": delivery.created_at,
        "expires_at": delivery.expires_at,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "status_code": delivery.status_code,
        "error": delivery.error,
        "delivered_at": delivery.delivered_at,
        "next_attempt_at": delivery.next_attempt_at,
    }
    return {k: v for k, v in item.items() if v is not None}


def delivery_from_item(item: dict[str, Any]) -> Delivery:
    tenant_id, _, webhook_id = item["pk"].rpartition("#")
    code = item.get("status_code")
    return Delivery(
        tenant_id=tenant_id,
        webhook_id=webhook_id,
        event_id=item["event_id"],
        type=item["type"],
        created_at=item["created_at"],
        expires_at=int(item["expires_at"]),
        status=item.get("status", "pending"),
        attempts=int(item.get("attempts", 0)),
        status_code=int(code) if code is not None else None,
        error=item.get("error"),
        delivered_at=item.get("delivered_at"),
        next_attempt_at=item.get("next_attempt_at"),
    )


def delivery_to_api(delivery: Delivery) -> dict[str, Any]:
    return {
        "event_id": delivery.event_id,
        "type": delivery.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "status_code": delivery.status_code,
        "error": delivery.error,
        "delivered_at": delivery.delivered_at,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
    }
