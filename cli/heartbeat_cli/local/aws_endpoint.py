"""The local stack's AWS endpoint: a moto server, in this process, on loopback.

Every request passes through `WriteWatcher`, which runs requests one at a time, appends each
acknowledged write to the journal (fsynced before its answer leaves), and tells listeners which
service a request wrote to (DynamoDB, Scheduler, S3, SQS, Secrets Manager). The local scheduler
uses that to re-read only what changed, and the state saver to save only the services that
changed. The saver's own reads (marked with CHECKPOINT_HEADER) pass while it holds the lock."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from heartbeat_cli.local.journal import Journal, request_entry
from heartbeat_cli.local.ports import port_error
from heartbeat_cli.local.resources import REGION
from heartbeat_cli.local.state import PERSISTED

# Fake credentials: moto accepts any, and they keep boto3 from looking for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "heartbeat-local", "AWS_SECRET_ACCESS_KEY": "heartbeat-local"}
SERVICES = ("dynamodb", "scheduler", "s3", "sqs", "secretsmanager")
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READ_OPERATIONS = re.compile(r"^(Get|List|Describe|Query|Scan|BatchGet|Receive)")
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
WriteListener = Callable[[str], None]
# Marks the state saver's reads, made while it holds the watcher's lock (a checkpoint).
CHECKPOINT_HEADER = "x-heartbeat-checkpoint"


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
    """WSGI middleware: runs one request at a time, journals each acknowledged write, then names
    the service it wrote to."""

    def __init__(self, app: Any) -> None:
        # Functions this process runs, by ARN, that Lambda's Invoke on this endpoint reaches.
        self.functions: dict[str, Callable[[Any], None]] = {}
        self.app = app
        self._listeners: list[WriteListener] = []
        self._lock = threading.Lock()
        # Held for each request, and by the state saver for a checkpoint (no write runs meanwhile).
        self.requests = threading.Lock()
        self.journal: Journal | None = None  # set once the saved state is restored

    def subscribe(self, listener: WriteListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        invoked = self._invoke(environ, start_response)
        if invoked is not None:
            return invoked
        if environ.get("HTTP_" + CHECKPOINT_HEADER.upper().replace("-", "_")):
            return list(self.app(environ, start_response))
        headers = {
            "authorization": environ.get("HTTP_AUTHORIZATION", ""),
            "x-amz-target": environ.get("HTTP_X_AMZ_TARGET", ""),
        }
        service = request_writes(environ.get("REQUEST_METHOD", "GET"), headers)
        with self.requests:
            journal = self.journal if service in PERSISTED else None
            request_body = _read_body(environ) if journal is not None else b""
            status: list[str] = []

            def capture(line: str, response_headers: Any, exc_info: Any = None) -> Any:
                status.append(line)
                return start_response(line, response_headers, exc_info)

            # Materialise the answer first, so the journal and listeners follow the write.
            body = list(self.app(environ, capture))
            if service is None:
                return body
            if journal is not None and status and status[0].startswith("2"):
                journal.append(request_entry(service, environ, request_body))  # durable before the answer
            with self._lock:
                listeners = list(self._listeners)
            for listener in listeners:
                listener(service)
        return body

    def _invoke(self, environ: dict[str, Any], start_response: Any) -> list[bytes] | None:
        """Lambda's asynchronous Invoke of a function this process runs (`functions`: the api's
        run-now of the executor): handed to it, answered 202 as Lambda does; None for anything else
        (moto answers it). Not under the one-request lock: the handler only queues the event."""
        from urllib.parse import unquote

        match = _INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "POST":
            return None
        target = self.functions.get(unquote(match.group(1)))
        if target is None:
            return None
        payload = json.loads(_read_body(environ) or b"{}")
        if environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse") != "Event":
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [
                b'{"Type": "User", "Message": "the local stack invokes its functions asynchronously only"}'
            ]
        try:
            target(payload)
        except RuntimeError as exc:  # the stack is stopping
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [json.dumps({"Type": "Service", "Message": str(exc)}).encode()]
        start_response("202 Accepted", [("Content-Type", "application/json"), ("Content-Length", "0")])
        return [b""]


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body and put it back, for the journal to keep the bytes moto parsed."""
    from io import BytesIO

    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    body: bytes = stream.read(int(length)) if length else stream.read()
    environ["wsgi.input"] = BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
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
        # One request at a time (the watcher's lock): moto's backends are not atomic across threads
        # (two conditional writes can both pass; a cancelled transaction restores whole tables),
        # and the executor's slot dedupe and leases rely on DynamoDB's conditional writes being
        # atomic, as on AWS. Threaded all the same, so a checkpoint's reads pass that lock.
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
                threaded=True,
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


def checkpoint_clients(url: str) -> dict[str, Any]:
    """Clients for the state saver: their requests carry CHECKPOINT_HEADER, so they are served
    while the saver holds the watcher's lock."""
    clients = endpoint_clients(url, PERSISTED)

    def mark(request: Any, **_: Any) -> None:
        request.headers[CHECKPOINT_HEADER] = "1"

    for client in clients.values():
        client.meta.events.register("before-send.*.*", mark)
    return clients


def function_environment(url: str) -> dict[str, str]:
    """What a function needs in its environment to reach the endpoint: URL, region, credentials."""
    return {"AWS_ENDPOINT_URL": url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, **CREDENTIALS}
