"""The Webhooks table, and the tenant's subscription summary on the Tasks table's `#meta` item.

| table | pk | sk | item |
| --- | --- | --- | --- |
| Webhooks | tenant | `webhook#{id}` | an endpoint (no secret: that is in Secrets Manager) |
| Webhooks | `{tenant}#{webhook}` | `delivery#{event time}#{event id}` | one event's attempts at one endpoint (TTL `expires_at`) |
| Tasks | tenant | `#meta` | `hook_{webhook id}`: the events and tasks an *enabled* endpoint wants; `webhook_count` |

The executor already reads the task's item at the start of a run; it reads `#meta` in the same
BatchGetItem, so a run learns whether anyone listens without one more request, and sends its
events to the queue only when someone does. Every endpoint write changes both tables in one
transaction, so the summary never disagrees with the endpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from heartbeat.errors import (
    ConflictError,
    DependencyError,
    InvalidRequestError,
    NotFoundError,
    QuotaExceededError,
)
from heartbeat.models.webhook import (
    DELIVERY_SK_PREFIX,
    WEBHOOK_SK_PREFIX,
    Delivery,
    Webhook,
    deliveries_pk,
    delivery_from_item,
    delivery_sk,
    delivery_to_item,
    webhook_from_item,
    webhook_to_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

META_SK = "#meta"
HOOK_ATTR_PREFIX = "hook_"


def hook_attribute(webhook_id: str) -> str:
    return HOOK_ATTR_PREFIX + webhook_id


def subscriptions_from_meta(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The enabled endpoints' subscriptions held on a deserialised `#meta` item."""
    return [
        dict(v) for k, v in sorted(item.items()) if k.startswith(HOOK_ATTR_PREFIX) and isinstance(v, dict)
    ]


