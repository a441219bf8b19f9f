"""The executor's input: what a schedule (or the API's run-now, or a retry schedule) sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from heartbeat.errors import InvalidRequestError
from heartbeat.timeutil import iso, parse_iso


class ExecutorEvent(BaseModel):
    """`{"tenant_id", "task_id", "scheduled_time"}`; run-now and retries add `run_id` (the queued
    run to continue), `trigger` and `attempt`."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tenant_id: str = Field(min_length=1, max_length=256)
    task_id: str = Field(min_length=1, max_length=64)
    scheduled_time: datetime
    run_id: str | None = Field(default=None, pattern=r"^run_[0-9a-z]{26}$")
    trigger: Literal["schedule", "manual"] = "schedule"
    attempt: int = Field(default=0, ge=0)

    @field_validator("scheduled_time", mode="before")
    @classmethod
    def _time(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            try:
                return parse_iso(raw)
            except ValueError as exc:
                raise ValueError(f"scheduled_time {raw!r} is not an ISO-8601 time") from exc
        return raw

    @property
    def slot(self) -> str:
        """The slot's identity: the scheduled time, normalised (ms, UTC, `Z`)."""
        return iso(self.scheduled_time)

    @classmethod
    def parse(cls, event: Any) -> ExecutorEvent:
        try:
            return cls.model_validate(event)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "event"
            raise InvalidRequestError(
                f"executor event is not valid: {where}: {first.get('msg')}", param=where
            ) from exc

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "task_id": self.task_id,
            "scheduled_time": self.slot,
            "trigger": self.trigger,
        }
        if self.run_id is not None:
            payload["run_id"] = self.run_id
        if self.attempt:
            payload["attempt"] = self.attempt
        return payload
