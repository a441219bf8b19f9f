"""The project's own exceptions. Logic and data access raise these; exactly one place
(`heartbeat.api.responses`) turns them into HTTP answers."""

from __future__ import annotations


class HeartbeatError(Exception):
    """Base of every error Heartbeat raises on purpose."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequestError(HeartbeatError):
    """The caller sent something we cannot accept; the message says how to fix it."""


class UnauthorizedError(HeartbeatError):
    """No key, or a key we do not know (or that was revoked)."""


class ForbiddenError(HeartbeatError):
    """A valid key without the scope the operation needs."""


class NotFoundError(HeartbeatError):
    """No such resource for this tenant (another tenant's resource is also 'not found')."""


class ConflictError(HeartbeatError):
    """The resource changed under us, or the operation clashes with its current state."""


class IdempotencyKeyReusedError(HeartbeatError):
    """An Idempotency-Key sent again with a different request than the one it first came with."""


class QuotaExceededError(HeartbeatError):
    """The tenant is over one of its quotas."""


class DependencyError(HeartbeatError):
    """An AWS service (or other dependency) failed in a way the caller cannot fix."""