class WebhooksTable:
    def __init__(self, client: DynamoDBClient, table_name: str, tasks_table: str) -> None:
        self._client = client
        self._table = table_name
        self._tasks_table = tasks_table

    # -- endpoints ---------------------------------------------------------------------------
    def _key(self, tenant_id: str, webhook_id: str) -> dict[str, Any]:
        return {"pk": {"S": tenant_id}, "sk": {"S": WEBHOOK_SK_PREFIX + webhook_id}}

    def _meta_update(self, webhook: Webhook, *, count: int = 0, quota: int | None = None) -> Any:
        """Set (enabled) or remove (disabled) the endpoint's subscription on `#meta`; `count`
        adds to the tenant's endpoint count, refused past `quota`."""
        names = {"#h": hook_attribute(webhook.id)}
        values: dict[str, Any] = {}
        clauses = []
        if webhook.enabled:
            clauses.append("SET #h = :sub")
            values[":sub"] = value(webhook.subscription())
            remove = ""
        else:
            remove = " REMOVE #h"
        if count:
            clauses.append("ADD webhook_count :n")
            values[":n"] = {"N": str(count)}
        update: dict[str, Any] = {
            "TableName": self._tasks_table,
            "Key": {"pk": {"S": webhook.tenant_id}, "sk": {"S": META_SK}},
            "UpdateExpression": (" ".join(clauses) + remove).strip(),
            "ExpressionAttributeNames": names,
        }
        if values:
            update["ExpressionAttributeValues"] = values
        if quota is not None:
            update["ConditionExpression"] = "attribute_not_exists(webhook_count) OR webhook_count < :quota"
            update["ExpressionAttributeValues"] = {**values, ":quota": {"N": str(quota)}}
        return {"Update": update}

    def _task_checks(self, tenant_id: str, task_ids: Sequence[str]) -> list[Any]:
        """One ConditionCheck per task the endpoint names: it must exist in this tenant."""
        return [
            {
                "ConditionCheck": {
                    "TableName": self._tasks_table,
                    "Key": {"pk": {"S": tenant_id}, "sk": {"S": task_id}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            }
            for task_id in task_ids
        ]

    @staticmethod
    def _unknown_task(reasons: list[str], task_ids: Sequence[str], exc: Exception) -> None:
        """Raise a 400 naming the first task (checked from the transaction's third action on) that
        does not exist."""
        for task_id, reason in zip(task_ids, reasons[2:], strict=False):
            if reason == "ConditionalCheckFailed":
                raise InvalidRequestError(
                    f"task_ids: no task '{task_id}' in this tenant (task ids come from POST /v1/tasks)",
                    param="task_ids",
                ) from exc

    def insert(self, webhook: Webhook, *, quota: int, token: str) -> None:
        """The endpoint and its subscription, in one idempotent transaction (`token`: a retry of
        the same create within ten minutes is not applied twice) that also checks each task it
        names exists (InvalidRequestError if one does not)."""
        checked = list(webhook.task_ids or ())
        try:
            self._client.transact_write_items(
                ClientRequestToken=token,
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": serialize(webhook_to_item(webhook)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    self._meta_update(webhook, count=1, quota=quota),
                    *self._task_checks(webhook.tenant_id, checked),
                ],
            )
        except AWS_ERRORS as exc:
            reasons = cancellation_codes(exc)
            self._unknown_task(reasons, checked, exc)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise QuotaExceededError(
                    f"this tenant already has {quota} webhooks, its quota: delete one before adding another"
                ) from exc
            raise DependencyError(f"storing the webhook failed ({error_code(exc)})") from exc

    def get(self, tenant_id: str, webhook_id: str) -> Webhook:
        try:
            response = self._client.get_item(
                TableName=self._table, Key=self._key(tenant_id, webhook_id), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the webhook failed ({error_code(exc)})") from exc
        if "Item" not in response:
            raise NotFoundError(f"no webhook with id '{webhook_id}'", param="id")
        return webhook_from_item(deserialize(response["Item"]))

    def endpoints(self, tenant_id: str) -> list[Webhook]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": tenant_id}, ":prefix": {"S": WEBHOOK_SK_PREFIX}},
        }
        try:
            while True:
                response = self._client.query(**request)
                items.extend(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        except AWS_ERRORS as exc:
            raise DependencyError(f"listing webhooks failed ({error_code(exc)})") from exc
        return [webhook_from_item(deserialize(item)) for item in items]

    def replace(self, webhook: Webhook, *, expected_version: int, check_tasks: Sequence[str] = ()) -> None:
        """Write `webhook` (its version already bumped) if the stored one is still at
        `expected_version`, with its subscription; ConflictError when another write won,
        InvalidRequestError when a task in `check_tasks` (those the change adds) does not exist."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": serialize(webhook_to_item(webhook)),
                            "ConditionExpression": "version = :v",
                            "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
                        }
                    },
                    self._meta_update(webhook),
                    *self._task_checks(webhook.tenant_id, check_tasks),
                ],
            )
        except AWS_ERRORS as exc:
            reasons = cancellation_codes(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConflictError(
                    f"webhook '{webhook.id}' changed while this request was processed (or was deleted): "
                    "read it again and retry"
                ) from exc
            self._unknown_task(reasons, check_tasks, exc)
            raise DependencyError(f"updating the webhook failed ({error_code(exc)})") from exc

    def delete(self, webhook: Webhook) -> None:
        gone = webhook.evolve(enabled=False)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": self._key(webhook.tenant_id, webhook.id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    self._meta_update(gone, count=-1),
                ],
            )
        except AWS_ERRORS as exc:
            reasons = cancellation_codes(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise NotFoundError(f"no webhook with id '{webhook.id}'", param="id") from exc
            raise DependencyError(f"deleting the webhook failed ({error_code(exc)})") from exc

    def mark_attempt(self, tenant_id: str, webhook_id: str, *, ok: bool, at: str) -> Webhook | None:
        """Record an attempt's result on the endpoint: a success clears `failing_since`, a failure
        sets it unless set. The endpoint as it is now (None: deleted meanwhile)."""
        if ok:
            expression, values = "REMOVE failing_since", None
        else:
            expression, values = "SET failing_since = if_not_exists(failing_since, :at)", {":at": {"S": at}}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(tenant_id, webhook_id),
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(pk)",
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            response = self._client.update_item(**request)
        except AWS_ERRORS as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise DependencyError(
                f"recording the delivery on the webhook failed ({error_code(exc)})"
            ) from exc
        return webhook_from_item(deserialize(response["Attributes"]))

    # -- deliveries --------------------------------------------------------------------------
    def open_delivery(self, delivery: Delivery) -> Delivery:
        """The delivery record of (endpoint, event): `delivery` if this call created it, else the
        one already stored (a repeated event: the caller must not deliver it again)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(delivery_to_item(delivery)),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return delivery
        except AWS_ERRORS as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise DependencyError(f"recording the delivery failed ({error_code(exc)})") from exc
        return self.get_delivery(delivery)

    def get_delivery(self, delivery: Delivery) -> Delivery:
        try:
            response = self._client.get_item(
                TableName=self._table,
                Key={
                    "pk": {"S": deliveries_pk(delivery.tenant_id, delivery.webhook_id)},
                    "sk": {"S": delivery_sk(delivery.created_at, delivery.event_id)},
                },
                ConsistentRead=True,
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading the delivery failed ({error_code(exc)})") from exc
        if "Item" not in response:
            raise NotFoundError(f"no delivery of event {delivery.event_id}")
        return delivery_from_item(deserialize(response["Item"]))

    def save_delivery(self, delivery: Delivery, *, after_attempts: int) -> bool:
        """Record an attempt, unless another worker already recorded this one (attempts moved on
        or the delivery is final). False: not written."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(delivery_to_item(delivery)),
                ConditionExpression="attempts = :a AND #s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":a": {"N": str(after_attempts)}, ":pending": {"S": "pending"}},
            )
            return True
        except AWS_ERRORS as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise DependencyError(f"recording the delivery failed ({error_code(exc)})") from exc

    def list_deliveries(
        self, tenant_id: str, webhook_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Delivery], str | None]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": deliveries_pk(tenant_id, webhook_id)},
                ":prefix": {"S": DELIVERY_SK_PREFIX},
            },
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            sk = decode_cursor(cursor, DELIVERY_SK_PREFIX)
            request["ExclusiveStartKey"] = {
                "pk": {"S": deliveries_pk(tenant_id, webhook_id)},
                "sk": {"S": sk},
            }
        try:
            response = self._client.query(**request)
        except AWS_ERRORS as exc:
            raise DependencyError(f"listing deliveries failed ({error_code(exc)})") from exc
        deliveries = [delivery_from_item(deserialize(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return deliveries, (encode_cursor(last) if last and len(deliveries) == limit else None)
