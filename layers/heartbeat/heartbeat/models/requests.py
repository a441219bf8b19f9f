"""What callers may send. Validation here is shape and size; the schedule engine and the logic
layer check meaning (cron, timezone, provider)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from heartbeat.models.tools import check_tools, check_web_allow

MAX_NAME = 200
MAX_PROMPT_BYTES = 32 * 1024
MAX_DESCRIPTION_BYTES = 2 * 1024
MODEL_PATTERN = r"^[a-z0-9][a-z0-9_.-]*/[^\s/][^\s]*$"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]
Prompt = Annotated[str, StringConstraints(min_length=1)]
ModelName = Annotated[str, StringConstraints(pattern=MODEL_PATTERN, max_length=200)]
AlertAfterErrors = Annotated[int, Field(ge=1, le=100)]
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
# EventBridge's FlexibleTimeWindow in minutes (0: off), DESIGN.md section 3.
FlexibleWindow = Annotated[int, Field(ge=0, le=60)]
# Section 8's toolset and web_allow patterns, each checked whole (a bad entry is one 400 naming the field).
ToolsInput = Annotated[list[str] | None, BeforeValidator(check_tools)]
WebAllowInput = Annotated[list[str] | None, BeforeValidator(check_web_allow)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


MAX_OUTPUT_SCHEMA_BYTES = 8 * 1024
CatchupWindow = Annotated[int, Field(ge=60, le=86_400)]


class RunLimits(_Strict):
    """Per-run limits (section 10). A field left out keeps its default (PATCH: its current value)."""

    max_steps: Annotated[int, Field(ge=1, le=50)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    timeout_seconds: Annotated[int, Field(ge=30, le=840)] | None = None

    def sent(self) -> dict[str, int]:
        return {
            name: getattr(self, name) for name in self.model_fields_set if getattr(self, name) is not None
        }


class TaskCreate(_Strict):
    name: Name
    prompt: Prompt
    schedule: ScheduleInput
    timezone: Timezone | None = None
    model: ModelName | None = None
    conversation_id: ConversationId | None = None
    description: str | None = None
    enabled: bool = True
    alert_after_errors: AlertAfterErrors = 3
    flexible_window_minutes: FlexibleWindow = 0
    limits: RunLimits | None = None
    catchup_window_seconds: CatchupWindow | None = None
    output_schema: dict[str, Any] | None = None
    tools: ToolsInput = None
    web_allow: WebAllowInput = None


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
    alert_after_errors: AlertAfterErrors | None = None
    flexible_window_minutes: FlexibleWindow | None = None
    limits: RunLimits | None = None
    catchup_window_seconds: CatchupWindow | None = None
    output_schema: dict[str, Any] | None = None
    tools: ToolsInput = None
    web_allow: WebAllowInput = None
