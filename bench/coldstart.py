"""Cold start: the time to import each function's handler from `sam build` output in a fresh
interpreter, as a ratio to `import boto3` measured in the same run (the floor a boto3 handler
cannot beat). The build is made for this machine's architecture (a copy of template.yaml with
arm64 replaced), because the arm64 layer's compiled wheels cannot load on an x86_64 host."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = ROOT / ".aws-sam" / "bench-build"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
# Each function's budget as a ratio to `import boto3` (1.5x unless named here).
BUDGETS = {"NotifierFunction": 0.5}
PROBE = "import sys,time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"


def functions(template: dict[str, Any]) -> list[str]:
    """Each function to time: the executor's shards 1-15 are ExecutorFunction's code, timed once."""
    return [
        name
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function" and not name.startswith("ExecutorShard")
    ]


def build_for_host() -> Path:
    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    source = (ROOT / "template.yaml").read_text().replace("arm64", arch)
    template = ROOT / ".aws-sam" / "bench-template.yaml"
    template.parent.mkdir(exist_ok=True)
    template.write_text(source)
    python_dir = Path(sys.executable).resolve().parent
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "PATH": f"{python_dir}:{os.environ['PATH']}"}
    subprocess.run(
        [
            str(SAM),
            "build",
            "--template-file",
            str(template),
            "--base-dir",
            str(ROOT),
            "--build-dir",
            str(BUILD_DIR),
            "--cached",
        ],
        check=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return BUILD_DIR


def _time_import(module: str, path: list[Path]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=path[0],
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(rounds: int = 7) -> dict[str, Any]:
    from heartbeat_cli.local.resources import load_template

    build = build_for_host()
    layer = build / "HeartbeatLayer" / "python"
    names = [n for n in functions(load_template()) if (build / n / "app.py").exists()]
    samples: dict[str, list[float]] = {"boto3": [], **{n: [] for n in names}}
    for _ in range(rounds):  # interleaved, so machine noise hits every figure alike
        samples["boto3"].append(_time_import("boto3", [layer]))
        for name in names:
            samples[name].append(_time_import("app", [build / name, layer]))
    floor = statistics.median(samples["boto3"])
    result: dict[str, Any] = {"boto3_import_s": round(floor, 4), "functions": {}}
    for name in names:
        median = statistics.median(samples[name])
        budget = BUDGETS.get(name, 1.5)
        result["functions"][name] = {
            "import_s": round(median, 4),
            "ratio_to_boto3": round(median / floor, 2),
            "budget": budget,
            "within_budget": median / floor <= budget,
        }
    return result
