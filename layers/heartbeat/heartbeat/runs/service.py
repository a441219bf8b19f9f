"""The API's side of runs: start one now, list a task's runs. Knows nothing of HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from heartbeat.errors import ConflictError, DependencyError, NotFoundError
from heartbeat.ids import new_id
from heartbeat.models.executor_event import ExecutorEvent
from heartbeat.models.run import Run
from heartbeat.timeutil import iso, utcnow

if TYPE_CHECKING:
    from heartbeat.dal.runs import RunsTable
    from heartbeat.dal.task_state import TaskStateTable
    from heartbeat.runs.invoker import RunInvoker


class RunsService:
    def __init__(
        self,
        runs: RunsTable,
        state: TaskStateTable,
        invoker: RunInvoker,
        *,
        retention: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runs = runs
        self._state = state
        self._invoker = invoker
        self._retention = retention
        self._clock = clock

    def run_now(self, tenant_id: str, task_id: str) -> Run:
        """Queue a manual run and hand it to the executor, which runs it under the task's lease
        and the tenant's limit. 404 for a task the tenant does not have; 409 while a run holds the task."""
        snapshot = self._state.load(tenant_id, task_id)
        if snapshot is None:
            raise NotFoundError(f"no task with id '{task_id}'", param="id")
        now = self._clock()
        if snapshot.lease_held(int(now.timestamp() * 1000)):
            raise ConflictError(
                f"task '{task_id}' is running now (run {snapshot.lease_run_id}): wait for it to finish, then retry"
            )
        task = snapshot.task
        run = Run(
            tenant_id=tenant_id,
            task_id=task_id,
            id=new_id("run", int(now.timestamp() * 1000)),
            status="queued",
            trigger="manual",
            scheduled_at=iso(now),
            created_at=iso(now),
            expires_at=int((now + self._retention).timestamp()),
            model=task.model,
            conversation_id=task.conversation_id,
        )
        self._runs.insert(run)
        event = ExecutorEvent(
            tenant_id=tenant_id, task_id=task_id, scheduled_time=now, run_id=run.id, trigger="manual"
        )
        try:
            self._invoker.invoke(event.to_payload())
        except DependencyError as exc:
            failed = run.evolve(status="error", finished_at=iso(self._clock()), error=exc.message)
            self._runs.save_if(failed, ("queued",))
            raise
        return self._runs.get(tenant_id, task_id, run.id)  # an in-process invoker may have run it already

    def list(
        self, tenant_id: str, task_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Run], str | None]:
        if self._state.load(tenant_id, task_id) is None:
            raise NotFoundError(f"no task with id '{task_id}'", param="id")
        return self._runs.page(tenant_id, task_id, limit, cursor)
