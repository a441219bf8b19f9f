"""Task logic: create, read, list, change and delete tasks, keeping each task row and its
EventBridge schedule(s) consistent whatever fails. Knows nothing of HTTP.

Ordering, so that no failure leaves a row without its schedule or a schedule without its row:
- create: schedules first, then the row (with the quota check) in one transaction; if the row
  fails, the schedules are deleted again. A crash between the two leaves only a schedule, which
  the executor removes when it fires for a task that does not exist.
- change: schedules first, then the row, conditional on the version read; if the row write fails,
  the schedules of the row as it now is are put back (the one read, or the concurrent change that
  won the 409).
- delete: the row first (the commit point), then the schedules; a schedule that outlives a failure
  there is removed by the executor when it next fires for a task that does not exist.

A failed call may still have taken effect (a read timeout, or botocore's retries running out after
the write landed: "a lost answer"). So every write is idempotent (ids and schedule names fixed
before the first call, ClientRequestToken / ClientToken on retries), and after any failure the row
is read again before deciding: the row is the commit point, so if it says the write landed the
request rolls forward (and answers success), else it rolls back. When even that read fails, the
schedules are left as they are: a schedule without its row is removed by the executor, while
removing the schedules of a row that exists would leave a task that never fires.
(docs/decisions/2026-12-01-lost-answers.md)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from heartbeat.dal.schedules import schedule_names
from heartbeat.dal.tasks import request_token
from heartbeat.errors import HeartbeatError, InvalidRequestError, NotFoundError
from heartbeat.ids import new_id
from heartbeat.models.requests import (
    MAX_DESCRIPTION_BYTES,
    MAX_OUTPUT_SCHEMA_BYTES,
    MAX_PROMPT_BYTES,
    TaskCreate,
    TaskPatch,
)
from heartbeat.models.task import DEFAULT_CATCHUP_WINDOW_SECONDS, Task, TaskState
from heartbeat.models.tools import DEFAULT_TOOLS, mcp_servers_named
from heartbeat.timeutil import iso, utcnow

if TYPE_CHECKING:
    from heartbeat.dal.schedules import SchedulesGateway
    from heartbeat.dal.tasks import TasksTable
    from heartbeat.schedule import Schedule
    from heartbeat.schedule.schedules import EventBridgeSchedule

logger = logging.getLogger(__name__)

_NOT_NULLABLE = (
    "name",
    "prompt",
    "schedule",
    "enabled",
    "alert_after_errors",
    "flexible_window_minutes",
    "tools",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Unknown(Exception):  # noqa: N818 - a private signal, not an error anyone sees
    """What is stored could not be read after a failure."""


@dataclass(frozen=True)
class TaskPolicy:
    quota: int
    default_model: str
    # Raises InvalidRequestError when a `provider/model` cannot run in this deployment.
    check_model: Callable[[str], None] | None = None
    # Raises InvalidRequestError (param "tools") when a toolset names an MCP server the tenant
    # does not have: (tenant_id, server names).
    check_servers: Callable[[str, list[str]], None] | None = None


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    total: int
    next_cursor: str | None


class TaskService:
    def __init__(
        self,
        tasks: TasksTable,
        schedules: SchedulesGateway,
        policy: TaskPolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._tasks = tasks
        self._schedules = schedules
        self._policy = policy
        self._clock = clock

    # -- reads -------------------------------------------------------------------------------
    def get(self, tenant_id: str, task_id: str) -> Task:
        return self._tasks.get(tenant_id, task_id)

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> TaskPage:
        tasks, next_cursor = self._tasks.page(tenant_id, limit, cursor)
        return TaskPage(tasks=tasks, total=self._tasks.count(tenant_id), next_cursor=next_cursor)

    # -- writes ------------------------------------------------------------------------------
    def create(self, tenant_id: str, request: TaskCreate) -> Task:
        now = self._clock()
        _check_sizes(request.prompt, request.description)
        if request.output_schema is not None:
            check_output_schema(request.output_schema)
        schedule = _parse(request.schedule, request.timezone, now)
        model = request.model or self._policy.default_model
        self._check_model(model)
        tools = tuple(request.tools) if request.tools is not None else DEFAULT_TOOLS
        self._check_servers(tenant_id, tools)
        stamp = iso(now)
        task = Task(
            tenant_id=tenant_id,
            id=new_id("cron", int(now.timestamp() * 1000)),
            name=request.name,
            prompt=request.prompt,
            schedule=schedule.to_api(),
            model=model,
            created_at=stamp,
            updated_at=stamp,
            description=request.description,
            conversation_id=request.conversation_id,
            enabled=request.enabled,
            alert_after_errors=request.alert_after_errors,
            schedule_count=len(schedule.eventbridge()),
            flexible_window_minutes=request.flexible_window_minutes,
            limits=request.limits.sent() or None if request.limits is not None else None,
            catchup_window_seconds=request.catchup_window_seconds or DEFAULT_CATCHUP_WINDOW_SECONDS,
            output_schema=request.output_schema,
            state=TaskState(next_run_at=_next_run(schedule, now, request.enabled)),
            tools=tools,
            web_allow=tuple(request.web_allow or ()),
        )
        touched: list[str] = []
        try:
            for name, eventbridge in zip(
                schedule_names(tenant_id, task.id, task.schedule_count),
                _eventbridge(schedule, now),
                strict=True,
            ):
                touched.append(name)  # before the call: a lost answer may have created it
                self._schedules.put(
                    name,
                    eventbridge,
                    tenant_id=tenant_id,
                    task_id=task.id,
                    enabled=task.enabled,
                    one_time=schedule.one_time,
                    create=True,
                    flexible_window_minutes=task.flexible_window_minutes,
                    max_event_age_seconds=task.catchup_window_seconds,
                    token=request_token(name, task.version, task.updated_at),
                )
            self._tasks.insert(task, self._policy.quota)
        except HeartbeatError as exc:
            try:
                stored = self._reread(task, exc)
            except _Unknown:
                raise exc from None  # schedules left: the executor removes one whose row never came
            if _landed(task, stored, exc):
                return task  # the row landed, its answer was lost: roll forward
            if stored is None:
                self._delete_schedules(touched)
            raise
        return task

    def update(self, tenant_id: str, task_id: str, patch: TaskPatch) -> Task:
        now = self._clock()
        current = self._tasks.get(tenant_id, task_id)
        fields = patch.model_fields_set
        for name in _NOT_NULLABLE:
            if name in fields and getattr(patch, name) is None:
                raise InvalidRequestError(f"{name} cannot be null: leave it out to keep it", param=name)
        if "prompt" in fields or "description" in fields:
            _check_sizes(patch.prompt or "", patch.description)
        changes: dict[str, Any] = {
            name: getattr(patch, name)
            for name in (
                "name",
                "prompt",
                "description",
                "conversation_id",
                "alert_after_errors",
                "flexible_window_minutes",
            )
            if name in fields
        }
        if "model" in fields:
            changes["model"] = patch.model or self._policy.default_model
            self._check_model(changes["model"])
        changes.update(_run_policy_changes(current, patch))
        if "tools" in fields and patch.tools is not None:
            changes["tools"] = tuple(patch.tools)
            self._check_servers(tenant_id, changes["tools"])
        if "web_allow" in fields:
            changes["web_allow"] = tuple(patch.web_allow or ())

        enabled = current.enabled if patch.enabled is None else patch.enabled
        reschedule = bool(
            {"schedule", "timezone", "enabled", "flexible_window_minutes", "catchup_window_seconds"} & fields
        )
        # A new schedule must lie ahead; the stored one may have had its day (an `at` that ran).
        schedule = (
            _parse(*_schedule_source(current, patch), now if "schedule" in fields else _EPOCH)
            if reschedule
            else None
        )
        state = current.state
        attributes = set(changes) | {"enabled", "updated_at"}
        if enabled and not current.enabled:  # re-enabled by the user: a fresh start
            state = TaskState(
                last_run_at=state.last_run_at, last_status=state.last_status, last_run_id=state.last_run_id
            )
            attributes |= {"consecutive_errors", "last_error", "disabled_reason", "backoff_until"}
        if schedule is not None:
            changes["schedule"] = schedule.to_api()
            changes["schedule_count"] = len(schedule.eventbridge())
            state = TaskState(**{**state.__dict__, "next_run_at": _next_run(schedule, now, enabled)})
            attributes |= {"schedule", "schedule_count", "next_run_at"}
        updated = current.evolve(
            **changes, enabled=enabled, state=state, updated_at=iso(now), version=current.version + 1
        )

        if schedule is None:
            try:
                self._tasks.update(updated, attributes, expected_version=current.version)
            except HeartbeatError as exc:
                if _landed(updated, self._reread_or(current, exc), exc):
                    return updated
                raise
            return updated
        try:
            self._put_schedules(updated, schedule, previous_count=current.schedule_count, now=now)
            self._tasks.update(updated, attributes, expected_version=current.version)
        except HeartbeatError as exc:
            latest = self._reread_or(current, exc)
            if _landed(updated, latest, exc):
                return updated  # the row landed, its answer was lost: roll forward
            self._roll_back(current, latest, written_count=updated.schedule_count)
            raise
        return updated

    def delete(self, tenant_id: str, task_id: str) -> None:
        current = self._tasks.get(tenant_id, task_id)
        try:
            self._tasks.delete(tenant_id, task_id)
        except HeartbeatError as exc:
            try:
                if self._reread(current, exc) is not None:
                    raise
            except _Unknown:
                raise exc from None  # still there, or not known: its schedules stay with it
            logger.warning("task %s was deleted although its delete failed (%s)", task_id, exc.message)
        self._delete_schedules(schedule_names(tenant_id, task_id, current.schedule_count))

    # -- helpers -----------------------------------------------------------------------------
    def _check_model(self, model: str) -> None:
        if self._policy.check_model is not None:
            self._policy.check_model(model)

    def _reread(self, task: Task, exc: HeartbeatError) -> Task | None:
        """After `exc`, `task`'s row as stored now (None: there is none). Raises `_Unknown` when
        it cannot be read either: then nothing may be rolled back."""
        try:
            return self._tasks.get(task.tenant_id, task.id)
        except NotFoundError:
            return None
        except HeartbeatError as again:
            logger.exception("reading task %s again after %r failed", task.id, exc.message)
            raise _Unknown from again

    def _reread_or(self, fallback: Task, exc: HeartbeatError) -> Task | None:
        """`_reread`, or `fallback` (the row read before) when it cannot be read."""
        try:
            return self._reread(fallback, exc)
        except _Unknown:
            return fallback

    def _check_servers(self, tenant_id: str, tools: tuple[str, ...]) -> None:
        servers = mcp_servers_named(tools)
        if servers and self._policy.check_servers is not None:
            self._policy.check_servers(tenant_id, servers)

    def _put_schedules(self, task: Task, schedule: Schedule, previous_count: int, now: datetime) -> None:
        names = schedule_names(task.tenant_id, task.id, max(task.schedule_count, previous_count))
        if schedule.next_after(now) is None:
            # Nothing left to fire (an `at` that has passed): keep no schedule in EventBridge.
            for name in names:
                self._schedules.delete(name)
            return
        specs = _eventbridge(schedule, now)
        for index, name in enumerate(names):
            if index < task.schedule_count:
                self._schedules.put(
                    name,
                    specs[index],
                    tenant_id=task.tenant_id,
                    task_id=task.id,
                    enabled=task.enabled,
                    one_time=schedule.one_time,
                    create=index >= previous_count,
                    flexible_window_minutes=task.flexible_window_minutes,
                    max_event_age_seconds=task.catchup_window_seconds,
                )
            else:
                self._schedules.delete(name)

    def _roll_back(self, current: Task, latest: Task | None, written_count: int) -> None:
        """After a failed change, put back the schedules of the row as it now is (`latest`, read
        again): the one read before, or a concurrent change that won (409), whose schedules this
        request overwrote; None: deleted meanwhile, its schedules go too."""
        if latest is None:
            count = max(written_count, current.schedule_count)
            self._delete_schedules(schedule_names(current.tenant_id, current.id, count))
        else:
            self._restore_schedules(latest, written_count=written_count)

    def _restore_schedules(self, previous: Task, written_count: int) -> None:
        """Put the schedules of `previous` back after a failed change (best effort: a failure here
        is logged, and the row, which still describes `previous`, is the source of truth)."""
        try:
            schedule = _parse(previous.schedule, None, _EPOCH)
            self._put_schedules(
                previous,
                schedule,
                previous_count=max(written_count, previous.schedule_count),
                now=self._clock(),
            )
        except HeartbeatError:
            logger.exception("restoring the schedules of task %s failed", previous.id)

    def _delete_schedules(self, names: list[str]) -> None:
        """Best effort, for schedules whose row is gone (or never came): one left behind is
        removed by the executor when it next fires for a task that does not exist."""
        for name in names:
            try:
                self._schedules.delete(name)
            except HeartbeatError:
                logger.exception("removing schedule %s failed; the executor removes it when it fires", name)


def _landed(written: Task, stored: Task | None, exc: HeartbeatError) -> bool:
    """Whether the row write of `written` took effect although `exc` says it failed (a lost
    answer, or botocore's retry of it failing its own condition), judged by the row as `stored`
    now. The executor may have bumped the version since (an auto-disable), never `updated_at`."""
    landed = (
        not isinstance(exc, InvalidRequestError)
        and stored is not None
        and stored.updated_at == written.updated_at
        and stored.version >= written.version
    )
    if landed:
        logger.warning("task %s was stored although its write failed (%s)", written.id, exc.message)
    return landed


def _parse(value: str | dict[str, Any], timezone: str | None, now: datetime) -> Schedule:
    from heartbeat.schedule import parse_schedule

    return parse_schedule(value, timezone, now=now)


def _eventbridge(schedule: Schedule, now: datetime) -> list[EventBridgeSchedule]:
    """The schedule's EventBridge schedules as of `now`. A rate whose start has passed counts from
    its next firing instead, which keeps its phase: EventBridge refuses a StartDate more than a few
    minutes in the past."""
    specs = schedule.eventbridge()
    upcoming = schedule.next_after(now)
    return [
        replace(spec, start=upcoming) if spec.start is not None and upcoming and spec.start < now else spec
        for spec in specs
    ]


def _schedule_source(current: Task, patch: TaskPatch) -> tuple[str | dict[str, Any], str | None]:
    """What to parse for a changed schedule: the new value if sent, else the current one; a new
    timezone applies to either, and a new cron string keeps the current timezone unless sent."""
    fields = patch.model_fields_set
    current_tz = current.schedule.get("timezone")
    if "schedule" in fields and patch.schedule is not None:
        if isinstance(patch.schedule, str):
            return patch.schedule, patch.timezone if "timezone" in fields else current_tz
        return patch.schedule, patch.timezone if "timezone" in fields else None
    source = dict(current.schedule)
    if "timezone" in fields:
        if source.get("type") != "cron":
            raise InvalidRequestError(
                f"timezone applies to cron schedules; this task's schedule is of type '{source.get('type')}'",
                param="timezone",
            )
        source["timezone"] = patch.timezone or "UTC"
    return source, None


def _next_run(schedule: Schedule, now: datetime, enabled: bool) -> str | None:
    if not enabled:
        return None
    nxt = schedule.next_after(now)
    return iso(nxt) if nxt is not None else None


def _check_sizes(prompt: str, description: str | None) -> None:
    if len(prompt.encode()) > MAX_PROMPT_BYTES:
        raise InvalidRequestError(
            f"prompt is {len(prompt.encode())} bytes; the limit is {MAX_PROMPT_BYTES} bytes (32 KiB): shorten it",
            param="prompt",
        )
    if description is not None and len(description.encode()) > MAX_DESCRIPTION_BYTES:
        raise InvalidRequestError(
            f"description is {len(description.encode())} bytes; the limit is {MAX_DESCRIPTION_BYTES} bytes "
            "(2 KiB): shorten it",
            param="description",
        )


def _run_policy_changes(current: Task, patch: TaskPatch) -> dict[str, Any]:
    """PATCH of `limits` (merged into the current ones; null: back to the defaults),
    `catchup_window_seconds` (null: the default) and `output_schema` (null: no schema)."""
    fields = patch.model_fields_set
    changes: dict[str, Any] = {}
    if "limits" in fields:
        sent = patch.limits.sent() if patch.limits is not None else None
        changes["limits"] = {**(current.limits or {}), **sent} if sent is not None else None
    if "catchup_window_seconds" in fields:
        changes["catchup_window_seconds"] = patch.catchup_window_seconds or DEFAULT_CATCHUP_WINDOW_SECONDS
    if "output_schema" in fields:
        if patch.output_schema is not None:
            check_output_schema(patch.output_schema)
        changes["output_schema"] = patch.output_schema
    return changes


def check_output_schema(schema: dict[str, Any]) -> None:
    """A task's `output_schema`: at most 8 KiB of JSON, and a valid JSON Schema (its own
    `$schema` dialect, else Draft 2020-12). `jsonschema` is imported only here and by runs."""
    import json

    size = len(json.dumps(schema, separators=(",", ":")).encode())
    if size > MAX_OUTPUT_SCHEMA_BYTES:
        raise InvalidRequestError(
            f"output_schema is {size} bytes of JSON; the limit is {MAX_OUTPUT_SCHEMA_BYTES} bytes (8 KiB): "
            "simplify the schema",
            param="output_schema",
        )
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the top level"
        raise InvalidRequestError(
            f"output_schema is not a valid JSON Schema (at {where}): {exc.message}", param="output_schema"
        ) from exc
