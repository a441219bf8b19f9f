"""`heartbeat local` killed with SIGKILL in the middle of a burst of writes loses none of the writes
it acknowledged: each is in the journal, fsynced, before its answer leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import create_key, http, wait_for
from heartbeat_cli.local.runtime import RUNTIME_FILE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`heartbeat local` as its own process on free ports; (process, API URL)."""
    (data_dir / RUNTIME_FILE).unlink(missing_ok=True)  # a killed stack leaves its own behind
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "heartbeat_cli.main",
            "local",
            "--port",
            "0",
            "--aws-port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    runtime = data_dir / RUNTIME_FILE

    def ready() -> str | None:
        if process.poll() is not None:
            raise AssertionError(f"heartbeat local exited with {process.returncode}")
        if not runtime.exists():
            return None
        info = json.loads(runtime.read_text())
        return str(info["api_url"]) if info.get("pid") == process.pid else None

    url = wait_for(ready, timeout=90)
    assert url, "heartbeat local did not start"
    return process, url


def burst(
    url: str, key: str, acknowledged: list[tuple[str, str]], stop: threading.Event, worker: int
) -> None:
    """Write tasks and passages until stopped; record each write the stack acknowledged."""
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if n % 2:
                status, body = http(
                    "POST",
                    f"{url}/v1/tasks",
                    key=key,
                    body={"name": f"w{worker}-{n}", "prompt": "p", "schedule": "0 9 * * *"},
                )
                if status == 201:
                    acknowledged.append(("task", body["task"]["id"]))
            else:
                tag = f"{worker}n{n}"
                status, body = http(
                    "POST", f"{url}/v1/memory/archival", key=key, body={"text": f"note {tag}", "tags": [tag]}
                )
                if status == 201:
                    acknowledged.append(("passage", tag))
        except OSError:
            return  # the stack is gone: what it answered before is what counts


def test_a_sigkilled_stack_keeps_every_write_it_acknowledged(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    key = create_key(data_dir)
    acknowledged: list[tuple[str, str]] = []
    for kill_after in (12, 30):
        process, url = start(data_dir)
        stop = threading.Event()
        workers = [
            threading.Thread(
                target=burst, args=(url, key, acknowledged, stop, f"{kill_after}w{i}"), daemon=True
            )
            for i in range(4)
        ]
        goal = len(acknowledged) + kill_after
        for worker in workers:
            worker.start()
        reached = wait_for(lambda goal=goal: len(acknowledged) >= goal, timeout=120, interval=0.01)
        process.send_signal(signal.SIGKILL)  # mid-burst: requests in flight, the saver not yet run
        process.wait(timeout=30)
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        assert reached, "the burst got its writes acknowledged"

    process, url = start(data_dir)
    try:
        tasks = {t for kind, t in acknowledged if kind == "task"}
        listed: set[str] = set()
        cursor: Any = None
        while True:
            query = "limit=100" + (f"&cursor={cursor}" if cursor else "")
            status, page = http("GET", f"{url}/v1/tasks?{query}", key=key)
            assert status == 200
            listed |= {t["id"] for t in page["tasks"]}
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert tasks <= listed, f"lost {len(tasks - listed)} of {len(tasks)} acknowledged tasks"
        assert page["total"] == len(listed), "the task count agrees with the tasks"
        for kind, tag in acknowledged:
            if kind == "passage":
                status, found = http("GET", f"{url}/v1/memory/archival?tag={tag}", key=key)
                assert status == 200 and [p["text"] for p in found["passages"]] == [f"note {tag}"], tag
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a stack behind
            process.wait(timeout=30)
