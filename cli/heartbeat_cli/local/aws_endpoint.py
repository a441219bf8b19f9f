"""The local stack's AWS endpoint: a moto server, in this process, on loopback.

Every request passes through `WriteWatcher`, which tells listeners which service a request wrote
to (DynamoDB, Scheduler, S3, SQS, Secrets Manager). The local scheduler uses that to re-read only
what changed, and the state saver to save only the services that changed."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from heartbeat_cli.local.ports import port_error
from heartbeat_cli.local.resources import REGION

# Fake credentials: moto accepts any, and they keep boto3 from looking for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "heartbeat-local", "AWS_SECRET_ACCESS_KEY": "heartbeat-local"}
SERVICES = ("dynamodb", "scheduler", "s3", "sqs", "secretsmanager")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_OPERATIONS = re.compile(r"^(Get|List|Describe|Query|Scan|BatchGet|Receive)")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")

WriteListener = Callable[[str], None]


def request_writes(method: str, headers: dict[str, str]) -> str | None:
    """The service a request changes, or None for a read (or a request we cannot attribute)."""
    match = _SCOPE.search(headers.get("authorization", ""))
    if match is None or method.upper() in _READ_METHODS:
        return None
    operation = headers.get("x-amz-target", "").rpartition(".")[2]
    if operation and _READ_OPERATIONS.match(operation):
        return None
    return match.group(1)


class WriteWatcher:
    """WSGI middleware: passes every request on, then names the service it wrote to."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._listeners: list[WriteListener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: WriteListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        headers = {
            "authorization": environ.get("HTTP_AUTHORIZATION", ""),
            "x-amz-target": environ.get("HTTP_X_AMZ_TARGET", ""),
        }
        service = request_writes(environ.get("REQUEST_METHOD", "GET"), headers)
        # Materialise the answer first, so listeners run after the write has happened.
        body = list(self._app(environ, start_response))
        if service is not None:
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                listener(service)
        return body


class AwsEndpoint:
    """A moto server on 127.0.0.1:`port` (0 picks a free port) serving this process's moto backends.

    moto keeps its state in module globals, so a process holds one local stack at a time."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.watcher: WriteWatcher | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the AWS endpoint is not running")
        return f"http://{self._host}:{self._server.server_address[1]}"

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        self.watcher = WriteWatcher(DomainDispatcherApplication(create_backend_app))
        # One request at a time: moto's backends are not atomic across threads (two conditional
        # writes can both pass; a cancelled transaction restores whole tables), and the executor's
        # slot dedupe and leases rely on DynamoDB's conditional writes being atomic, as on AWS.
        # Bound here, not by werkzeug, which prints its own advice and exits on a port in use.
        try:
            listener = socket.create_server((self._host, self._port))
        except OSError as exc:
            raise port_error(exc, self._port, "the AWS endpoint", "--aws-port") from exc
        with listener:
            self._server = make_server(
                self._host,
                self._port,
                self.watcher,
                threaded=False,
                request_handler=MotoRequestHandler,
                fd=listener.fileno(),
            )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        self.reset()

    def reset(self) -> None:
        """Forget every resource: moto's state is process-wide, and a stack starts from its data dir."""
        import urllib.request

        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback URL
            json.loads(response.read() or b"{}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None


def endpoint_clients(url: str | None, services: Iterable[str] = SERVICES) -> dict[str, Any]:
    """boto3 clients for `url` with the local stack's fake credentials (None: moto in-process)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    config = Config(
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=32,
        s3={"addressing_style": "path"},
    )
    return {name: session.client(name, endpoint_url=url, config=config) for name in services}  # type: ignore[call-overload]


def function_environment(url: str) -> dict[str, str]:
    """What a function needs in its environment to reach the endpoint: URL, region, credentials."""
    return {"AWS_ENDPOINT_URL": url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, **CREDENTIALS}
