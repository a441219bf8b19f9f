"""With several executor functions (ExecutorShards), a tenant's schedules and run-now invocations
all go to its one shard, tenants spread over the shards, and an executor invoked under a function
that is not (or no longer) the tenant's shard still runs the task."""

from __future__ import annotations

import json

from botocore.stub import Stubber

from heartbeat.dal.shards import ExecutorTargets
from heartbeat.runs.invoker import LambdaInvoker
from support.api import ApiClient

ARNS = [f"arn:aws:lambda:us-east-1:123456789012:function:hb-ExecutorShard{n}" for n in range(16)]
TASK = {"name": "t", "prompt": "p", "schedule": "0 9 * * *", "timezone": "Europe/Berlin"}


def targets_by_tenant(aws) -> dict[str, set[str]]:
    group = aws.names.schedule_group
    found: dict[str, set[str]] = {}
    listed = [
        s
        for page in aws.scheduler.get_paginator("list_schedules").paginate(GroupName=group)
        for s in page["Schedules"]
    ]
    for one in listed:
        target = aws.scheduler.get_schedule(Name=one["Name"], GroupName=group)["Target"]
        found.setdefault(json.loads(target["Input"])["tenant_id"], set()).add(target["Arn"])
    return found


def test_a_tenants_schedules_all_target_its_shard_and_tenants_use_every_shard(aws) -> None:
    api = ApiClient(aws, EXECUTOR_ARNS=",".join(ARNS), EXECUTOR_SHARDS="4")
    tenants = [f"tenant-{n}" for n in range(24)]
    for tenant in tenants:
        for _ in range(2):
            assert api.call("POST", "/v1/tasks", body=TASK, tenant=tenant)[0] == 201
        # a both-day-fields cron makes two schedules: both on the tenant's shard too
        both = {**TASK, "schedule": "0 9 1 * 1"}
        assert api.call("POST", "/v1/tasks", body=both, tenant=tenant)[0] == 201
    found = targets_by_tenant(aws)
    expected = ExecutorTargets.parse(ARNS, 4)
    assert found == {tenant: {expected.for_tenant(tenant)} for tenant in tenants}
    assert set().union(*found.values()) == set(ARNS[:4])  # none of the 12 functions not in use


def test_a_patch_after_the_shard_count_changed_moves_the_schedule_to_the_new_shard(aws) -> None:
    one = ApiClient(aws, EXECUTOR_ARNS=",".join(ARNS), EXECUTOR_SHARDS="1")
    tenant = next(
        f"tenant-{n}"
        for n in range(100)
        if ExecutorTargets.parse(ARNS, 16).for_tenant(f"tenant-{n}") != ARNS[0]
    )
    _, body = one.call("POST", "/v1/tasks", body=TASK, tenant=tenant)
    assert targets_by_tenant(aws) == {tenant: {ARNS[0]}}
    sixteen = ApiClient(aws, EXECUTOR_ARNS=",".join(ARNS), EXECUTOR_SHARDS="16")
    task_id = body["task"]["id"]
    assert (
        sixteen.call("PATCH", f"/v1/tasks/{task_id}", body={"schedule": "0 10 * * *"}, tenant=tenant)[0]
        == 200
    )
    assert targets_by_tenant(aws) == {tenant: {ExecutorTargets.parse(ARNS, 16).for_tenant(tenant)}}


def test_run_now_invokes_the_tenants_shard() -> None:
    import boto3

    client = boto3.client("lambda", region_name="us-east-1")
    targets = ExecutorTargets.parse(ARNS, 16)
    stubber = Stubber(client)
    events = [{"tenant_id": f"tenant-{n}", "task_id": "cron_x", "run_id": f"run_{n}"} for n in range(5)]
    for event in events:
        stubber.add_response(
            "invoke",
            {"StatusCode": 202},
            {
                "FunctionName": targets.for_tenant(event["tenant_id"]),
                "InvocationType": "Event",
                "Payload": json.dumps(event).encode(),
            },
        )
    with stubber:
        for event in events:
            LambdaInvoker(client, targets).invoke(event)
    stubber.assert_no_pending_responses()
