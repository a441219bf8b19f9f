"""One run read whole (its output back from S3 when it was too large for the record), and a pinned
conversation's transcript read page by page, forgotten, and kept to its most recent turns."""

from __future__ import annotations

from heartbeat.dal.artifacts import (
    MAX_INLINE_OUTPUT_BYTES,
    OutputStore,
    TranscriptStore,
    preview,
    trim_turns,
)
from heartbeat.dal.runs import RunsTable
from heartbeat.models.run import Run
from heartbeat.soul.types import Message
from support.api import ApiClient

SEED = {"name": "daily-summary", "prompt": "Summarise the day.", "schedule": "0 18 * * *"}


def _task(api: ApiClient, **fields: str) -> dict:
    status, answer = api.call("POST", "/v1/tasks", body={**SEED, **fields})
    assert status == 201, answer
    return answer["task"]


def _run(aws, task_id: str, run_id: str, **fields) -> None:
    RunsTable(aws.dynamodb, aws.env["RUNS_TABLE"]).insert(
        Run(
            tenant_id="tenant-a",
            task_id=task_id,
            id=run_id,
            status="ok",
            trigger="manual",
            scheduled_at="2026-11-22T00:00:00.000Z",
            created_at="2026-11-22T00:00:00.000Z",
            expires_at=1_900_000_000,
            **fields,
        )
    )


def test_a_run_too_large_for_its_record_is_answered_whole_from_s3(aws):
    api = ApiClient(aws)
    task = _task(api)
    whole = "line of the report\n" * (MAX_INLINE_OUTPUT_BYTES // 10)
    key = OutputStore(aws.s3, aws.env["ARTIFACTS_BUCKET"]).put("tenant-a", task["id"], "run_big", whole)
    _run(aws, task["id"], "run_big", output=preview(whole), output_bytes=len(whole.encode()), output_key=key)

    status, answer = api.call("GET", f"/v1/tasks/{task['id']}/runs/run_big")
    assert status == 200, answer
    assert answer["run"]["output"] == whole and answer["run"]["output_truncated"] is False
    listed = api.call("GET", f"/v1/tasks/{task['id']}/runs")[1]["runs"][0]
    assert listed["output_truncated"] is True and len(listed["output"]) < len(whole)


def test_a_run_of_another_task_or_tenant_is_404(aws):
    api = ApiClient(aws)
    task, other = _task(api), _task(api, name="other")
    _run(aws, task["id"], "run_mine", output="done")
    assert api.call("GET", f"/v1/tasks/{other['id']}/runs/run_mine")[0] == 404
    assert api.call("GET", f"/v1/tasks/{task['id']}/runs/run_mine", tenant="tenant-b")[0] == 404
    assert api.call("GET", f"/v1/tasks/{task['id']}/runs/run_mine")[1]["run"]["output"] == "done"


def _turns(count: int) -> list[Message]:
    out: list[Message] = []
    for n in range(count):
        out += [
            Message(role="user", content=f"question {n}"),
            Message(role="assistant", content=f"answer {n}"),
        ]
    return out


def test_a_conversation_is_read_page_by_page_oldest_first_then_forgotten(aws):
    api = ApiClient(aws)
    TranscriptStore(aws.s3, aws.env["ARTIFACTS_BUCKET"]).append(
        "tenant-a", "standup", _turns(3), updated_at="t"
    )
    seen, cursor = [], None
    while True:
        query = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        status, page = api.call("GET", "/v1/conversations/standup", query=query)
        assert status == 200, page
        seen += [m["content"] for m in page["messages"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["question 0", "answer 0", "question 1", "answer 1", "question 2", "answer 2"]

    assert api.call("GET", "/v1/conversations/standup", tenant="tenant-b")[0] == 404
    assert api.call("DELETE", "/v1/conversations/standup", tenant="tenant-b")[0] == 404
    assert api.call("DELETE", "/v1/conversations/standup") == (200, {"ok": True, "id": "standup"})
    status, answer = api.call("GET", "/v1/conversations/standup")
    assert status == 404 and "conversation_id" in answer["error"]["message"]


def test_a_conversation_needs_the_memory_scopes(aws):
    api = ApiClient(aws)
    assert api.call("GET", "/v1/conversations/standup", scopes=("config.read",))[0] == 403
    assert api.call("DELETE", "/v1/conversations/standup", scopes=("memory.read",))[0] == 403


def test_a_transcript_keeps_its_most_recent_turns_whole():
    messages = _turns(5)
    messages.insert(3, Message(role="tool", content="tool result", tool_call_id="c1"))
    kept = trim_turns(messages, 2)
    assert [m.content for m in kept] == ["question 3", "answer 3", "question 4", "answer 4"]
    assert [m.content for m in trim_turns(messages, 4)][:3] == ["question 1", "tool result", "answer 1"]
    assert trim_turns(messages, 50) == messages


def test_appending_to_a_transcript_drops_the_turns_over_its_limit(aws):
    store = TranscriptStore(aws.s3, aws.env["ARTIFACTS_BUCKET"], max_turns=2)
    for n in range(4):
        store.append("tenant-a", "long", _turns(1 + n)[-2:], updated_at="t")
    assert [m.content for m in store.load("tenant-a", "long")] == [
        "question 2",
        "answer 2",
        "question 3",
        "answer 3",
    ]
