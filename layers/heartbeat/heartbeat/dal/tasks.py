"""The Tasks table: task items (pk tenant, sk task id) and the tenant's `#meta` item, whose
`task_count` answers `total` in one read and enforces the quota as a transaction condition."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from heartbeat.dal.dynamo import (
    AWS_ERRORS,
    cancellation_codes,
    decode_cursor,
    deserialize,
    encode_cursor,
    error_code,
    serialize,
    value,
)
from heartbeat.errors import ConflictError, DependencyError, NotFoundError, QuotaExceededError
from heartbeat.models.task import Task, task_from_item, task_to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

META_SK = "#meta"
TASK_PREFIX = "cron_"


def request_token(*parts: object) -> str:
    """A transaction's ClientRequestToken (at most 36 characters), derived from what the write is,
    so botocore's retry of a transaction whose answer was lost is a no-op on DynamoDB instead of
    failing its own condition."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:36]


class TasksTable:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, tenant_id: str, task_id: str) -> Task:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": tenant_id}, "sk": {"S": task_id}},
                ConsistentRead=True,
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the task failed ({error_code(exc)})") from exc
        if "Item" not in response or not task_id.startswith(TASK_PREFIX):
            raise NotFoundError(f"no task with id '{task_id}'", param="id")
        return task_from_item(deserialize(response["Item"]))

    def insert(self, task: Task, quota: int) -> None:
        """Put a new task and count it, in one transaction that fails if the tenant is at its quota."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": serialize(task_to_item(task)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": task.tenant_id}, "sk": {"S": META_SK}},
                            "UpdateExpression": "ADD task_count :one",
                            "ConditionExpression": "attribute_not_exists(task_count) OR task_count < :quota",
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":quota": {"N": str(quota)}},
                        }
                    },
                ],
                ClientRequestToken=request_token("insert", task.tenant_id, task.id),
            )
        except AWS_ERRORS as exc:
            reasons = cancellation_codes(exc)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise QuotaExceededError(
                    f"this tenant already has {quota} tasks, its quota: delete a task before creating another"
                ) from exc
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConflictError(f"a task with id '{task.id}' already exists") from exc
            raise DependencyError(f"saving the task failed ({error_code(exc)})") from exc

    def update(self, task: Task, attributes: set[str], expected_version: int) -> None:
        """Write only `attributes` of `task` (an attribute whose value is None is removed), if
        nobody changed the task since `expected_version` was read. Everything else on the item,
        such as the executor's lease and run state, is left as it is."""
        item = task_to_item(task)
        names = {f"#a{i}": name for i, name in enumerate(sorted(attributes | {"version"}))}
        sets = [f"{alias} = :v{alias[2:]}" for alias, name in names.items() if name in item]
        removes = [alias for alias, name in names.items() if name not in item]
        values = {f":v{alias[2:]}": value(item[name]) for alias, name in names.items() if name in item}
        values[":expected"] = value(expected_version)
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": task.tenant_id}, "sk": {"S": task.id}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk) AND version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except AWS_ERRORS as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise ConflictError(
                    f"task '{task.id}' was changed or deleted by another request: read it again and retry"
                ) from exc
            raise DependencyError(f"saving the task failed ({error_code(exc)})") from exc

    def delete(self, tenant_id: str, task_id: str) -> None:
        """Remove the task and uncount it, in one transaction."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": tenant_id}, "sk": {"S": task_id}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": {"pk": {"S": tenant_id}, "sk": {"S": META_SK}},
                            "UpdateExpression": "ADD task_count :minus_one",
                            "ExpressionAttributeValues": {":minus_one": {"N": "-1"}},
                        }
                    },
                ],
                ClientRequestToken=request_token("delete", tenant_id, task_id),
            )
        except AWS_ERRORS as exc:
            reasons = cancellation_codes(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise NotFoundError(f"no task with id '{task_id}'", param="id") from exc
            raise DependencyError(f"deleting the task failed ({error_code(exc)})") from exc

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Task], str | None]:
        """One page of the tenant's tasks in creation order, and the cursor of the next page."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": tenant_id}, ":prefix": {"S": TASK_PREFIX}},
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = {
                "pk": {"S": tenant_id},
                "sk": {"S": decode_cursor(cursor, TASK_PREFIX)},
            }
        try:
            response = self._client.query(**query)
        except AWS_ERRORS as exc:
            raise DependencyError(f"listing tasks failed ({error_code(exc)})") from exc
        tasks = [task_from_item(deserialize(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return tasks, (encode_cursor(last) if last and len(tasks) == limit else None)

    def count(self, tenant_id: str) -> int:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": tenant_id}, "sk": {"S": META_SK}},
                ProjectionExpression="task_count",
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"counting tasks failed ({error_code(exc)})") from exc
        return int(response.get("Item", {}).get("task_count", {}).get("N", "0"))
