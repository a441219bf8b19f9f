"""Memory tests run against a moto DynamoDB table created from template.yaml's MemoryTable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from heartbeat.memory.store import MemoryStore
from heartbeat_cli.local.resources import create_table

TABLE = "heartbeat-memory-test"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "MemoryTable", TABLE)
        yield client


class SerializedClient:
    """The DynamoDB client with each request made atomic, as DynamoDB's are. moto's in-process
    backend is not thread-safe (it deep-copies the table inside a transaction), so concurrent
    tests share this: requests from many threads interleave, each one runs alone."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


@pytest.fixture
def shared_client(dynamodb: Any) -> SerializedClient:
    return SerializedClient(dynamodb)


@pytest.fixture
def store_a(dynamodb: Any) -> MemoryStore:
    return MemoryStore(dynamodb, TABLE, "tenant-a")


@pytest.fixture
def store_b(dynamodb: Any) -> MemoryStore:
    return MemoryStore(dynamodb, TABLE, "tenant-b")


@pytest.fixture
def partition(dynamodb: Any) -> Any:
    """`partition(tenant)`: every item of a tenant's partition, by sort key (test inspection only)."""

    def read(tenant: str) -> dict[str, dict[str, Any]]:
        return _partition(dynamodb, tenant)

    return read


def _partition(client: Any, tenant: str) -> dict[str, dict[str, Any]]:
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": tenant}},
    }
    while True:
        response = client.query(**kwargs)
        for item in response["Items"]:
            items[item["sk"]["S"]] = item
        if "LastEvaluatedKey" not in response:
            return items
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
