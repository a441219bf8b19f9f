"""API keys: `hb_live_...` (deployed) or `hb_test_...` (local), random, shown once, stored only as
a SHA-256 hash. A key carries a tenant and a set of scopes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

SCOPES = frozenset({"config.read", "config.write", "memory.read", "memory.write"})
PREFIXES = ("hb_live_", "hb_test_")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    tenant_id: str
    scopes: frozenset[str]
    prefix: str  # the first characters, to recognise a key in a list without revealing it
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's tenant and scopes, as the authorizer hands them to the api."""

    tenant_id: str
    scopes: frozenset[str]
    key_id: str


def generate_key(live: bool) -> str:
    return ("hb_live_" if live else "hb_test_") + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(s.strip() for s in text.replace(" ", ",").split(",") if s.strip())
    unknown = scopes - SCOPES
    if unknown or not scopes:
        raise ValueError(
            f"unknown scope(s) {', '.join(sorted(unknown)) or '(none given)'}: choose from {', '.join(sorted(SCOPES))}"
        )
    return scopes


def valid_tenant_id(tenant_id: str) -> bool:
    return (
        1 <= len(tenant_id) <= 64
        and all(c.isalnum() or c in "-_." for c in tenant_id)
        and tenant_id.isascii()
    )
