"""Every sample event in events/ runs through its handler (functions/<name>/app.py) against moto
and gets the answer the contract promises, so `sam local invoke -e` and `heartbeat invoke` users
start from events that work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heartbeat.dal.keys import KeysTable
from heartbeat.dal.tasks import TasksTable
from heartbeat.models.key import ApiKey, hash_key
from heartbeat.models.task import Task
from support.api import LambdaContext, load_function

EVENTS = Path(__file__).resolve().parents[3] / "events"
SAMPLE_KEY = "hb_test_sample-key-for-local-invoke-0000000000000"
SAMPLE_TASK = "cron_01jdqm5v0n8g2x3k4y5z6a7b8c"

# The api answers each sample request with (status, top-level keys of the body).
EXPECTED = {
    "api-create-task.json": (201, {"task"}),
    "api-list-tasks.json": (200, {"tasks", "total", "next_cursor"}),
    "api-get-task.json": (200, {"task"}),
    "api-update-task.json": (200, {"task"}),
    "api-delete-task.json": (200, {"ok", "id"}),
    "api-memory-list-core.json": (200, {"blocks"}),
    "api-memory-put-core.json": (200, {"block"}),
    "api-memory-get-core.json": (200, {"block"}),
    "api-memory-insert-passage.json": (201, {"passage"}),
    "api-memory-search.json": (200, {"passages", "next_cursor", "exhaustive"}),
    "api-memory-delete-core.json": (200, {"ok", "label"}),
    "api-get-run.json": (200, {"run"}),
    "api-get-conversation.json": (200, {"conversation_id", "messages", "next_cursor"}),
    "api-delete-conversation.json": (200, {"ok", "id"}),
    "api-create-webhook.json": (201, {"webhook"}),
    "api-list-webhooks.json": (200, {"webhooks"}),
    "api-get-usage.json": (200, {"days", "budget"}),
    "api-get-schedule.json": (200, {"task_id", "schedule", "description", "timezone", "eventbridge", "next"}),
    "api-openapi.json": (200, {"openapi", "info", "servers", "paths", "components"}),
}
SAMPLE_RUN = "run_01jdqm6a0n8g2x3k4y5z6a7b8c"
SAMPLE_CONVERSATION = "daily-standup"


@pytest.fixture
def seeded(aws, monkeypatch):
    for name, value in aws.env.items():
        monkeypatch.setenv(name, value)
    KeysTable(aws.dynamodb, aws.env["KEYS_TABLE"]).put(
        hash_key(SAMPLE_KEY),
        ApiKey(
            key_id="key_sample",
            tenant_id="demo",
            scopes=frozenset({"config.read", "config.write"}),
            prefix=SAMPLE_KEY[:12],
            created_at="2026-11-22T00:00:00.000Z",
        ),
    )
    TasksTable(aws.dynamodb, aws.env["TASKS_TABLE"]).insert(
        Task(
            tenant_id="demo",
            id=SAMPLE_TASK,
            name="sample",
            prompt="p",
            schedule={"type": "cron", "expression": "0 18 * * *", "timezone": "UTC"},
            model="offline/heartbeat",
            created_at="2026-11-22T00:00:00.000Z",
            updated_at="2026-11-22T00:00:00.000Z",
        ),
        quota=100,
    )
    from heartbeat.memory.store import MemoryStore

    MemoryStore(aws.dynamodb, aws.env["MEMORY_TABLE"], "demo").put_block("persona", "Be brief.")
    from heartbeat.dal.artifacts import TranscriptStore
    from heartbeat.dal.runs import RunsTable
    from heartbeat.models.run import Run
    from heartbeat.soul.types import Message

    RunsTable(aws.dynamodb, aws.env["RUNS_TABLE"]).insert(
        Run(
            tenant_id="demo",
            task_id=SAMPLE_TASK,
            id=SAMPLE_RUN,
            status="ok",
            trigger="manual",
            scheduled_at="2026-11-22T00:00:00.000Z",
            created_at="2026-11-22T00:00:00.000Z",
            expires_at=1_900_000_000,
            output="All quiet.",
        )
    )
    TranscriptStore(aws.s3, aws.env["ARTIFACTS_BUCKET"]).append(
        "demo",
        SAMPLE_CONVERSATION,
        [Message(role="user", content="Standup?"), Message(role="assistant", content="All quiet.")],
        updated_at="2026-11-22T00:00:00.000Z",
    )
    return aws


def test_every_api_event_has_an_expectation():
    api_events = {p.name for p in EVENTS.glob("api-*.json")}
    assert set(EXPECTED) <= api_events
    for name in api_events - set(EXPECTED):
        # run events are run by the executor's tests; the delete-passage event just below
        assert name.startswith(("api-run", "api-list-runs", "api-memory-delete")), (
            f"{name} has no expectation"
        )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_api_sample_events(seeded, name):
    module = load_function("api")
    response = module.handler(json.loads((EVENTS / name).read_text()), LambdaContext())
    status, keys = EXPECTED[name]
    assert response["statusCode"] == status, response["body"]
    assert set(json.loads(response["body"])) == keys


def test_authorizer_sample_event(seeded):
    module = load_function("authorizer")
    answer = module.handler(json.loads((EVENTS / "authorizer.json").read_text()), LambdaContext())
    assert answer["isAuthorized"] is True and answer["context"]["tenant_id"] == "demo"


def test_memory_delete_event_deletes_the_passage_it_names(seeded):
    """The sample names a fixed id; here it names the passage the insert sample just stored."""
    module = load_function("api")
    inserted = module.handler(
        json.loads((EVENTS / "api-memory-insert-passage.json").read_text()), LambdaContext()
    )
    passage_id = json.loads(inserted["body"])["passage"]["id"]
    event_text = (EVENTS / "api-memory-delete-passage.json").read_text()
    sample_id = json.loads(event_text)["pathParameters"]["passage_id"]
    event = json.loads(event_text.replace(sample_id, passage_id))
    response = module.handler(event, LambdaContext())
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"ok": True, "id": passage_id}
    search = json.loads((EVENTS / "api-memory-search.json").read_text())
    assert json.loads(module.handler(search, LambdaContext())["body"])["passages"] == []


def test_notifier_sample_event(seeded):
    """The sample's tenant has no endpoint, so its event is handled with nothing to deliver."""
    module = load_function("notifier")
    answer = module.handler(json.loads((EVENTS / "notifier-sqs.json").read_text()), LambdaContext())
    assert answer == {"batchItemFailures": []}
