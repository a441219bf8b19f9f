"""The API's side of runs: start one now, list a task's runs, read one whole. Knows nothing of HTTP.

Run-now writes the `queued` record (its id fixed before the call), hands it to the executor, and
reads it back. Any of the three calls may fail after taking effect (a lost answer), so:
- the record: a failed put is read back; only a record that is not there fails the request;
- the hand-over: a failed invoke marks the run `error` only while it is still `queued` (the
  executor ignores a run that is not queued). If it is not queued any more, the executor has it:
  the answer is 202, never a 500 that a retrying client would turn into a second run;
- the read back: failing, the answer is the run as handed over (`queued`), still a 202.
A process that dies between the record and the hand-over leaves a `queued` run nobody will run:
the next run-now of the task, or the next listing of its runs, marks such runs `error` once they
are `STRANDED_AFTER` old.
(docs/decisions/2026-12-01-lost-answers.md)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from heartbeat.errors import ConflictError, DependencyError, NotFoundError
from heartbeat.ids import new_id
from heartbeat.models.executor_event import ExecutorEvent
from heartbeat.models.run import Run
from heartbeat.timeutil import iso, parse_iso, utcnow

if TYPE_CHECKING:
    from heartbeat.dal.artifacts import OutputStore
    from heartbeat.dal.runs import RunsTable
    from heartbeat.dal.task_state import TaskStateTable
    from heartbeat.runs.invoker import RunInvoker


# A manual run still `queued` this long after it was recorded lost its hand-over to the executor
# (longer than Lambda takes to start an async invoke unless it is throttled for that long).
STRANDED_AFTER = timedelta(minutes=15)
STRANDED_ERROR = (
    "the run was recorded but never reached the executor (the request that started it failed "
    "before handing it over): start it again"
)


class RunsService:
    def __init__(
        self,
        runs: RunsTable,
        state: TaskStateTable,
        invoker: RunInvoker,
        *,
        retention: timedelta = timedelta(days=30),
        clock: Callable[[], datetime] = utcnow,
        outputs: OutputStore | None = None,
    ) -> None:
        self._outputs = outputs
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
        self._fail_stranded(tenant_id, task_id, now)
        try:
            self._runs.insert(run)
        except DependencyError:
            if self._runs.find(tenant_id, task_id, run.id) is None:
                raise  # nothing was stored: the 500 is true
        event = ExecutorEvent(
            tenant_id=tenant_id, task_id=task_id, scheduled_time=now, run_id=run.id, trigger="manual"
        )
        try:
            self._invoker.invoke(event.to_payload())
        except DependencyError as exc:
            if self._fail_unstarted(run, exc):
                raise
            # No longer queued: the executor has it, so the run was started after all.
        try:
            return self._runs.get(tenant_id, task_id, run.id)  # an in-process invoker may have run it
        except DependencyError:
            return run  # handed over; its record is what the client reads next

    def _fail_unstarted(self, run: Run, exc: DependencyError) -> bool:
        """Record `run` as failed to start, if it is still queued. False when the executor has it."""
        failed = run.evolve(status="error", finished_at=iso(self._clock()), error=exc.message)
        try:
            return self._runs.save_if(failed, ("queued",))
        except DependencyError:
            stored = self._runs.find(run.tenant_id, run.task_id, run.id)
            return stored is None or stored.status in ("queued", "error")

    def _fail_stranded(self, tenant_id: str, task_id: str, now: datetime) -> None:
        """Mark `error` the task's recent manual runs whose hand-over was lost (see the module doc)."""
        recent, _ = self._runs.page(tenant_id, task_id, 20, None)
        self._settle(recent, now)

    def _settle(self, runs: list[Run], now: datetime) -> list[Run]:
        """`runs`, with each stranded one marked (and answered) `error`."""
        settled = []
        for run in runs:
            if (
                run.status == "queued"
                and run.trigger == "manual"
                and run.reason is None
                and now - parse_iso(run.created_at) > STRANDED_AFTER
            ):
                stranded = run.evolve(status="error", finished_at=iso(now), error=STRANDED_ERROR)
                if self._runs.save_if(stranded, ("queued",)):
                    run = stranded
            settled.append(run)
        return settled

    def list(
        self, tenant_id: str, task_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Run], str | None]:
        """A page of the task's runs; a stranded run in it is settled first, so what a client
        reads is never a run that will stay `queued` forever."""
        if self._state.load(tenant_id, task_id) is None:
            raise NotFoundError(f"no task with id '{task_id}'", param="id")
        runs, next_cursor = self._runs.page(tenant_id, task_id, limit, cursor)
        return self._settle(runs, self._clock()), next_cursor

    def get(self, tenant_id: str, task_id: str, run_id: str) -> Run:
        """One run with its whole output: read back from S3 when it was too large for the record.
        404 for a task the tenant does not have, or a run that is not that task's."""
        if self._state.load(tenant_id, task_id) is None:
            raise NotFoundError(f"no task with id '{task_id}'", param="id")
        run = self._runs.get(tenant_id, task_id, run_id)
        if run.output_key is not None and self._outputs is not None:
            run = run.evolve(output=self._outputs.get(run.output_key))
        return run
