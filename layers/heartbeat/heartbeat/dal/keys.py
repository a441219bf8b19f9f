"""The Keys table: pk = SHA-256 of the key; GSI `by_key_id` finds a key by its public id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import AWS_ERRORS, deserialize, error_code, serialize
from heartbeat.errors import DependencyError, NotFoundError
from heartbeat.models.key import ApiKey

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_ID_INDEX = "by_key_id"


class KeysTable:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, key_hash: str, key: ApiKey) -> None:
        item: dict[str, Any] = {
            "pk": key_hash,
            "key_id": key.key_id,
            "tenant_id": key.tenant_id,
            "scopes": sorted(key.scopes),
            "prefix": key.prefix,
            "created_at": key.created_at,
        }
        try:
            self._client.put_item(
                TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"saving the key failed ({error_code(exc)})") from exc

    def find(self, key_hash: str) -> ApiKey | None:
        try:
            response = self._client.get_item(TableName=self._table, Key={"pk": {"S": key_hash}})
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the key failed ({error_code(exc)})") from exc
        item = response.get("Item")
        return _key_from_item(deserialize(item)) if item else None

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every key (an operator's view), optionally of one tenant. Keys are few: a scan is fine."""
        keys: list[ApiKey] = []
        request: dict[str, Any] = {"TableName": self._table}
        try:
            while True:
                response = self._client.scan(**request)
                keys.extend(_key_from_item(deserialize(i)) for i in response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        except AWS_ERRORS as exc:
            raise DependencyError(f"listing keys failed ({error_code(exc)})") from exc
        if tenant_id is not None:
            keys = [k for k in keys if k.tenant_id == tenant_id]
        return sorted(keys, key=lambda k: (k.tenant_id, k.created_at))

    def revoke(self, key_id: str, revoked_at: str) -> ApiKey:
        try:
            response = self._client.query(
                TableName=self._table,
                IndexName=KEY_ID_INDEX,
                KeyConditionExpression="key_id = :id",
                ExpressionAttributeValues={":id": {"S": key_id}},
            )
            items = response.get("Items", [])
            if not items:
                raise NotFoundError(f"no key with id '{key_id}'", param="key_id")
            updated = self._client.update_item(
                TableName=self._table,
                Key={"pk": items[0]["pk"]},
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :at)",
                ExpressionAttributeValues={":at": {"S": revoked_at}},
                ReturnValues="ALL_NEW",
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"revoking the key failed ({error_code(exc)})") from exc
        return _key_from_item(deserialize(updated["Attributes"]))


def _key_from_item(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        key_id=item["key_id"],
        tenant_id=item["tenant_id"],
        scopes=frozenset(item.get("scopes", [])),
        prefix=item.get("prefix", ""),
        created_at=item["created_at"],
        revoked_at=item.get("revoked_at"),
    )
