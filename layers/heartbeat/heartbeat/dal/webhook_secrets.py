"""Webhook signing secrets in Secrets Manager: one secret per endpoint, named
`{prefix}/{sha256(tenant)[:20]}/{webhook id}`, so the IAM policies can grant exactly that prefix
(the api creates and deletes, the notifier only reads). The secret never enters the Webhooks
table, an answer after create, or a log line."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from heartbeat.dal.dynamo import AWS_ERRORS, error_code
from heartbeat.errors import DependencyError, NotFoundError


class WebhookSecrets:
    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self._prefix = prefix.rstrip("/")

    def name(self, tenant_id: str, webhook_id: str) -> str:
        tenant = hashlib.sha256(tenant_id.encode()).hexdigest()[:20]
        return f"{self._prefix}/{tenant}/{webhook_id}"

    def create(self, tenant_id: str, webhook_id: str, secret: str) -> None:
        """Idempotent: the request token derives from the endpoint's id, so a retry after a lost
        answer finds the same secret instead of failing or making a second one."""
        token = str(uuid.uuid5(uuid.NAMESPACE_URL, f"heartbeat-webhook:{tenant_id}:{webhook_id}"))
        try:
            self._client.create_secret(
                Name=self.name(tenant_id, webhook_id),
                SecretString=secret,
                ClientRequestToken=token,
                Description="Heartbeat webhook signing secret",
            )
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceExistsException" and self._holds(tenant_id, webhook_id, secret):
                return
            raise DependencyError(f"storing the webhook's secret failed ({error_code(exc)})") from exc

    def _holds(self, tenant_id: str, webhook_id: str, secret: str) -> bool:
        try:
            return self.get(tenant_id, webhook_id) == secret
        except (NotFoundError, DependencyError):
            return False

    def get(self, tenant_id: str, webhook_id: str) -> str:
        try:
            response = self._client.get_secret_value(SecretId=self.name(tenant_id, webhook_id))
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise NotFoundError(f"webhook {webhook_id} has no signing secret") from exc
            raise DependencyError(f"reading the webhook's secret failed ({error_code(exc)})") from exc
        return str(response["SecretString"])

    def delete(self, tenant_id: str, webhook_id: str) -> None:
        try:
            self._client.delete_secret(
                SecretId=self.name(tenant_id, webhook_id), ForceDeleteWithoutRecovery=True
            )
        except AWS_ERRORS as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return
            raise DependencyError(f"deleting the webhook's secret failed ({error_code(exc)})") from exc
