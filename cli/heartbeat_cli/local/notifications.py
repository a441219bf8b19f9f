"""The local stack's notifier: the same notifier function the deployed stack runs, fed from the
same (moto) notifications queue, as Lambda's SQS event source would feed it: batches of up to
five records, long polling, and the records the handler reports as failed left on the queue for
a later receive (after the queue's visibility timeout), the rest deleted.

The local endpoint answers one request at a time, so a long poll would hold every other AWS call
of the stack: the poller asks without waiting, and when the queue is empty waits until a write
reaches the endpoint's SQS (`notify`, from the endpoint's write watcher) or a quarter of a second
passes (delayed retries come due without a write). `make bench` measures the latency."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("heartbeat.local")

BATCH_SIZE = 5


class NotificationPoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        *,
        context: Callable[[], Any],
        idle_seconds: float = 0.25,
    ) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._handler = handler
        self._context = context
        self._idle = idle_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="local-notifier", daemon=True)
        self._thread.start()

    def notify(self, service: str) -> None:
        """A write reached the endpoint: look at the queue now if it was an SQS write."""
        if service == "sqs":
            self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        while not self._stop.is_set():
            try:
                self._wake.clear()
                if not self.poll_once():
                    self._wake.wait(self._idle)
            except (BotoCoreError, ClientError) as exc:
                if self._stop.is_set():
                    return
                log.warning("the local notifier could not read its queue: %s", exc)
                self._stop.wait(1.0)

    def poll_once(self) -> int:
        """Receive one batch and hand it to the notifier; the number of records handled."""
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        result = self._handler(event, self._context()) or {}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if failed:
            log.warning("the notifier failed %d notification(s); they are retried later", len(failed))
        return len(messages)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": "us-east-1",
        }
