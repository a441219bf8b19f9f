"""Pure pieces of the executor: the backoff ladder, events, slot ids, previews, records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from heartbeat.dal.artifacts import message_from_json, message_to_json, preview
from heartbeat.errors import InvalidRequestError
from heartbeat.executor.backoff import backoff_after, backoff_until
from heartbeat.models.executor_event import ExecutorEvent
from heartbeat.models.run import Run, run_from_item, run_to_api, run_to_item, slot_run_id
from heartbeat.soul.types import Message, ToolCall


@pytest.mark.parametrize(
    ("errors", "wait"),
    [(0, 0), (1, 30), (2, 60), (3, 300), (4, 900), (5, 3600), (6, 3600), (40, 3600)],
)
def test_backoff_ladder(errors: int, wait: int) -> None:
    assert backoff_after(errors) == timedelta(seconds=wait)
    finished = datetime(2026, 1, 1, tzinfo=UTC)
    assert backoff_until(errors, finished) == finished + timedelta(seconds=wait)


def test_an_event_names_its_slot_in_one_canonical_form() -> None:
    a = ExecutorEvent.parse({"tenant_id": "t", "task_id": "cron_x", "scheduled_time": "2026-11-23T18:00:00Z"})
    b = ExecutorEvent.parse(
        {"tenant_id": "t", "task_id": "cron_x", "scheduled_time": "2026-11-23T13:00:00-05:00"}
    )
    assert a.slot == b.slot == "2026-11-23T18:00:00.000Z"
    assert a.trigger == "schedule" and a.run_id is None and a.attempt == 0


@pytest.mark.parametrize(
    ("event", "param"),
    [
        ({"task_id": "cron_x", "scheduled_time": "2026-11-23T18:00:00Z"}, "tenant_id"),
        (
            {"tenant_id": "t", "task_id": "cron_x", "scheduled_time": "<aws.scheduler.scheduled-time>"},
            "scheduled_time",
        ),
        (
            {"tenant_id": "t", "task_id": "cron_x", "scheduled_time": "2026-11-23T18:00:00Z", "run_id": "x"},
            "run_id",
        ),
    ],
)
def test_a_malformed_event_is_rejected_naming_the_field(event, param) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ExecutorEvent.parse(event)
    assert caught.value.param == param


def test_every_delivery_of_a_slot_derives_the_same_run_id_and_ids_sort_by_slot() -> None:
    ms = int(datetime(2026, 11, 23, 18, tzinfo=UTC).timestamp() * 1000)
    first = slot_run_id("t", "cron_x", "2026-11-23T18:00:00.000Z", ms)
    assert first == slot_run_id("t", "cron_x", "2026-11-23T18:00:00.000Z", ms)
    assert first.startswith("run_") and len(first) == 30
    assert first != slot_run_id("t", "cron_y", "2026-11-23T18:00:00.000Z", ms)
    assert first != slot_run_id("u", "cron_x", "2026-11-23T18:00:00.000Z", ms)
    later = slot_run_id("t", "cron_x", "2026-11-23T18:01:00.000Z", ms + 60_000)
    assert later > first


def test_a_preview_never_cuts_a_character() -> None:
    text = "é" * 10
    assert preview(text, 5) == "éé"
    assert preview("short", 100) == "short"


def test_transcript_messages_round_trip() -> None:
    messages = [
        Message(role="user", content="hi"),
        Message(
            role="assistant",
            content="",
            tool_calls=(ToolCall(id="c1", name="archival_memory_search", arguments={"query": "x"}),),
        ),
        Message(role="tool", content="nothing", tool_call_id="c1", is_error=True),
    ]
    assert [message_from_json(message_to_json(m)) for m in messages] == messages


def test_a_run_record_round_trips_and_answers_in_the_api_shape() -> None:
    run = Run(
        tenant_id="t",
        task_id="cron_x",
        id="run_1",
        status="ok",
        trigger="schedule",
        scheduled_at="2026-11-23T18:00:00.000Z",
        created_at="2026-11-23T18:00:00.100Z",
        expires_at=1,
        usage={"input_tokens": 1, "output_tokens": 2},
        output="hi",
        output_bytes=2,
    )
    item = run_to_item(run)
    assert item["pk"] == "t#cron_x" and item["sk"] == "run#run_1" and "error" not in item
    assert run_from_item(item) == run
    api = run_to_api(run)
    assert api["id"] == "run_1" and api["output_truncated"] is False and api["error"] is None
    assert "tenant_id" not in api and "expires_at" not in api
