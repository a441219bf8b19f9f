"""Time in Heartbeat: aware UTC datetimes inside, ISO-8601 with milliseconds and `Z` outside."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """`2026-02-25T12:00:00.000Z` for an aware datetime (converted to UTC)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: Heartbeat only formats aware datetimes")
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse an ISO-8601 time; a time without an offset is taken as UTC."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)
