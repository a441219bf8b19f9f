"""Webhook endpoints: the logic behind /v1/webhooks (knows nothing of HTTP).

Create stores the signing secret first (idempotently, under a name derived from the endpoint's
id, fixed before the first call), then the endpoint and its subscription in one transaction. If
that transaction fails, the endpoint is read back before anything is undone: a lost answer to a
write that took effect keeps the endpoint; only an endpoint that is really not there has its
secret removed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from heartbeat.errors import DependencyError, HeartbeatError, InvalidRequestError, NotFoundError
from heartbeat.ids import new_id
from heartbeat.models.webhook import (
    MAX_WEBHOOKS_PER_TENANT,
    TEST_EVENT,
    Delivery,
    Webhook,
    WebhookCreate,
    WebhookPatch,
)
from heartbeat.notify.events import Event
from heartbeat.timeutil import iso, utcnow

if TYPE_CHECKING:
    from heartbeat.dal.event_queue import EventQueue
    from heartbeat.dal.webhook_secrets import WebhookSecrets
    from heartbeat.dal.webhooks import WebhooksTable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookPolicy:
    allow_private: bool = False
    quota: int = MAX_WEBHOOKS_PER_TENANT


class WebhookService:
    def __init__(
        self,
        table: WebhooksTable,
        secrets: WebhookSecrets,
        queue: EventQueue,
        policy: WebhookPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._table = table
        self._secrets = secrets
        self._queue = queue
        self._p = policy or WebhookPolicy()
        self._clock = clock

    def _check_url(self, url: str) -> None:
        """The outbound rules at POST/PATCH: scheme, credentials, and (where the deployment
        refuses them) private addresses. A name that does not resolve now is accepted: every
        delivery resolves it again and connects only to an address that passes."""
        import socket
        from urllib.parse import urlsplit

        from heartbeat.outbound.guard import check_url

        try:
            check_url(url, allow_private=self._p.allow_private)
        except InvalidRequestError as exc:
            host = urlsplit(url).hostname if "does not resolve" in exc.message else None
            if host is not None:
                try:
                    socket.getaddrinfo(host, None)
                except (socket.gaierror, UnicodeError, OSError):
                    return
            raise InvalidRequestError(f"url: {exc.message}", param="url") from exc

    def create(self, tenant_id: str, body: WebhookCreate) -> tuple[Webhook, str]:
        """The new endpoint and its secret (the only time the secret is answered)."""
        from heartbeat.notify.signing import new_secret

        self._check_url(body.url)
        now = iso(self._clock())
        webhook = Webhook(
            tenant_id=tenant_id,
            id=new_id("wh"),
            url=body.url,
            events=tuple(body.events),
            task_ids=tuple(body.task_ids) if body.task_ids is not None else None,
            format=body.format,
            created_at=now,
            updated_at=now,
        )
        secret = new_secret()
        self._secrets.create(tenant_id, webhook.id, secret)
        token = str(uuid.uuid5(uuid.NAMESPACE_URL, f"heartbeat-webhook-create:{tenant_id}:{webhook.id}"))
        try:
            self._table.insert(webhook, quota=self._p.quota, token=token)
        except DependencyError:
            if self._stored(tenant_id, webhook.id) is not None:
                return webhook, secret  # the write took effect; only its answer was lost
            self._secrets.delete(tenant_id, webhook.id)
            raise
        except HeartbeatError:  # refused (quota): nothing was written but the secret
            self._secrets.delete(tenant_id, webhook.id)
            raise
        return webhook, secret

    def endpoints(self, tenant_id: str) -> list[Webhook]:
        return sorted(self._table.endpoints(tenant_id), key=lambda w: w.id)

    def get(self, tenant_id: str, webhook_id: str) -> Webhook:
        return self._table.get(tenant_id, webhook_id)

    def update(self, tenant_id: str, webhook_id: str, body: WebhookPatch) -> Webhook:
        current = self._table.get(tenant_id, webhook_id)
        sent = body.model_fields_set
        changes: dict[str, Any] = {}
        if "url" in sent and body.url is not None:
            self._check_url(body.url)
            changes["url"] = body.url
        if "events" in sent and body.events is not None:
            changes["events"] = tuple(body.events)
        if "task_ids" in sent:
            changes["task_ids"] = tuple(body.task_ids) if body.task_ids is not None else None
        if "format" in sent and body.format is not None:
            changes["format"] = body.format
        if "enabled" in sent and body.enabled is not None:
            changes["enabled"] = body.enabled
            if body.enabled:
                changes["disabled_reason"] = None
                changes["failing_since"] = None
        if not changes:
            return current
        updated = current.evolve(**changes, version=current.version + 1, updated_at=iso(self._clock()))
        try:
            added = sorted(set(updated.task_ids or ()) - set(current.task_ids or ()))
            self._table.replace(updated, expected_version=current.version, check_tasks=added)
        except DependencyError:
            if self._stored(tenant_id, webhook_id) == updated:
                return updated  # the write took effect; only its answer was lost
            raise
        return updated

    def _stored(self, tenant_id: str, webhook_id: str) -> Webhook | None:
        """The endpoint as stored now (None: gone), read again after an ambiguous failure."""
        try:
            return self._table.get(tenant_id, webhook_id)
        except NotFoundError:
            return None

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        webhook = self._table.get(tenant_id, webhook_id)
        try:
            self._table.delete(webhook)
        except DependencyError:
            if self._stored(tenant_id, webhook_id) is not None:
                raise
            # gone: the delete took effect and only its answer was lost; finish with the secret
        try:
            self._secrets.delete(tenant_id, webhook_id)
        except DependencyError:
            # The endpoint is gone, so nothing signs with the secret again; it is only clutter.
            logger.warning("the secret of deleted webhook %s could not be removed", webhook_id)

    def send_test(self, tenant_id: str, webhook_id: str) -> Event:
        """Queue a `webhook.test` event for this endpoint alone (delivered even when disabled,
        so a fixed receiver can be tried before re-enabling it)."""
        from heartbeat.notify.events import event_id

        webhook = self._table.get(tenant_id, webhook_id)
        now = iso(self._clock())
        event = Event(
            id=event_id(tenant_id, webhook.id, TEST_EVENT, now, uuid.uuid4().hex),
            type=TEST_EVENT,
            timestamp=now,
            tenant_id=tenant_id,
            task_id=None,
            data={"webhook": {"id": webhook.id, "url": webhook.url}},
        )
        self._queue.send(
            {"kind": "test", "tenant_id": tenant_id, "webhook_id": webhook.id, "event": event.to_message()}
        )
        return event

    def deliveries(
        self, tenant_id: str, webhook_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Delivery], str | None]:
        self._table.get(tenant_id, webhook_id)  # another tenant's endpoint is a 404
        return self._table.list_deliveries(tenant_id, webhook_id, limit, cursor)
