"""The one real-time test: `heartbeat local` as a user runs it, and an every-minute task firing
on the wall clock within about a minute."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import http, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def heartbeat(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "heartbeat_cli.main", *args],
        text=True,
        stdout=subprocess.PIPE,
        **kwargs,  # type: ignore[call-overload]
    )


def test_heartbeat_local_fires_an_every_minute_task_on_the_wall_clock(data_dir: Path) -> None:
    stack = heartbeat(
        "local", "--port", "0", "--aws-port", "0", "--data-dir", str(data_dir), stderr=subprocess.DEVNULL
    )
    try:
        assert stack.stdout is not None
        ready = stack.stdout.readline().strip()
        assert ready.startswith("Heartbeat local stack ready: http://127.0.0.1:"), ready
        url = ready.rsplit(" ", 1)[1]

        keys = heartbeat(
            "keys",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "config.read,config.write",
            "--local",
            "--data-dir",
            str(data_dir),
        )
        out, _ = keys.communicate(timeout=60)
        key = out.strip().splitlines()[-1]
        assert keys.returncode == 0 and key.startswith("hb_test_")

        status, created = http(
            "POST",
            f"{url}/v1/tasks",
            key=key,
            body={"name": "pulse", "prompt": "Say hello", "schedule": "* * * * *"},
        )
        assert status == 201, created
        task_url = f"{url}/v1/tasks/{created['task']['id']}"

        def last_status() -> str | None:
            return http("GET", task_url, key=key)[1]["task"]["state"]["last_status"]

        assert wait_for(last_status, timeout=70, interval=1) == "ok"
    finally:
        stack.send_signal(signal.SIGTERM)
        code = stack.wait(timeout=60)
    assert code == 0
    assert not (data_dir / "endpoint.json").exists()
    assert {"dynamodb.json", "scheduler.json"} <= {p.name for p in data_dir.iterdir()}
