"""Webhook delivery: latency from a run's end to the receiver's 2xx on the local stack (the same
notifier and queue as deployed, polled as the local stack polls it), and the AWS requests the
notifier makes per delivered event (counted with botocore's event hooks against moto)."""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BUDGETS = {"latency_p99_s": 2.0, "requests_per_event": 4}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _receiver() -> tuple[ThreadingHTTPServer, list[tuple[float, dict[str, Any]]], threading.Condition]:
    import json

    got: list[tuple[float, dict[str, Any]]] = []
    arrived = threading.Condition()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            with arrived:
                got.append((time.time(), body))
                arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got, arrived


def _latency(runs: int) -> dict[str, Any]:
    import contextlib
    import io
    import json
    import urllib.request

    from heartbeat_cli.local.stack import LocalStack, StackOptions
    from heartbeat_cli.main import main

    server, got, arrived = _receiver()
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalStack(StackOptions(port=0, aws_port=0, data_dir=Path(tmp), workers=4, save_delay=0.5)) as stack,
    ):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(
                [
                    "keys",
                    "create",
                    "--tenant",
                    "bench",
                    "--scopes",
                    "config.read,config.write",
                    "--local",
                    "--data-dir",
                    tmp,
                ]
            )
        key = out.getvalue().strip().splitlines()[-1]

        def call(method: str, path: str, body: Any = None) -> Any:
            data = json.dumps(body).encode() if body is not None else None
            request = urllib.request.Request(
                stack.api_url + path,
                data=data,
                method=method,
                headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())

        call(
            "POST",
            "/v1/webhooks",
            {"url": f"http://127.0.0.1:{server.server_address[1]}/", "events": ["run.succeeded"]},
        )
        task = call("POST", "/v1/tasks", {"name": "bench", "prompt": "Say hello", "schedule": "0 9 * * *"})[
            "task"
        ]
        lateness: list[float] = []
        for index in range(runs):
            call("POST", f"/v1/tasks/{task['id']}/run")
            with arrived:
                arrived.wait_for(lambda count=index + 1: len(got) >= count, timeout=30)
            received_at, body = got[index]
            finished = datetime.fromisoformat(body["data"]["run"]["finished_at"].replace("Z", "+00:00"))
            lateness.append(received_at - finished.astimezone(UTC).timestamp())
            time.sleep(0.05)
    server.shutdown()
    return {
        "deliveries": len(lateness),
        "latency_p50_s": round(statistics.median(lateness), 3),
        "latency_p99_s": round(_percentile(lateness, 0.99), 3),
    }


def _requests_per_event() -> dict[str, int]:
    import boto3
    from moto import mock_aws

    from bench.requests import RequestCounter
    from heartbeat.dal.event_queue import EventQueue
    from heartbeat.dal.webhook_secrets import WebhookSecrets
    from heartbeat.dal.webhooks import WebhooksTable
    from heartbeat.models.webhook import WebhookCreate
    from heartbeat.notify.events import event_id
    from heartbeat.notify.notifier import Notifier, NotifierPolicy
    from heartbeat.notify.service import WebhookPolicy, WebhookService
    from heartbeat_cli.local.resources import StackNames, provision

    server, got, arrived = _receiver()
    with mock_aws():
        names = StackNames()
        clients = {n: boto3.client(n) for n in ("dynamodb", "scheduler", "s3", "sqs", "secretsmanager")}
        provision(**{k: v for k, v in clients.items() if k != "secretsmanager"}, names=names)
        env = names.environment()
        queue_url = clients["sqs"].get_queue_url(QueueName=names.queue("NotificationsQueue"))["QueueUrl"]
        table = WebhooksTable(clients["dynamodb"], env["WEBHOOKS_TABLE"], env["TASKS_TABLE"])
        secrets = WebhookSecrets(clients["secretsmanager"], env["WEBHOOK_SECRET_PREFIX"])
        queue = EventQueue(clients["sqs"], queue_url)
        WebhookService(table, secrets, queue, WebhookPolicy(allow_private=True)).create(
            "bench", WebhookCreate(url=f"http://127.0.0.1:{server.server_address[1]}/")
        )
        notifier = Notifier(table, secrets, queue, NotifierPolicy(allow_private=True))
        counts = []
        for i in range(2):  # the first with the secret not yet cached in the container, then warm
            counter = RequestCounter()
            counter.attach(clients["dynamodb"], clients["secretsmanager"], clients["sqs"])
            event = {
                "id": event_id("bench", "cron_x", f"run_{i}", "run.succeeded"),
                "type": "run.succeeded",
                "timestamp": "2026-12-01T09:00:00.000Z",
                "tenant_id": "bench",
                "task_id": "cron_x",
                "data": {},
            }
            notifier.handle({"kind": "events", "tenant_id": "bench", "events": [event]})
            counts.append(sum(counter.calls.values()))
            for client in (clients["dynamodb"], clients["secretsmanager"], clients["sqs"]):
                client.meta.events.unregister("before-parameter-build", counter)
    server.shutdown()
    return {"cold": counts[0], "warm": counts[1]}


def measure(runs: int = 30) -> dict[str, Any]:
    latency = _latency(runs)
    requests = _requests_per_event()
    return {
        **latency,
        "requests_per_event_cold": requests["cold"],
        "requests_per_event_warm": requests["warm"],
        "_budgets": {
            "latency_p99_s": f"<= {BUDGETS['latency_p99_s']} s "
            + ("ok" if latency["latency_p99_s"] <= BUDGETS["latency_p99_s"] else "OVER"),
            "requests_per_event_cold": f"<= {BUDGETS['requests_per_event']} "
            + ("ok" if requests["cold"] <= BUDGETS["requests_per_event"] else "OVER"),
        },
    }
