"""functions/executor/app.py with the sample event: the deployed handler, its configuration from
the environment, the offline model, log lines tagged with the run, and metrics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from heartbeat.dal.runs import RunsTable
from heartbeat.dal.tasks import TasksTable
from heartbeat.models.task import Task
from heartbeat.timeutil import iso, utcnow
from support.api import LambdaContext, load_function

EVENTS = Path(__file__).resolve().parents[3] / "events"
SAMPLE_TASK = "cron_01jdqm5v0n8g2x3k4y5z6a7b8c"


def test_the_sample_scheduled_event_runs_the_sample_task(aws, moto_endpoint, monkeypatch, capsys) -> None:
    for name, value in aws.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    TasksTable(aws.dynamodb, aws.env["TASKS_TABLE"]).insert(
        Task(
            tenant_id="demo",
            id=SAMPLE_TASK,
            name="sample",
            prompt="Say hello to the team.",
            schedule={"type": "cron", "expression": "0 18 * * *", "timezone": "UTC"},
            model="offline/heartbeat",
            created_at="2026-11-22T00:00:00.000Z",
            updated_at="2026-11-22T00:00:00.000Z",
        ),
        quota=100,
    )
    module = load_function("executor")
    # Powertools reuses a logger by name with the stream it was first given (perhaps by an earlier
    # test in this process): point it at this test's captured stdout.
    module.logger.registered_handler.setStream(sys.stdout)
    event = json.loads((EVENTS / "executor-scheduled.json").read_text())
    # The sample's slot is long past: delivered as it is, it is recorded missed (section 10).
    event["scheduled_time"] = iso(utcnow().replace(second=0, microsecond=0))
    answer = module.handler(event, LambdaContext())
    assert answer["status"] == "ok", answer
    runs, _ = RunsTable(aws.dynamodb, aws.env["RUNS_TABLE"]).page("demo", SAMPLE_TASK, 10, None)
    assert [r.id for r in runs] == [answer["run_id"]] and runs[0].output

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    logs = [line for line in lines if "level" in line]
    tagged = [line for line in logs if line.get("run_id") == answer["run_id"]]
    assert tagged and all(line["tenant_id"] == "demo" and line["task_id"] == SAMPLE_TASK for line in tagged)
    metrics = [line for line in lines if "_aws" in line]
    assert metrics and metrics[-1]["RunsOk"] in (1, 1.0, [1], [1.0])
    assert "RunDuration" in metrics[-1]

    # the same slot again (an at-least-once redelivery) does nothing
    assert module.handler(event, LambdaContext())["status"] == "duplicate"


def test_a_malformed_event_is_answered_not_retried(aws, moto_endpoint, monkeypatch) -> None:
    for name, value in aws.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    module = load_function("executor")
    answer = module.handler({"tenant_id": "demo"}, LambdaContext())
    assert answer["status"] == "ignored" and "task_id" in answer["reason"]
