"""Issuing, checking and revoking keys. Knows nothing of HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from heartbeat.errors import InvalidRequestError, UnauthorizedError
from heartbeat.ids import new_id
from heartbeat.models.key import PREFIXES, ApiKey, Principal, generate_key, hash_key, valid_tenant_id
from heartbeat.timeutil import iso, utcnow

if TYPE_CHECKING:
    from heartbeat.dal.keys import KeysTable


class KeyService:
    def __init__(self, keys: KeysTable, clock: Callable[[], datetime] = utcnow) -> None:
        self._keys = keys
        self._clock = clock

    def create(self, tenant_id: str, scopes: frozenset[str], *, live: bool) -> tuple[str, ApiKey]:
        """A new key: the secret (shown once, never stored) and what is stored about it."""
        if not valid_tenant_id(tenant_id):
            raise InvalidRequestError(
                "tenant must be 1-64 characters of letters, digits, '-', '_' or '.'", param="tenant"
            )
        secret = generate_key(live)
        key = ApiKey(
            key_id=new_id("key"),
            tenant_id=tenant_id,
            scopes=scopes,
            prefix=secret[:12],
            created_at=iso(self._clock()),
        )
        self._keys.put(hash_key(secret), key)
        return secret, key

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller behind an `Authorization: Bearer <key>` header, or UnauthorizedError."""
        scheme, _, secret = (authorization or "").strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret.startswith(PREFIXES):
            raise UnauthorizedError("send 'Authorization: Bearer <key>' with a Heartbeat key")
        key = self._keys.find(hash_key(secret))
        if key is None or key.revoked_at is not None:
            raise UnauthorizedError("unknown or revoked key")
        return Principal(tenant_id=key.tenant_id, scopes=key.scopes, key_id=key.key_id)

    def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        return self._keys.list(tenant_id)

    def revoke(self, key_id: str) -> ApiKey:
        return self._keys.revoke(key_id, iso(self._clock()))
