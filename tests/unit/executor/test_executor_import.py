"""Importing the executor's handler (its Lambda cold start) loads nothing the first event can load
instead: no boto3, no pydantic, no X-Ray SDK (Tracer is built at the first invocation), no Soul."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("boto3", "botocore.session", "pydantic", "aws_xray_sdk", "heartbeat.soul", "heartbeat.executor.core")


def test_importing_the_executor_handler_defers_everything_heavy_to_the_first_event() -> None:
    probe = (
        "import json, sys; import app; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({HEAVY!r}))))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "functions" / "executor"), str(ROOT / "layers" / "heartbeat")]
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == []
