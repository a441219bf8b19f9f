"""Time zones: IANA names only, and EventBridge Scheduler's rule for the local times a DST change
skips or repeats."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

from heartbeat.schedule.errors import ScheduleError


@cache
def _known_names() -> dict[str, str]:
    """Every IANA name the `tzdata` package ships (the same list on every machine and on Lambda),
    keyed by its case-folded form to suggest the right spelling."""
    names = files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return {name.casefold(): name for name in names if name != "Factory"}


def zone(name: str) -> ZoneInfo:
    """The zone for an IANA name such as `America/New_York`; anything else is a ScheduleError."""
    known = _known_names()
    if known.get(name.casefold()) != name:
        suggestion = known.get(name.casefold())
        fix = (
            f"did you mean '{suggestion}'?"
            if suggestion
            else "use an IANA name such as 'Europe/Paris' or 'UTC'"
        )
        raise ScheduleError(f"unknown timezone '{name}': {fix}", param="timezone")
    return ZoneInfo(name)


def to_utc(local: datetime, tz: ZoneInfo) -> datetime | None:
    """When EventBridge Scheduler fires for the naive local time `local` in `tz`: never (None) if
    the clocks jump over it (spring forward), at its first occurrence if it repeats (fall back)."""
    instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local:
        return None
    return instant
