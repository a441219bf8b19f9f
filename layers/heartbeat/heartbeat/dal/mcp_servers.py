"""Tenants' MCP servers: the record in the Tasks table (pk tenant, sk `mcp#<name>`) and the header
values in one Secrets Manager secret per tenant and server, named `<prefix><tenant>/<name>`
(docs/decisions/2026-12-01-mcp-server-secrets.md). Errors never carry a header value."""

from __future__ import annotations

import json
import logging
from typing import Any

from heartbeat.dal.dynamo import AWS_ERRORS, deserialize, error_code, serialize
from heartbeat.errors import DependencyError, NotFoundError
from heartbeat.models.mcp_server import (
    MCP_SK_PREFIX,
    McpServer,
    mcp_server_from_item,
    mcp_server_to_item,
)

logger = logging.getLogger(__name__)


class McpServersStore:
    def __init__(self, dynamodb: Any, table: str, secrets: Any, secret_prefix: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._secrets = secrets
        self._prefix = secret_prefix

    def secret_name(self, tenant_id: str, name: str) -> str:
        return f"{self._prefix}{tenant_id}/{name}"

    # -- records -----------------------------------------------------------------------------
    def get(self, tenant_id: str, name: str) -> McpServer:
        try:
            response = self._dynamodb.get_item(
                TableName=self._table,
                Key={"pk": {"S": tenant_id}, "sk": {"S": MCP_SK_PREFIX + name}},
                ConsistentRead=True,
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"reading MCP server '{name}' failed ({error_code(exc)})") from exc
        if "Item" not in response:
            raise NotFoundError(f"no MCP server named '{name}'", param="name")
        return mcp_server_from_item(deserialize(response["Item"]))

    def find(self, tenant_id: str, name: str) -> McpServer | None:
        try:
            return self.get(tenant_id, name)
        except NotFoundError:
            return None

    def list(self, tenant_id: str) -> list[McpServer]:
        servers: list[McpServer] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": tenant_id}, ":prefix": {"S": MCP_SK_PREFIX}},
        }
        while True:
            try:
                response = self._dynamodb.query(**query)
            except AWS_ERRORS as exc:
                raise DependencyError(f"listing MCP servers failed ({error_code(exc)})") from exc
            servers.extend(mcp_server_from_item(deserialize(item)) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return servers
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def put(self, server: McpServer, headers: dict[str, str]) -> McpServer:
        """Store `server` with `headers` (replacing an earlier server of that name). The secret is
        written first, so a record never names a secret that does not hold its headers."""
        secret_id = self.secret_name(server.tenant_id, server.name) if headers else None
        if secret_id is not None:
            self._put_secret(server, secret_id, headers)
        stored = McpServer(**{**server.__dict__, "secret_id": secret_id})
        try:
            self._dynamodb.put_item(TableName=self._table, Item=serialize(mcp_server_to_item(stored)))
        except AWS_ERRORS as exc:
            raise DependencyError(f"saving MCP server '{server.name}' failed ({error_code(exc)})") from exc
        if secret_id is None:
            self._delete_secret(self.secret_name(server.tenant_id, server.name), missing_ok=True)
        return stored

    def delete(self, server: McpServer) -> None:
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key={"pk": {"S": server.tenant_id}, "sk": {"S": MCP_SK_PREFIX + server.name}},
            )
        except AWS_ERRORS as exc:
            raise DependencyError(f"deleting MCP server '{server.name}' failed ({error_code(exc)})") from exc
        if server.secret_id is not None:
            self._delete_secret(server.secret_id, missing_ok=True)

    # -- header values -----------------------------------------------------------------------
    def headers(self, server: McpServer) -> dict[str, str]:
        """The header values (a secret: never log or answer them)."""
        if server.secret_id is None:
            return {}
        try:
            response = self._secrets.get_secret_value(SecretId=server.secret_id)
        except AWS_ERRORS as exc:
            raise DependencyError(
                f"reading the headers of MCP server '{server.name}' failed ({error_code(exc)}): the "
                "function needs secretsmanager:GetSecretValue on its MCP secrets"
            ) from exc
        try:
            headers = json.loads(response["SecretString"])
        except (KeyError, ValueError) as exc:
            raise DependencyError(f"the stored headers of MCP server '{server.name}' are unreadable") from exc
        return {str(k): str(v) for k, v in headers.items()}

    def _put_secret(self, server: McpServer, secret_id: str, headers: dict[str, str]) -> None:
        body = json.dumps(headers)
        try:
            try:
                self._secrets.create_secret(
                    Name=secret_id,
                    SecretString=body,
                    Description=f"Headers of MCP server '{server.name}' (Heartbeat)",
                    Tags=[
                        {"Key": "heartbeat:tenant", "Value": server.tenant_id},
                        {"Key": "heartbeat:mcp-server", "Value": server.name},
                    ],
                )
            except self._secrets.exceptions.ResourceExistsException:
                self._secrets.put_secret_value(SecretId=secret_id, SecretString=body)
        except AWS_ERRORS as exc:
            raise DependencyError(
                f"storing the headers of MCP server '{server.name}' failed ({error_code(exc)})"
            ) from exc

    def _delete_secret(self, secret_id: str, *, missing_ok: bool) -> None:
        try:
            self._secrets.delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except self._secrets.exceptions.ResourceNotFoundException:
            if not missing_ok:
                raise
        except AWS_ERRORS:
            # The record is gone; an orphaned secret holds values no request can reach. Logged
            # (by name only) for the operator to remove.
            logger.exception("deleting secret %s failed; remove it by hand", secret_id)
