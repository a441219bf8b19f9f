"""Saving the local stack's AWS state to the data dir and loading it into a fresh endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from heartbeat_cli.local.aws_endpoint import request_writes
from heartbeat_cli.local.resources import StackNames, provision
from heartbeat_cli.local.state import StateStore


@pytest.fixture
def fresh_aws() -> Iterator[Any]:
    """Make a provisioned, empty moto (in process); each call starts from nothing."""
    from moto import mock_aws

    from heartbeat_cli.local.aws_endpoint import endpoint_clients

    def make() -> dict[str, Any]:
        mock.stop()
        mock.start()
        clients = endpoint_clients(None)
        provision(
            dynamodb=clients["dynamodb"],
            scheduler=clients["scheduler"],
            s3=clients["s3"],
            sqs=clients["sqs"],
            names=StackNames(),
        )
        return clients

    mock = mock_aws()
    mock.start()
    yield make
    mock.stop()


def test_tables_schedules_objects_and_secrets_survive_a_restart(fresh_aws: Any, tmp_path: Path) -> None:
    names = StackNames()
    clients = fresh_aws()
    for n in range(30):  # more than one batch
        clients["dynamodb"].put_item(
            TableName=names.table("TasksTable"),
            Item={"pk": {"S": "acme"}, "sk": {"S": f"cron_{n:02d}"}, "n": {"N": str(n)}},
        )
    clients["dynamodb"].put_item(
        TableName=names.table("MemoryTable"),
        Item={"pk": {"S": "acme"}, "sk": {"S": "core#persona"}, "v": {"S": "hi"}},
    )
    clients["scheduler"].create_schedule(
        Name="s1",
        GroupName=names.schedule_group,
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="DISABLED",
        EndDate=datetime(2031, 1, 1, tzinfo=UTC),
        Target={
            "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "Input": '{"a": "<aws.scheduler.scheduled-time>"}',
        },
    )
    before = clients["scheduler"].get_schedule(Name="s1", GroupName=names.schedule_group)
    clients["s3"].put_object(
        Bucket=names.bucket, Key="transcripts/acme/c1.json", Body=b"\x00{}", ContentType="application/json"
    )
    clients["secretsmanager"].create_secret(Name="heartbeat/anthropic", SecretString="sk-test")

    store = StateStore(tmp_path)
    store.save(clients)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dynamodb.json",
        "s3.json",
        "scheduler.json",
        "secretsmanager.json",
    ]

    clients = fresh_aws()
    assert clients["dynamodb"].scan(TableName=names.table("TasksTable"))["Count"] == 0
    assert store.restore(clients) == ["dynamodb", "scheduler", "s3", "secretsmanager"]

    assert clients["dynamodb"].scan(TableName=names.table("TasksTable"))["Count"] == 30
    memory = clients["dynamodb"].get_item(
        TableName=names.table("MemoryTable"), Key={"pk": {"S": "acme"}, "sk": {"S": "core#persona"}}
    )
    assert memory["Item"]["v"] == {"S": "hi"}
    after = clients["scheduler"].get_schedule(Name="s1", GroupName=names.schedule_group)
    for field in ("ScheduleExpression", "State", "Target", "EndDate", "CreationDate", "LastModificationDate"):
        assert after[field] == before[field], field
    obj = clients["s3"].get_object(Bucket=names.bucket, Key="transcripts/acme/c1.json")
    assert obj["Body"].read() == b"\x00{}" and obj["ContentType"] == "application/json"
    assert (
        clients["secretsmanager"].get_secret_value(SecretId="heartbeat/anthropic")["SecretString"]
        == "sk-test"
    )


def test_saving_replaces_the_file_whole(fresh_aws: Any, tmp_path: Path) -> None:
    clients = fresh_aws()
    store = StateStore(tmp_path)
    store.save(clients, ["dynamodb"])
    first = json.loads((tmp_path / "dynamodb.json").read_text())
    clients["dynamodb"].put_item(
        TableName=StackNames().table("KeysTable"), Item={"pk": {"S": "h"}, "key_id": {"S": "key_1"}}
    )
    store.save(clients, ["dynamodb"])
    second = json.loads((tmp_path / "dynamodb.json").read_text())
    assert first["tables"][StackNames().table("KeysTable")] == []
    assert len(second["tables"][StackNames().table("KeysTable")]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["dynamodb.json"]  # no temporary file left behind


def test_an_unknown_format_is_refused_rather_than_half_loaded(fresh_aws: Any, tmp_path: Path) -> None:
    (tmp_path / "dynamodb.json").write_text(json.dumps({"format": 99, "tables": {}}))
    with pytest.raises(ValueError, match="unknown state format"):
        StateStore(tmp_path).restore(fresh_aws())


CREDENTIAL = "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/{}/aws4_request, SignedHeaders=host"


@pytest.mark.parametrize(
    ("method", "service", "target", "writes"),
    [
        ("POST", "dynamodb", "DynamoDB_20120810.PutItem", "dynamodb"),
        ("POST", "dynamodb", "DynamoDB_20120810.Query", None),
        ("POST", "dynamodb", "DynamoDB_20120810.BatchGetItem", None),
        ("POST", "scheduler", "", "scheduler"),
        ("DELETE", "scheduler", "", "scheduler"),
        ("GET", "scheduler", "", None),
        ("PUT", "s3", "", "s3"),
        ("HEAD", "s3", "", None),
        ("POST", "secretsmanager", "secretsmanager.GetSecretValue", None),
    ],
)
def test_the_endpoint_knows_which_requests_write(
    method: str, service: str, target: str, writes: str | None
) -> None:
    headers = {"authorization": CREDENTIAL.format(service), "x-amz-target": target}
    assert request_writes(method, headers) == writes
