"""At start, keep every task's `state.next_run_at` true: slots that passed while the stack was
stopped are not in the future any more, so each enabled task whose `next_run_at` lies in the past
gets the next time its schedule really fires (from its schedule, in its time zone). What becomes
of the missed slots themselves is the catch-up policy's business (DESIGN.md section 10)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

log = logging.getLogger("heartbeat.local")


def refresh_next_runs(dynamodb: Any, tasks_table: str, now: datetime) -> int:
    """Recompute each stale `next_run_at`; the number of tasks changed. A task changed since it was
    read (its `version`) is left to the change, which computed its own."""
    from botocore.exceptions import ClientError

    from heartbeat.dal.dynamo import deserialize
    from heartbeat.executor.core import schedule_next_run
    from heartbeat.models.task import task_from_item
    from heartbeat.timeutil import iso

    stamp = iso(now)
    changed = 0
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=tasks_table,
        FilterExpression="enabled = :yes AND next_run_at < :now",
        ExpressionAttributeValues={":yes": {"BOOL": True}, ":now": {"S": stamp}},
    ):
        for raw in page.get("Items", []):
            task = task_from_item(deserialize(raw))
            nxt = schedule_next_run(task, now)
            update = "SET next_run_at = :next" if nxt else "REMOVE next_run_at"
            values: dict[str, Any] = {":v": {"N": str(task.version)}}
            if nxt:
                values[":next"] = {"S": nxt}
            try:
                dynamodb.update_item(
                    TableName=tasks_table,
                    Key={"pk": raw["pk"], "sk": raw["sk"]},
                    UpdateExpression=update,
                    ConditionExpression="version = :v",
                    ExpressionAttributeValues=values,
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                continue
            changed += 1
    if changed:
        log.info("next_run_at moved past the stopped time for %d task(s)", changed)
    return changed
