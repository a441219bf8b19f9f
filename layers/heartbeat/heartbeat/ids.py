"""Identifiers: a prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford base32,
lower case), so ids sort by creation time and never collide in practice."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def ulid(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """`cron_01jd...` for prefix `cron`."""
    return f"{prefix}_{ulid(now_ms)}"
