"""What the routes answer, as pydantic models for the OpenAPI document (section 11).

The routes build their answers with the `*_to_api` functions and return them as they are; these
models only describe them, and the schema-driven fuzz test (tests/e2e/test_openapi_fuzz.py) checks
every answer against them. Answers may carry fields a model does not list yet (extra fields are
allowed), so a new field is never a broken document, only an undocumented one until it is added.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Time = str  # UTC ISO 8601 with milliseconds and Z, e.g. 2026-02-25T12:00:00.000Z


class _Answer(BaseModel):
    # Built on first use (the document), not at import: the api function's cold start pays nothing.
    model_config = ConfigDict(extra="allow", defer_build=True)


# --- errors ---------------------------------------------------------------------------------------


class ErrorDetail(_Answer):
    type: str = Field(description="invalid_request_error, authentication_error, permission_error, ...")
    message: str = Field(description="what is wrong and how to fix it")
    param: str | None = Field(description="the field or parameter at fault, when there is one")


class ErrorEnvelope(_Answer):
    """Every error the api function answers (4xx and 5xx)."""

    error: ErrorDetail


class GatewayMessage(_Answer):
    """API Gateway's own answer when a request never reaches the api function: no or unknown key
    (401), or a failure of the gateway itself (500)."""

    message: str


# --- tasks ----------------------------------------------------------------------------------------


class TaskState(_Answer):
    next_run_at: Time | None
    last_run_at: Time | None
    last_status: str | None = Field(description="ok, error, skipped or missed")
    consecutive_errors: int
    last_error: str | None
    last_run_id: str | None
    disabled_reason: str | None = Field(default=None, description="set when the task was disabled for you")


class RunLimits(_Answer):
    max_steps: int = Field(description="1-50, default 10")
    max_tokens: int = Field(description="input + output over the whole run, default 100,000")
    timeout_seconds: int = Field(description="30-840, default 600")


class Task(_Answer):
    id: str
    name: str
    description: str | None
    enabled: bool
    schedule: dict[str, Any] = Field(
        description='{"type": "cron", "expression", "timezone"}, {"type": "every", "minutes"|"hours"|'
        '"days", "start"} or {"type": "at", "at", "timezone"}'
    )
    prompt: str
    model: str
    conversation_id: str | None
    alert_after_errors: int = Field(description="consecutive errors that send task.failing (default 3)")
    flexible_window_minutes: int = Field(description="EventBridge's flexible time window, 0-60 (default 0)")
    limits: RunLimits
    catchup_window_seconds: int = Field(description="a delivery later than this after its slot is missed")
    output_schema: dict[str, Any] | None = Field(
        description="the JSON Schema a run's final answer must match"
    )
    tools: list[str] = Field(description="memory, web, notify, mcp:<server> or mcp:<server>/<tool>")
    web_allow: list[str] = Field(description="domain patterns web_fetch may reach (empty: any public host)")
    created_at: Time
    updated_at: Time
    state: TaskState


class TaskAnswer(_Answer):
    task: Task
    warnings: list[str] | None = Field(default=None, description="what to configure before it can run")


class TaskList(_Answer):
    tasks: list[Task]
    total: int
    next_cursor: str | None


class Deleted(_Answer):
    ok: Literal[True]
    id: str


class ScheduleAnswer(_Answer):
    task_id: str
    schedule: dict[str, Any]
    description: str = Field(description="the schedule in words, in the task's time zone")
    timezone: str
    eventbridge: list[str] = Field(description="the EventBridge Scheduler expression(s) behind it")
    next: list[Time] = Field(description="the next fire times, as EventBridge will fire them")


# --- runs -----------------------------------------------------------------------------------------


class ToolCallRecord(_Answer):
    """One tool call of a run: never its arguments."""

    name: str
    ok: bool
    ms: int
    error: str | None


class NotificationRecord(_Answer):
    title: str | None
    message: str | None
    severity: str | None = Field(description="info, warning or critical")
    at: Time | None


class Run(_Answer):
    id: str
    task_id: str
    status: str = Field(description="queued, running, ok, error, skipped or missed")
    trigger: str = Field(description="schedule or manual")
    reason: str | None
    scheduled_at: Time
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    duration_ms: int | None
    model: str | None
    conversation_id: str | None
    usage: dict[str, int] | None = Field(description="tokens: input_tokens, output_tokens, ...")
    output: str | None
    output_bytes: int | None
    output_truncated: bool
    output_key: str | None
    output_json: Any = Field(
        default=None, description="the final answer, parsed, when the task has an output_schema"
    )
    error: str | None
    cost_usd: float | None = Field(default=None, description="estimated from the price table")
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    notifications: list[NotificationRecord] = Field(default_factory=list)


class RunAnswer(_Answer):
    run: Run


class RunList(_Answer):
    runs: list[Run]
    next_cursor: str | None


# --- memory ---------------------------------------------------------------------------------------


class CoreBlock(_Answer):
    label: str
    value: str
    limit: int
    description: str | None
    updated_at: Time | None


class CoreBlockAnswer(_Answer):
    block: CoreBlock


class CoreBlockList(_Answer):
    blocks: list[CoreBlock]


class Passage(_Answer):
    id: str
    text: str
    tags: list[str]
    created_at: Time
    run_id: str | None
    task_id: str | None
    score: float | None = Field(default=None, description="relevance to the query, when there is one")


class PassageAnswer(_Answer):
    passage: Passage
    existing: bool | None = Field(default=None, description="true when the same text was stored already")


class PassageList(_Answer):
    passages: list[Passage]
    next_cursor: str | None = None
    exhaustive: bool = True  # False: an unread passage might outscore the last one answered


class CoreBlockDeleted(_Answer):
    ok: Literal[True]
    label: str


# --- conversations --------------------------------------------------------------------------------


class TranscriptMessage(_Answer):
    role: str = Field(description="user, assistant or tool")
    content: str
    tool_calls: list[dict[str, Any]] | None = Field(default=None, description='[{"id", "name", "arguments"}]')
    tool_call_id: str | None = None
    is_error: bool | None = None


class Conversation(_Answer):
    conversation_id: str
    messages: list[TranscriptMessage]
    next_cursor: str | None


# --- usage ----------------------------------------------------------------------------------------


class UsageDay(_Answer):
    date: str = Field(description="YYYY-MM-DD (UTC)")
    runs: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_usd: float


class Budget(_Answer):
    daily_tokens: int = Field(description="0: no daily budget")
    used_today: int
    remaining_today: int | None = Field(description="null when there is no budget")


class Usage(_Answer):
    days: list[UsageDay] = Field(description="newest day first, days without runs as zeros")
    budget: Budget


# --- webhooks -------------------------------------------------------------------------------------


class Webhook(_Answer):
    id: str
    url: str
    events: list[str]
    task_ids: list[str] | None
    format: str = Field(description="standard or slack")
    enabled: bool
    disabled_reason: str | None
    created_at: Time
    updated_at: Time
    secret: str | None = Field(default=None, description="whsec_...: in the answer that creates it only")


class WebhookAnswer(_Answer):
    webhook: Webhook


class WebhookList(_Answer):
    webhooks: list[Webhook]


class WebhookTestQueued(_Answer):
    ok: Literal[True]
    event_id: str


class Delivery(_Answer):
    event_id: str
    type: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    status_code: int | None
    error: str | None
    delivered_at: Time | None
    next_attempt_at: Time | None
    created_at: Time


class DeliveryList(_Answer):
    deliveries: list[Delivery]
    next_cursor: str | None


# --- MCP servers ----------------------------------------------------------------------------------


class McpServer(_Answer):
    name: str
    url: str
    header_names: list[str] = Field(description="the header values are secrets: never answered")
    created_at: Time
    updated_at: Time


class McpServerAnswer(_Answer):
    mcp_server: McpServer


class McpServerList(_Answer):
    mcp_servers: list[McpServer]


class McpServerDeleted(_Answer):
    ok: Literal[True]
    name: str


class McpTool(_Answer):
    name: str
    description: str | None
    input_schema: dict[str, Any]


class McpToolList(_Answer):
    tools: list[McpTool]
