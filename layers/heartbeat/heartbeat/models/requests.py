"""What callers may send. Validation here is shape and size; the schedule engine and the logic
layer check meaning (cron, timezone, provider)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints

MAX_NAME = 200
MAX_PROMPT_BYTES = 32 * 1024
MAX_DESCRIPTION_BYTES = 2 * 1024
MODEL_PATTERN = r"^[a-z0-9][a-z0-9_.-]*/[^\s/][^\s]*$"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
Prompt = Annotated[str, StringConstraints(min_length=1)]
ModelName = Annotated[str, StringConstraints(pattern=MODEL_PATTERN, max_length=200)]
ConversationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


def _schedule_shape(value: Any, *, nullable: bool = False) -> Any:
    """One clear error for a schedule of the wrong type (a plain union would name its branches)."""
    if isinstance(value, str | dict) or (nullable and value is None):
        return value
    raise ValueError(
        'schedule must be a cron string such as "0 9 * * *" or an object such as '
        '{"type": "every", "minutes": 5}'
    )


# A cron string, or a schedule object ({"type": "cron"|"every"|"at", ...}) for the engine to check.
ScheduleInput = Annotated[Any, BeforeValidator(_schedule_shape)]
NullableScheduleInput = Annotated[Any, BeforeValidator(lambda v: _schedule_shape(v, nullable=True))]
Timezone = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TaskCreate(_Strict):
    name: Name
    prompt: Prompt
    schedule: ScheduleInput
    timezone: Timezone | None = None
    model: ModelName | None = None
    conversation_id: ConversationId | None = None
    description: str | None = None
    enabled: bool = True


class TaskPatch(_Strict):
    """Any subset of fields. A field sent as null clears it where that means something
    (description, conversation_id, timezone, model); name, prompt, schedule and enabled cannot be null."""

    name: Name | None = None
    prompt: Prompt | None = None
    schedule: NullableScheduleInput = None
    timezone: Timezone | None = None
    model: ModelName | None = None
    conversation_id: ConversationId | None = None
    description: str | None = None
    enabled: bool | None = None
