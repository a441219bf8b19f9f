"""The Memory table's definition, shared by `template.yaml`'s resource and the tests' moto table
so the two cannot drift. No GSI and no TTL: every access is a key lookup or a Query within the
tenant's partition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_SCHEMA: list[dict[str, str]] = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS: list[dict[str, str]] = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
]
TABLE_DEFINITION: dict[str, Any] = {
    "KeySchema": KEY_SCHEMA,
    "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
    "BillingMode": "PAY_PER_REQUEST",
}


def create_table(client: DynamoDBClient, name: str) -> None:
    """Create the Memory table (tests, the local stack) and wait until it is active."""
    client.create_table(TableName=name, **TABLE_DEFINITION)
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
