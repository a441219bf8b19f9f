"""The local stack, started in this process on free loopback ports in a temporary data dir, and
the HTTP and CLI calls the tests make against it."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from heartbeat_cli.local.clock import Clock, ManualClock
from heartbeat_cli.local.stack import LocalStack, StackOptions

ALL_SCOPES = "config.read,config.write,memory.read,memory.write"


def http(method: str, url: str, key: str | None = None, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"} if data is not None else {}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def cli(*argv: str) -> tuple[int, str]:
    """Run `heartbeat ARGV` in this process; (exit code, stdout)."""
    from heartbeat_cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def create_key(data_dir: Path, tenant: str = "acme", scopes: str = ALL_SCOPES) -> str:
    code, out = cli(
        "keys", "create", "--tenant", tenant, "--scopes", scopes, "--local", "--data-dir", str(data_dir)
    )
    assert code == 0, out
    key = out.strip().splitlines()[-1]
    assert key.startswith("hb_test_")
    return key


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def next_minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


@dataclass
class RecordingExecutor:
    """Stands in for the executor where a test is about the scheduler: records each event."""

    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.lock:
            self.events.append(event)
        return {"status": "ok"}

    def times(self, task_id: str) -> list[str]:
        with self.lock:
            return sorted(e["scheduled_time"] for e in self.events if e["task_id"] == task_id)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "heartbeat-data"


@pytest.fixture
def start_stack() -> Iterator[Callable[..., LocalStack]]:
    """`start_stack(data_dir, clock=..., executor=...)`: a running stack on free ports, stopped at the end."""
    running: list[LocalStack] = []

    def start(
        data_dir: Path, clock: Clock | None = None, executor: Any = None, private_targets: bool = True
    ) -> LocalStack:
        stack = LocalStack(
            StackOptions(
                port=0,
                aws_port=0,
                data_dir=data_dir,
                workers=4,
                save_delay=0.2,
                private_targets=private_targets,
            ),
            clock=clock or ManualClock(datetime.now(UTC)),
            executor=executor,
        )
        stack.start()
        running.append(stack)
        return stack

    yield start
    for stack in running:
        stack.stop()
