"""Identifiers: a prefix and a ULID (48-bit millisecond time + 80 random bits, Crockford base32,
lower case), so ids sort by creation time and never collide in practice."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def ulid(now_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return encode_ulid(ms, secrets.randbits(80))


def encode_ulid(ms: int, random_part: int) -> str:
    """The 26 characters of a ULID with time `ms` and 80-bit `random_part` (the one encoder)."""
    value = (ms << 80) | random_part
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str, now_ms: int | None = None) -> str:
    """`cron_01jd...` for prefix `cron`."""
    return f"{prefix}_{ulid(now_ms)}"
