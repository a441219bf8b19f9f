"""The notifier: takes messages off the notifications queue and delivers each event, signed, to
every enabled endpoint of the tenant that subscribes to it.

Every (endpoint, event) pair has one delivery record; the conditional write that creates it is
the dedupe, so an event queued twice (a slot delivered twice, a message received twice) is posted
once per endpoint. A 2xx answer within 10 s is delivered. Anything else is retried after about
5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 24 h (a delayed `delivery` message; SQS delays at most
15 minutes, so a longer wait is several hops), then the delivery is marked failed and the message
dead-lettered. Each retry carries the same `webhook-id` and the same body, signed anew.

The retry message is queued *before* the attempt is recorded: a notifier that dies between the
two is redelivered the same message, which finds the attempt unrecorded and makes it again (at
least once), and the extra retry message finds the attempt count moved on and is dropped.

An endpoint whose every delivery has failed for 24 hours is disabled, with a reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from heartbeat.errors import ConflictError, HeartbeatError, NotFoundError
from heartbeat.models.webhook import Delivery, Webhook
from heartbeat.notify.events import Event
from heartbeat.timeutil import iso, parse_iso, utcnow

if TYPE_CHECKING:
    from heartbeat.dal.event_queue import EventQueue
    from heartbeat.dal.webhook_secrets import WebhookSecrets
    from heartbeat.dal.webhooks import WebhooksTable
    from heartbeat.outbound.http import OutboundResponse

logger = logging.getLogger(__name__)

RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=24),
)
DISABLE_AFTER = timedelta(hours=24)
TIMEOUT_S = 10.0
MAX_ERROR = 300

Sender = Callable[..., "OutboundResponse"]


def _default_sender(method: str, url: str, **kwargs: Any) -> OutboundResponse:
    from heartbeat.outbound.http import request

    return request(method, url, **kwargs)


@dataclass(frozen=True)
class NotifierPolicy:
    allow_private: bool = False
    retention: timedelta = timedelta(days=30)
    retry_delays: tuple[timedelta, ...] = RETRY_DELAYS
    disable_after: timedelta = DISABLE_AFTER
    timeout_s: float = TIMEOUT_S


class Notifier:
    def __init__(
        self,
        webhooks: WebhooksTable,
        secrets: WebhookSecrets,
        queue: EventQueue,
        policy: NotifierPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        send: Sender = _default_sender,
    ) -> None:
        self._webhooks = webhooks
        self._secrets = secrets
        self._queue = queue
        self._p = policy or NotifierPolicy()
        self._clock = clock
        self._send = send
        self._secret_cache: dict[tuple[str, str], str] = {}

    def handle(self, message: Mapping[str, Any]) -> None:
        """Process one queue message. Raises `DependencyError` when AWS fails (the message is
        then redelivered by SQS); a delivery failure is not an error of the message."""
        kind = message.get("kind")
        tenant_id = str(message["tenant_id"])
        if kind == "events":
            events = [Event.from_message(e) for e in message.get("events") or []]
            endpoints = [w for w in self._webhooks.endpoints(tenant_id) if w.enabled]
            for event in events:
                for endpoint in endpoints:
                    if endpoint.wants(event.type, event.task_id):
                        self._attempt(endpoint, event, 1)
        elif kind in ("delivery", "test"):
            event = Event.from_message(message["event"])
            try:
                endpoint = self._webhooks.get(tenant_id, str(message["webhook_id"]))
            except NotFoundError:
                return  # deleted meanwhile: nothing to deliver to
            attempt = int(message.get("attempt", 1))
            due = message.get("due_at")
            if due is not None and parse_iso(due) > self._clock():
                wait = (parse_iso(due) - self._clock()).total_seconds()
                self._queue.send(message, delay_seconds=int(wait) + 1)
                return
            if endpoint.enabled or kind == "test":
                self._attempt(endpoint, event, attempt)
        else:
            logger.warning("ignoring a notifications message of kind %r", kind)

    # -- one attempt -------------------------------------------------------------------------
    def _attempt(self, endpoint: Webhook, event: Event, attempt: int) -> None:
        now = self._clock()
        fresh = Delivery(
            tenant_id=endpoint.tenant_id,
            webhook_id=endpoint.id,
            event_id=event.id,
            type=event.type,
            created_at=event.timestamp,
            expires_at=int((now + self._p.retention).timestamp()),
        )
        stored = self._webhooks.open_delivery(fresh) if attempt == 1 else self._webhooks.get_delivery(fresh)
        if stored.status != "pending" or stored.attempts != attempt - 1:
            logger.info("event %s at %s: attempt %s already made", event.id, endpoint.id, attempt)
            return
        ok, code, error = self._post(endpoint, event)
        done = self._clock()
        if ok:
            self._webhooks.save_delivery(
                stored.evolve(
                    status="delivered",
                    attempts=attempt,
                    status_code=code,
                    error=None,
                    delivered_at=iso(done),
                    next_attempt_at=None,
                ),
                after_attempts=attempt - 1,
            )
            if endpoint.failing_since is not None:
                self._webhooks.mark_attempt(endpoint.tenant_id, endpoint.id, ok=True, at=iso(done))
            return
        message = {
            "kind": "delivery",
            "tenant_id": endpoint.tenant_id,
            "webhook_id": endpoint.id,
            "event": event.to_message(),
            "attempt": attempt + 1,
        }
        if attempt <= len(self._p.retry_delays):
            delay = self._p.retry_delays[attempt - 1]
            next_at = done + delay
            self._queue.send({**message, "due_at": iso(next_at)}, delay_seconds=int(delay.total_seconds()))
            record = stored.evolve(
                attempts=attempt, status_code=code, error=error, next_attempt_at=iso(next_at)
            )
        else:
            self._queue.dead_letter({**message, "attempt": attempt, "error": error})
            record = stored.evolve(
                status="failed", attempts=attempt, status_code=code, error=error, next_attempt_at=None
            )
        self._webhooks.save_delivery(record, after_attempts=attempt - 1)
        latest = self._webhooks.mark_attempt(endpoint.tenant_id, endpoint.id, ok=False, at=iso(done))
        if latest is not None:
            self._maybe_disable(latest, done, error)

    def _post(self, endpoint: Webhook, event: Event) -> tuple[bool, int | None, str | None]:
        from heartbeat.notify.signing import signed_headers
        from heartbeat.notify.slack import slack_body

        body = slack_body(event.type, event.data) if endpoint.format == "slack" else event.body()
        headers = {"content-type": "application/json"}
        # Signed with the wall clock's time of this attempt: receivers check it against theirs.
        headers.update(signed_headers(self._secret(endpoint), event.id, body, utcnow()))
        try:
            response = self._send(
                "POST",
                endpoint.url,
                headers=headers,
                body=body.encode(),
                timeout_s=self._p.timeout_s,
                max_bytes=64 * 1024,
                max_redirects=0,
                allow_private=self._p.allow_private,
            )
        except HeartbeatError as exc:  # refused, timed out, connection failed
            return False, None, exc.message[:MAX_ERROR]
        if 200 <= response.status < 300:
            return True, response.status, None
        return False, response.status, f"the endpoint answered HTTP {response.status}"

    def _secret(self, endpoint: Webhook) -> str:
        key = (endpoint.tenant_id, endpoint.id)
        if key not in self._secret_cache:
            self._secret_cache[key] = self._secrets.get(endpoint.tenant_id, endpoint.id)
        return self._secret_cache[key]

    def _maybe_disable(self, endpoint: Webhook, now: datetime, error: str | None) -> None:
        if not endpoint.enabled or endpoint.failing_since is None:
            return
        since = parse_iso(endpoint.failing_since)
        if now - since < self._p.disable_after:
            return
        hours = int((now - since).total_seconds() // 3600)
        reason = (
            f"disabled after every delivery failed for {hours} hours (since {endpoint.failing_since}); "
            f'the last error: {error}. Fix the receiver, then re-enable it with PATCH {{"enabled": true}}'
        )
        try:
            self._webhooks.replace(
                endpoint.evolve(
                    enabled=False, disabled_reason=reason, version=endpoint.version + 1, updated_at=iso(now)
                ),
                expected_version=endpoint.version,
            )
            logger.warning("webhook %s disabled: %s", endpoint.id, reason)
        except ConflictError:
            logger.info("webhook %s changed while being disabled; left as it is", endpoint.id)
