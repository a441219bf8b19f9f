"""The start and finish transactions' decisions, against a client that answers what a test says:
which item's condition failed, and writes racing ours (TransactionConflict)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from heartbeat.dal.artifacts import MAX_INLINE_OUTPUT_BYTES, preview
from heartbeat.dal.runs import RunsTable
from heartbeat.dal.task_state import RunState, StartResult, TaskStateTable
from heartbeat.errors import DependencyError
from heartbeat.executor.core import MAX_ERROR_CHARS
from heartbeat.models.run import Run, run_to_item

DYNAMODB_ITEM_LIMIT = 400 * 1024


class ScriptedDynamo:
    """`transact_write_items` cancels with the next list of per-item codes (None: it succeeds)."""

    def __init__(self, *answers: list[str] | None) -> None:
        self.answers = list(answers)
        self.calls: list[list[dict[str, Any]]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(TransactItems)
        codes = self.answers.pop(0)
        if codes is None:
            return {}
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException"},
                "CancellationReasons": [{"Code": c} for c in codes],
            },
            "TransactWriteItems",
        )


def tables(client: ScriptedDynamo) -> tuple[TaskStateTable, RunsTable]:
    return TaskStateTable(client, "tasks"), RunsTable(client, "runs")  # type: ignore[arg-type]


def run(**changes: Any) -> Run:
    base = Run(
        tenant_id="t",
        task_id="cron_x",
        id="run_01",
        status="ok",
        trigger="schedule",
        scheduled_at="2026-11-23T18:00:00.000Z",
        created_at="2026-11-23T18:00:00.000Z",
        expires_at=1,
    )
    return base.evolve(**changes)


def start(client: ScriptedDynamo) -> StartResult:
    state, runs = tables(client)
    return state.start(
        "t", "cron_x", runs=runs, run_id="run_01", started_at="x", now_ms=1, lease_until_ms=2, slot=3
    )


def finish(client: ScriptedDynamo, slot: int | None = 3) -> Any:
    state, runs = tables(client)
    return state.finish(
        "t",
        "cron_x",
        "run_01",
        RunState(last_status="ok", last_run_at="x", last_run_id="run_01", next_run_at="y", counts=True),
        expected_version=4,
        runs=runs,
        record=run(),
        slot=slot,
    )


def test_start_takes_lease_run_and_tenant_slot_in_one_transaction() -> None:
    client = ScriptedDynamo(None)
    assert start(client) is StartResult.STARTED
    (items,) = client.calls
    assert [next(iter(i.values()))["TableName"] for i in items] == ["tasks", "runs", "runs"]
    assert items[2]["Update"]["Key"]["sk"] == {"S": "slot#3"}


@pytest.mark.parametrize(
    ("codes", "result"),
    [
        (
            ["ConditionalCheckFailed", "ConditionalCheckFailed", "ConditionalCheckFailed"],
            StartResult.RUN_TAKEN,
        ),
        (["ConditionalCheckFailed", "None", "ConditionalCheckFailed"], StartResult.LEASE_HELD),
        (["None", "None", "ConditionalCheckFailed"], StartResult.SLOT_TAKEN),
    ],
)
def test_start_names_what_stopped_it_run_before_lease_before_slot(codes, result) -> None:
    assert start(ScriptedDynamo(codes)) is result


def test_start_retries_a_transaction_that_raced_another_write_and_gives_up_after_three() -> None:
    conflict = ["TransactionConflict", "None", "None"]
    client = ScriptedDynamo(conflict, None)
    assert start(client) is StartResult.STARTED and len(client.calls) == 2
    with pytest.raises(DependencyError):
        start(ScriptedDynamo(conflict, conflict, conflict))


def test_finish_is_one_transaction_of_record_state_and_slot() -> None:
    client = ScriptedDynamo(None)
    written = finish(client)
    assert (written.record, written.state, written.slot) == (True, True, True)
    (items,) = client.calls
    assert [next(iter(i)) for i in items] == ["Put", "Update", "Update"]
    state = items[1]["Update"]
    assert "lease_run_id = :lease_run" in state["ConditionExpression"]
    assert "#version = :expected" in state["ConditionExpression"]
    assert (
        "REMOVE" in state["UpdateExpression"] and "#next_run_at = :next_run_at" in state["UpdateExpression"]
    )


def test_a_task_changed_during_the_run_gets_its_state_without_next_run_at() -> None:
    client = ScriptedDynamo(["None", "ConditionalCheckFailed", "None"], None)
    written = finish(client)
    assert (written.record, written.state, written.slot) == (True, True, True)
    retried = client.calls[1][1]["Update"]
    assert (
        ":expected" not in retried["ExpressionAttributeValues"]
        and "next_run_at" not in retried["UpdateExpression"]
    )


def test_a_lost_lease_and_an_expired_slot_never_stop_the_record() -> None:
    client = ScriptedDynamo(
        ["None", "ConditionalCheckFailed", "ConditionalCheckFailed"],
        ["None", "ConditionalCheckFailed"],
        None,
    )
    written = finish(client)
    assert (written.record, written.state, written.slot) == (True, False, False)
    assert [len(items) for items in client.calls] == [3, 2, 1]
    assert "Put" in client.calls[-1][0]


def test_finish_without_a_slot_and_unknown_failures_raise() -> None:
    client = ScriptedDynamo(None)
    finish(client, slot=None)
    assert len(client.calls[0]) == 2
    with pytest.raises(DependencyError):
        finish(ScriptedDynamo(["None", "ValidationError", "None"]))


def _item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings as UTF-8; numbers ~21 bytes)."""

    def size(v: Any) -> int:
        if isinstance(v, str):
            return len(v.encode())
        if isinstance(v, dict):
            return 3 + sum(len(k.encode()) + 1 + size(x) for k, x in v.items())
        return 21

    return sum(len(k.encode()) + size(v) for k, v in item.items())


def test_the_largest_run_record_fits_a_transaction_item() -> None:
    wide = "\U0001f600"  # 4 bytes of UTF-8
    inline = wide * (MAX_INLINE_OUTPUT_BYTES // 4)
    largest = run(
        model="anthropic/" + "m" * 200,
        conversation_id="c" * 128,
        started_at="2026-11-23T18:00:00.000Z",
        finished_at="2026-11-23T18:00:00.000Z",
        duration_ms=1,
        reason=wide * MAX_ERROR_CHARS,
        usage={"input_tokens": 1, "output_tokens": 1, "cache_read_tokens": 1, "cache_write_tokens": 1},
        output=inline,
        output_bytes=len(inline.encode()),
        error=wide * MAX_ERROR_CHARS,
    )
    assert len(inline.encode()) <= MAX_INLINE_OUTPUT_BYTES
    assert len(preview(inline * 2).encode()) < MAX_INLINE_OUTPUT_BYTES  # larger outputs keep a preview
    assert _item_size(run_to_item(largest)) < DYNAMODB_ITEM_LIMIT // 4
