"""The schedule engine's one exception."""

from __future__ import annotations

from heartbeat.errors import InvalidRequestError


class ScheduleError(InvalidRequestError, ValueError):
    """A schedule or time zone we cannot accept: a 400 for the API, a ValueError for callers that
    evaluate expressions. The message names the problem and the fix; `param` is `"schedule"` or
    `"timezone"`, the request field to point at."""

    def __init__(self, message: str, *, param: str = "schedule") -> None:
        super().__init__(message, param=param)
