"""The notifications queue (SQS): the executor and the api put events on it; the notifier takes
them off. Two message kinds: `events` (a run's events for the tenant's endpoints, fanned out by
the notifier) and `delivery` (one event's next attempt at one endpoint, delayed by its backoff)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.errors import DependencyError

MAX_MESSAGE_BYTES = 240 * 1024  # SQS takes 256 KiB; leave room for attributes
MAX_DELAY_SECONDS = 900  # SQS's limit; a longer wait is made of several delayed hops


class EventQueue:
    def __init__(self, client: Any, queue_url: str, dead_letter_url: str | None = None) -> None:
        self._client = client
        self._url = queue_url
        self._dlq = dead_letter_url

    def publish(self, tenant_id: str, events: Sequence[Mapping[str, Any]]) -> None:
        """One message with all of a run's events (one request), or one message per event when
        together they would pass SQS's 256 KiB message limit."""
        together = {"kind": "events", "tenant_id": tenant_id, "events": list(events)}
        if len(json.dumps(together, ensure_ascii=False).encode()) <= MAX_MESSAGE_BYTES:
            self.send(together)
            return
        for event in events:
            self.send({"kind": "events", "tenant_id": tenant_id, "events": [event]})

    def send(self, message: Mapping[str, Any], *, delay_seconds: int = 0) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._url,
                MessageBody=json.dumps(message, separators=(",", ":"), ensure_ascii=False),
                DelaySeconds=max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)),
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"queueing the notification failed ({error_code(exc)})") from exc

    def dead_letter(self, message: Mapping[str, Any]) -> None:
        """Keep a delivery that used up its attempts where an operator can find and replay it."""
        if self._dlq is None:
            return
        try:
            self._client.send_message(
                QueueUrl=self._dlq, MessageBody=json.dumps(message, separators=(",", ":"), ensure_ascii=False)
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"dead-lettering the delivery failed ({error_code(exc)})") from exc
