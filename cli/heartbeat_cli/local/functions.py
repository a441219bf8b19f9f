"""Running the stack's Lambda functions in this process: their handlers, a Lambda context with
the timeout template.yaml gives them, and the environment they read."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heartbeat_cli.local.resources import project_root

FUNCTIONS = {"api": "ApiFunction", "authorizer": "AuthorizerFunction", "executor": "ExecutorFunction"}
Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """What a handler may read of Lambda's context object."""

    function_name: str
    invoked_function_arn: str
    timeout_seconds: float
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def function_settings(template: Mapping[str, Any], name: str) -> tuple[float, int]:
    """(timeout seconds, memory MB) of a function, its own or the template's Globals."""
    globals_ = template.get("Globals", {}).get("Function", {})
    properties = template["Resources"][FUNCTIONS[name]].get("Properties", {})
    timeout = properties.get("Timeout", globals_.get("Timeout", 3))
    memory = properties.get("MemorySize", globals_.get("MemorySize", 128))
    return float(timeout), int(memory)


def load_handler(name: str, root: Path | None = None) -> Handler:
    """Import functions/<name>/app.py under a name of its own (every function's file is app.py)
    and return its `handler`. A fresh module each call: its cached config and clients are new."""
    path = (root or project_root()) / "functions" / name / "app.py"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    spec = importlib.util.spec_from_file_location(f"heartbeat_function_{name}_{uuid.uuid4().hex[:8]}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.handler
    return handler


_ENV_LOCK = threading.Lock()


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set these environment variables for the duration, then put back what was there."""
    with _ENV_LOCK:
        saved = {key: os.environ.get(key) for key in values}
        os.environ.update(values)
    try:
        yield
    finally:
        with _ENV_LOCK:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class FunctionInvoker:
    """Invokes in-process functions by ARN, as Lambda would: a fresh context with the function's
    timeout for every call. Raises `FunctionNotFound` for an ARN it does not hold."""

    def __init__(self, handlers: Mapping[str, Handler], timeouts: Mapping[str, float] | None = None) -> None:
        self._handlers = dict(handlers)
        self._timeouts = dict(timeouts or {})

    def invoke(self, arn: str, event: Any) -> Any:
        handler = self._handlers.get(arn)
        if handler is None:
            raise FunctionNotFound(f"Function not found: {arn}")
        name = arn.rsplit(":", 1)[1]
        context = LambdaContext(name, arn, self._timeouts.get(arn, 300.0))
        return handler(event, context)


class FunctionNotFound(LookupError):  # noqa: N818 - Lambda's ResourceNotFoundException, by another name
    pass


class Containers:
    """Lambda's concurrency model for an in-process handler: each "container" (one handler built
    by `factory`) serves one invocation at a time, and more are built on demand, up to `limit`.
    Handlers keep per-invocation state (Powertools' resolver holds the current event), so two
    threads must never share one."""

    def __init__(self, factory: Callable[[], Handler], limit: int = 8) -> None:
        import queue

        self._factory = factory
        self._idle: queue.LifoQueue[Handler] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(limit)

    def __call__(self, event: Any, context: Any) -> Any:
        import queue

        with self._slots:
            try:
                handler = self._idle.get_nowait()
            except queue.Empty:
                handler = self._factory()
            try:
                return handler(event, context)
            finally:
                self._idle.put(handler)
