"""The tenant executor: one run per (task, scheduled slot), whatever EventBridge delivers.

For a scheduled delivery `{tenant_id, task_id, scheduled_time}`:
1. Read the task. Gone: remove its schedules if they are older than the API's create window, and
   record nothing.
2. Claim the slot: a conditional put of a `queued` run record whose id is derived from (tenant,
   task, scheduled time). A delivery that finds the record is a duplicate and does nothing (unless
   the run has sat `queued` longer than a minute: its delivery died, and this one carries it on),
   but queue again the events of a run already final: the delivery that recorded it may have died
   or failed to queue them (a queue failure after the record fails the delivery, so it is retried;
   the events keep their ids, so the notifier posts each once).
   A delivery later than the task's `catchup_window_seconds` after its slot is recorded `missed`
   (with its lateness, and a `run.missed` event) and not run; it touches neither the error count
   nor the lease.
3. Decide: a disabled task, a task backing off after errors, or a task whose previous run holds its
   lease gets a `skipped` run (with the reason) and a state update. A lease that expired with its
   run still `running` (a crash or timeout) is first recorded as that run's failure and released.
   Then the tenant's daily token budget (its override and the day's usage, read with the task):
   spent, the run is `skipped` with reason `budget_exhausted`, and the day's first such run sends
   the one `budget.exhausted` event.
4. One transaction takes the task's lease (free or expired), moves the run to `running` and takes
   one of the tenant's K run slots (the one its id hashes to; only if that one is held, one Query
   finds the free ones to try). No slot free: the run stays `queued` and a one-time retry schedule
   redelivers it later (never dropped; recorded `skipped` after MAX_QUEUE_SECONDS).
5. Run the Soul (bounded by the task's `limits`); one transaction records the run (output over
   64 KiB to S3 first, its usage added to the tenant's day), the task's
   state (errors, backoff, auto-disable; the schedules are disabled after it) and releases the
   lease and the tenant slot.

A scheduled run that runs costs five AWS requests besides the Soul's model and tool calls: one
BatchGetItem of the task, the tenant's `#meta` (its webhooks' subscriptions and its budget) and
today's usage item; the claim's PutItem; the start and finish transactions (the finish also adds
the run to its day's usage); and the Soul's read of the tenant's core memory (a Query). A run
whose tenant has a webhook listening adds one SendMessage. A task that names MCP servers adds, per server, its record's GetItem and its header
values' GetSecretValue; web_fetch and notify add none. `bench/executor_throughput.py` measures it;
a test holds it.

Run-now (and the retry schedule) send the queued run's `run_id` and enter at step 3. Manual runs
skip the disabled and backoff checks but hold the lease and count against the tenant's limit.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from heartbeat.dal.artifacts import MAX_INLINE_OUTPUT_BYTES, preview
from heartbeat.dal.schedules import schedule_names
from heartbeat.dal.task_state import LEASE_EXPIRED_REASON, RunState, StartResult, TaskSnapshot
from heartbeat.errors import DependencyError, HeartbeatError, NotFoundError
from heartbeat.executor.backoff import backoff_until
from heartbeat.executor.runner import SoulRequest, SoulResult, SoulRunner
from heartbeat.models.executor_event import ExecutorEvent
from heartbeat.models.run import Run, run_to_api, slot_run_id
from heartbeat.soul.types import ModelError, Usage
from heartbeat.timeutil import iso, parse_iso, utcnow
from heartbeat.usage.budget import (
    BUDGET_EXHAUSTED_EVENT,
    RUN_MISSED_EVENT,
    exhausted_reason,
    lateness,
    next_utc_day,
    utc_day,
)

if TYPE_CHECKING:
    from heartbeat.dal.artifacts import OutputStore, TranscriptStore
    from heartbeat.dal.event_queue import EventQueue
    from heartbeat.dal.retry_schedules import OrphanJanitor, RetrySchedules
    from heartbeat.dal.runs import RunsTable
    from heartbeat.dal.schedules import SchedulesGateway
    from heartbeat.dal.task_state import TaskStateTable
    from heartbeat.dal.usage import UsageTable
    from heartbeat.models.task import Task
    from heartbeat.usage.budget import BudgetView
    from heartbeat.usage.prices import PriceTable

logger = logging.getLogger(__name__)

OutcomeStatus = Literal["ok", "error", "skipped", "missed", "queued", "duplicate", "orphan", "ignored"]
MAX_ERROR_CHARS = 2000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class OutcomeEvent:
    """An event this delivery produced, for the delivery layer to publish (`run.missed`,
    `budget.exhausted`). `key` is stable across duplicate deliveries: one event per key."""

    type: str
    key: str
    tenant_id: str
    task_id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What one delivery did. `run` is the record it wrote (none for duplicates and orphans);
    `events` what it has for the delivery layer to send."""

    status: OutcomeStatus
    run: Run | None = None
    reason: str | None = None
    events: tuple[OutcomeEvent, ...] = ()


@dataclass(frozen=True)
class ExecutorPolicy:
    max_consecutive_errors: int = 10
    tenant_concurrency: int = 25  # template.yaml's TenantConcurrency default
    retention: timedelta = timedelta(days=30)
    max_queue: timedelta = timedelta(hours=1)
    default_lease: timedelta = timedelta(minutes=15)  # when the Lambda's remaining time is unknown
    lease_margin: timedelta = timedelta(seconds=60)  # the lease outlives the Lambda's timeout by this
    stale_queued: timedelta = timedelta(seconds=60)  # a queued run this old lost its delivery
    first_retry: timedelta = timedelta(seconds=30)
    max_retry: timedelta = timedelta(minutes=5)
    daily_token_budget: int = 0  # the deployment's DailyTokenBudget; 0: none (a tenant may have its own)


@dataclass
class ExecutorDeps:
    state: TaskStateTable
    runs: RunsTable
    schedules: SchedulesGateway
    retries: RetrySchedules
    janitor: OrphanJanitor
    outputs: OutputStore
    transcripts: TranscriptStore
    soul: SoulRunner
    events: EventQueue | None = None  # where a run's webhook events go (None: nobody listens)
    usage: UsageTable | None = None  # None: no usage counted and no budget (bare test setups)
    prices: PriceTable | None = None  # None: runs have no cost_usd


def schedule_next_run(task: Task, now: datetime) -> str | None:
    """When the task's schedule fires next after `now` (None when disabled or never again)."""
    from heartbeat.schedule import ScheduleError, parse_schedule

    if not task.enabled:
        return None
    try:
        schedule = parse_schedule(task.schedule, None, now=_EPOCH)
    except ScheduleError:
        logger.warning("task %s has a schedule the engine no longer accepts", task.id)
        return None
    nxt = schedule.next_after(now)
    return iso(nxt) if nxt is not None else None


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _clip(message: str) -> str:
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 1] + "…"


class Executor:
    def __init__(
        self,
        deps: ExecutorDeps,
        policy: ExecutorPolicy,
        *,
        clock: Callable[[], datetime] = utcnow,
        next_run: Callable[[Task, datetime], str | None] = schedule_next_run,
        on_run: Callable[[Run], None] | None = None,
    ) -> None:
        self._d = deps
        self._p = policy
        self._clock = clock
        self._next_run = next_run
        self._on_run = on_run

    # -- entry -------------------------------------------------------------------------------
    def handle(
        self,
        event: Mapping[str, Any],
        *,
        remaining_ms: Callable[[], int] | None = None,
        executor_arn: str | None = None,
    ) -> Outcome:
        """Process one delivery. Raises `InvalidRequestError` for an event that is not an executor
        event, `DependencyError` when AWS fails before the run could be recorded (so the delivery
        is retried)."""
        ev = ExecutorEvent.parse(event)
        remaining = remaining_ms or self._default_remaining()
        now = self._clock()
        if ev.run_id is not None:
            try:
                run = self._d.runs.get(ev.tenant_id, ev.task_id, ev.run_id)
            except NotFoundError:
                return Outcome("ignored", reason=f"no run {ev.run_id} for task {ev.task_id}")
            if run.status != "queued":
                if _has_events(run):
                    later = self._load(ev.tenant_id, ev.task_id, now)
                    if later is not None:
                        self._republish(run, later, now)
                return Outcome("duplicate", run, f"run {run.id} is already {run.status}")
            self._notify(run)
            return self._process(run, ev, now, None, remaining, executor_arn)

        snapshot = self._load(ev.tenant_id, ev.task_id, now)
        if snapshot is None:
            deleted = self._d.janitor.sweep(ev.tenant_id, ev.task_id)
            return Outcome(
                "orphan", reason=f"task {ev.task_id} does not exist; deleted schedules: {deleted or 'none'}"
            )
        task = snapshot.task
        run = Run(
            tenant_id=ev.tenant_id,
            task_id=ev.task_id,
            id=slot_run_id(ev.tenant_id, ev.task_id, ev.slot, _ms(ev.scheduled_time)),
            status="queued",
            trigger=ev.trigger,
            scheduled_at=ev.slot,
            created_at=iso(now),
            expires_at=self._expires(now),
            model=task.model,
            conversation_id=task.conversation_id,
        )
        if not self._d.runs.claim_slot(run):
            existing = self._existing(ev, run.id)
            if existing is None or not self._stale_queued(existing, now):
                if existing is not None:
                    self._republish(existing, snapshot, now)
                return Outcome("duplicate", reason=f"slot {ev.slot} was already claimed by run {run.id}")
            run = existing
        self._notify(run)
        late = (now - ev.scheduled_time).total_seconds()
        if run.trigger == "schedule" and late > task.catchup_window_seconds:
            return self._miss(run, snapshot, late, now)
        return self._process(run, ev, now, snapshot, remaining, executor_arn)

    # -- deciding ----------------------------------------------------------------------------
    def _existing(self, ev: ExecutorEvent, owner: str) -> Run | None:
        """The run that claimed this delivery's slot first (None: gone since, by its TTL)."""
        try:
            return self._d.runs.get(ev.tenant_id, ev.task_id, owner)
        except NotFoundError:
            return None

    def _stale_queued(self, run: Run, now: datetime) -> bool:
        """The run has sat `queued` so long that its delivery must have died: this one carries it on."""
        if run.status == "queued" and now - parse_iso(run.created_at) > self._p.stale_queued:
            logger.info("carrying on run %s, queued since %s", run.id, run.created_at)
            return True
        return False

    def _republish(self, run: Run, snapshot: TaskSnapshot, now: datetime) -> None:
        """A repeated delivery of a run that is already final queues its events again: the first
        delivery may have died (or failed to queue them) after recording the run. The events are
        rebuilt with the ids they had the first time, so the notifier posts each once."""
        if self._d.events is None or not snapshot.subscriptions:
            return
        if run.status == "missed":
            self._publish_events(snapshot, (self._run_event(RUN_MISSED_EVENT, run),), now, strict=True)
        elif run.status in ("ok", "error") and run.transition is not None:
            moved = run.transition
            self._send_run_events(
                snapshot,
                run,
                snapshot.task,
                errors=(int(moved["errors_before"]), int(moved["errors_after"])),
                disabled=bool(moved["disables"]) and not snapshot.task.enabled,
                strict=True,
            )

    def _process(
        self,
        run: Run,
        ev: ExecutorEvent,
        now: datetime,
        snapshot: TaskSnapshot | None,
        remaining: Callable[[], int],
        executor_arn: str | None,
    ) -> Outcome:
        if snapshot is None:
            snapshot = self._load(run.tenant_id, run.task_id, now)
        if (
            snapshot is not None
            and snapshot.lease_run_id not in (None, run.id)
            and not snapshot.lease_held(_ms(now))
        ):
            snapshot = self._release_dead_lease(snapshot, now)
        if snapshot is None:
            return self._skip(run, None, "the task was deleted before the run started", now)
        reason = self._skip_reason(run, snapshot, now)
        if reason is not None:
            return self._skip(run, snapshot, reason, now)
        if self._d.usage is not None:
            budget = self._budget(snapshot, run.tenant_id, now)
            if budget.exhausted:
                return self._over_budget(run, snapshot, budget, now)

        lease_until = now + timedelta(milliseconds=max(remaining(), 0)) + self._p.lease_margin
        started_at = self._clock()
        result, slot = self._start(run, started_at, now, lease_until)
        if result is StartResult.RUN_TAKEN:
            return Outcome("duplicate", run, f"run {run.id} was started by another delivery")
        if result is StartResult.LEASE_HELD:
            fresh = self._d.state.load(run.tenant_id, run.task_id)
            if fresh is None:
                return self._skip(run, None, "the task was deleted before the run started", now)
            return self._skip(run, fresh, self._lease_reason(fresh) or "another run holds the task", now)
        if result is StartResult.SLOT_TAKEN:
            return self._requeue(run, ev, snapshot, now, executor_arn)
        recorded = False
        try:
            running = run.evolve(status="running", started_at=iso(started_at), reason=None)
            outcome = self._execute(running, snapshot, started_at, remaining, slot)
            recorded = True
            return outcome
        finally:
            if not recorded:
                # The finish transaction gives the slot back; a run that ends without it (AWS
                # failed, or the boundary re-raises) gives it back here, or it frees itself at expiry.
                self._d.runs.release_concurrency(run.tenant_id, slot, run.id)

    def _load(self, tenant_id: str, task_id: str, now: datetime) -> TaskSnapshot | None:
        """The task as the executor reads it: with the tenant's #meta (webhook subscriptions and
        budget) and, where budgets are counted, today's usage item, all in one BatchGetItem."""
        if self._d.usage is None:
            return self._d.state.load(tenant_id, task_id)
        return self._d.state.load(tenant_id, task_id, also=self._d.usage.day_request(tenant_id, utc_day(now)))

    def _budget(self, snapshot: TaskSnapshot, tenant_id: str, now: datetime) -> BudgetView:
        """The tenant's budget and today's usage: from the snapshot when it read today's item (no
        extra request), else read now."""
        assert self._d.usage is not None
        day = utc_day(now)
        _, key = self._d.usage.day_request(tenant_id, day)
        if snapshot.also is not None and snapshot.also[0] == key["sk"]["S"]:
            from heartbeat.dal.usage import budget_from

            return budget_from(snapshot.meta, snapshot.also[1], day, default=self._p.daily_token_budget)
        return self._d.usage.budget(tenant_id, day, default=self._p.daily_token_budget)

    def _start(
        self, run: Run, started_at: datetime, now: datetime, lease_until: datetime
    ) -> tuple[StartResult, int]:
        """Start the run in the tenant slot its id prefers; if another run holds that slot, read
        which slots are free (once) and try those. SLOT_TAKEN: all K are held."""
        limit = self._p.tenant_concurrency
        slot = self._d.runs.preferred_slot(run.id, limit)
        candidates: list[int] | None = None
        while True:
            result = self._d.state.start(
                run.tenant_id,
                run.task_id,
                runs=self._d.runs,
                run_id=run.id,
                started_at=iso(started_at),
                now_ms=_ms(now),
                lease_until_ms=_ms(lease_until),
                slot=slot,
            )
            if result is not StartResult.SLOT_TAKEN:
                return result, slot
            if candidates is None:
                free = self._d.runs.free_slots(run.tenant_id, limit=limit, now_ms=_ms(now))
                candidates = [index for index in free if index != slot]
            if not candidates:
                return result, slot
            slot = candidates.pop(0)

    def _skip_reason(self, run: Run, snapshot: TaskSnapshot, now: datetime) -> str | None:
        task = snapshot.task
        if run.trigger == "schedule":
            if not task.enabled:
                why = f": {task.state.disabled_reason}" if task.state.disabled_reason else ""
                return f"the task is disabled{why}"
            if snapshot.backoff_until is not None and parse_iso(snapshot.backoff_until) > now:
                errors = task.state.consecutive_errors
                return (
                    f"backing off after {errors} consecutive failed run{'s' if errors != 1 else ''} until "
                    f"{snapshot.backoff_until}; the last error: {task.state.last_error}"
                )
        if snapshot.lease_run_id != run.id:
            return self._lease_reason(snapshot, now)
        return None

    def _lease_reason(self, snapshot: TaskSnapshot, now: datetime | None = None) -> str | None:
        at = now or self._clock()
        if not snapshot.lease_held(_ms(at)) or snapshot.lease_until_ms is None:
            return None
        until = iso(datetime.fromtimestamp(snapshot.lease_until_ms / 1000, tz=UTC))
        return f"the previous run {snapshot.lease_run_id} is still running (it holds the task until {until})"

    # -- outcomes without a run --------------------------------------------------------------
    def _miss(self, run: Run, snapshot: TaskSnapshot, late: float, now: datetime) -> Outcome:
        """A delivery later than the task's catch-up window: recorded `missed`, not run, counted as
        neither success nor error (the error count, backoff and lease are untouched)."""
        window = snapshot.task.catchup_window_seconds
        reason = (
            f"missed: the delivery arrived {lateness(late)} after its slot {run.scheduled_at}, later than the "
            f"task's catchup_window_seconds={window}, so it was not run"
        )
        outcome = self._skip(run, snapshot, reason, now, status="missed")
        if outcome.status != "missed" or outcome.run is None:
            return outcome
        events = (self._run_event(RUN_MISSED_EVENT, outcome.run),)
        self._publish_events(snapshot, events, now, strict=True)
        return replace(outcome, events=events)

    def _over_budget(self, run: Run, snapshot: TaskSnapshot, budget: BudgetView, now: datetime) -> Outcome:
        """The tenant's daily tokens are spent: the run is skipped; the first such run of the UTC
        day (a conditional write decides which) sends the day's one `budget.exhausted` event."""
        outcome = self._skip(run, snapshot, exhausted_reason(budget, now), now)
        if outcome.status != "skipped" or self._d.usage is None:
            return outcome
        day = budget.today.date or utc_day(now)
        if not self._d.usage.mark_exhausted(run.tenant_id, day, iso(now)):
            return outcome
        event = OutcomeEvent(
            type=BUDGET_EXHAUSTED_EVENT,
            key=f"{run.tenant_id}:{day}:{BUDGET_EXHAUSTED_EVENT}",
            tenant_id=run.tenant_id,
            task_id=run.task_id,
            data={
                "budget": {**budget.to_api(), "date": day, "resumes_at": iso(next_utc_day(now))},
                "run": run_to_api(outcome.run) if outcome.run else None,
            },
        )
        self._publish_events(snapshot, (event,), now, strict=False)
        return replace(outcome, events=(event,))

    def _publish_events(
        self, snapshot: TaskSnapshot, events: tuple[OutcomeEvent, ...], now: datetime, *, strict: bool
    ) -> None:
        """Send events this delivery decided (`run.missed`, `budget.exhausted`) to the tenant's
        webhooks, when one listens. The event id derives from the event's key, so a repeat is one
        event. A queue failure fails the delivery when `strict` (after the run is recorded: the
        retry finds the run and queues the events again); `budget.exhausted` is not strict, since
        the day's mark is already taken and a retry would not send it."""
        if self._d.events is None or not snapshot.subscriptions:
            return
        from heartbeat.models.task import task_to_api
        from heartbeat.notify.events import Event, event_id, wanted

        built = [
            Event(
                id=event_id(e.key),
                type=e.type,
                timestamp=iso(now),
                tenant_id=e.tenant_id,
                task_id=e.task_id,
                data={"task": task_to_api(snapshot.task), **e.data},
            )
            for e in events
        ]
        chosen = wanted(built, snapshot.subscriptions)
        if not chosen:
            return
        self._queue(snapshot.task.tenant_id, [e.to_message() for e in chosen], strict=strict)

    def _queue(self, tenant_id: str, messages: list[dict[str, Any]], *, strict: bool) -> None:
        queue = self._d.events
        if queue is None:
            return
        try:
            queue.publish(tenant_id, messages)
        except DependencyError as exc:
            logger.error("queueing %d webhook events failed: %s", len(messages), exc.message)
            if strict:
                raise DependencyError(
                    f"the run is recorded, but queueing its webhook events failed ({exc.message}); "
                    "the delivery fails so that its retry queues them"
                ) from exc

    def _run_event(self, kind: str, run: Run) -> OutcomeEvent:
        return OutcomeEvent(
            type=kind,
            key=f"{run.id}:{kind}",
            tenant_id=run.tenant_id,
            task_id=run.task_id,
            data={"run": run_to_api(run)},
        )

    def _skip(
        self,
        run: Run,
        snapshot: TaskSnapshot | None,
        reason: str,
        now: datetime,
        *,
        status: Literal["skipped", "missed"] = "skipped",
    ) -> Outcome:
        final = run.evolve(status=status, reason=reason, finished_at=iso(now), expires_at=self._expires(now))
        if not self._d.runs.save_if(final, ("queued",)):
            return Outcome("duplicate", run, f"run {run.id} was decided by another delivery")
        if snapshot is not None:
            task = snapshot.task
            self._d.state.record_skip(
                run.tenant_id,
                run.task_id,
                RunState(
                    last_status=status,
                    last_run_at=iso(now),
                    last_run_id=run.id,
                    next_run_at=self._next_run(task, now),
                ),
                expected_version=task.version,
            )
            if run.trigger == "schedule" and not task.enabled and task.state.disabled_reason:
                self._disable_schedules(task)  # the executor disabled it: make sure its schedules are off
        logger.info("run %s: %s", status, reason)
        return Outcome(status, final, reason)

    def _requeue(
        self, run: Run, ev: ExecutorEvent, snapshot: TaskSnapshot, now: datetime, executor_arn: str | None
    ) -> Outcome:
        limit = self._p.tenant_concurrency
        waited = now - parse_iso(run.scheduled_at)
        if waited > self._p.max_queue:
            minutes = int(waited.total_seconds() // 60)
            return self._skip(
                run,
                snapshot,
                f"waited {minutes} minutes for a free run slot (this tenant had {limit} runs in progress "
                "the whole time) and gave up: spread the tenant's schedules or raise TenantConcurrency",
                now,
            )
        if executor_arn is None:
            raise DependencyError("cannot schedule the run's retry: the executor's own ARN is not known")
        attempt = ev.attempt + 1
        delay = min(self._p.first_retry * 2 ** (attempt - 1), self._p.max_retry)
        at = now + delay + timedelta(seconds=random.uniform(0, 10))  # noqa: S311 - jitter
        payload = ExecutorEvent(
            tenant_id=run.tenant_id,
            task_id=run.task_id,
            scheduled_time=parse_iso(run.scheduled_at),
            run_id=run.id,
            trigger=run.trigger,
            attempt=attempt,
        ).to_payload()
        self._d.retries.schedule(run.id, at, payload, executor_arn=executor_arn)
        reason = (
            f"waiting for a free run slot: this tenant already has {limit} runs in progress; "
            f"retry {attempt} at {iso(at)}"
        )
        self._d.runs.set_reason_if_queued(run.tenant_id, run.task_id, run.id, reason)
        logger.info("run queued: %s", reason)
        return Outcome("queued", run.evolve(reason=reason), reason)

    def _release_dead_lease(self, snapshot: TaskSnapshot, now: datetime) -> TaskSnapshot | None:
        """The task's lease expired with its run still `running`: that run crashed or timed out.
        Record it as a failed run (it counts towards backoff and auto-disable like any other),
        release its lease, and return the task as it is now (None: deleted). A lease whose run
        finished, or that another delivery released first, is left for the start to take."""
        task = snapshot.task
        previous = snapshot.lease_run_id
        if previous is None:
            return snapshot
        try:
            stuck = self._d.runs.get(task.tenant_id, task.id, previous)
        except NotFoundError:
            return snapshot
        if stuck.status != "running":
            return snapshot
        ended = datetime.fromtimestamp((snapshot.lease_until_ms or _ms(now)) / 1000, tz=UTC)
        error = (
            "the run did not finish before its lease expired: the executor timed out or crashed. "
            "If this repeats, simplify the task or raise the executor's timeout"
        )
        state, disable = self._run_state(task, stuck, ended, error=error, terminal=False)
        written = self._d.state.finish(
            task.tenant_id,
            task.id,
            stuck.id,
            state,
            expected_version=task.version,
            runs=self._d.runs,
            record=(
                dead := stuck.evolve(
                    status="error",
                    reason=LEASE_EXPIRED_REASON,
                    finished_at=iso(ended),
                    error=error,
                    expires_at=self._expires(ended),
                    transition=_transition(task, state, disable),
                )
            ),
            slot=None,  # the dead run's tenant slot frees itself when it expires
        )
        if written.state:
            logger.warning("run %s crashed or timed out; its lease was released", stuck.id)
            if disable and written.unchanged:
                self._disable_schedules(task)
        if written.record:
            # Not strict: this delivery is about its own slot, and failing it would not bring the
            # dead run's events back (the retry finds the lease released).
            self._publish(
                snapshot, dead, state if written.state else None, disable and written.state, strict=False
            )
        return self._load(task.tenant_id, task.id, now)

    # -- running -----------------------------------------------------------------------------
    def _execute(
        self, run: Run, snapshot: TaskSnapshot, started: datetime, remaining: Callable[[], int], slot: int
    ) -> Outcome:
        task = snapshot.task
        try:
            history = (
                self._d.transcripts.load(run.tenant_id, run.conversation_id) if run.conversation_id else []
            )
            result = self._d.soul(
                SoulRequest(
                    tenant_id=run.tenant_id,
                    task_id=run.task_id,
                    run_id=run.id,
                    model=run.model or task.model,
                    prompt=task.prompt,
                    history=history,
                    remaining_ms=remaining,
                    limits=task.effective_limits(),
                    output_schema=task.output_schema,
                    tools=task.tools,
                    web_allow=task.web_allow,
                )
            )
        except ModelError as exc:
            usage = getattr(exc, "usage", None)
            return self._finish(
                run,
                snapshot,
                started,
                slot,
                error=_clip(str(exc) or type(exc).__name__),
                terminal=_is_terminal(exc),
                usage=usage if isinstance(usage, Usage) else None,
                **_tool_record(exc),
            )
        except HeartbeatError as exc:
            return self._finish(
                run, snapshot, started, slot, error=_clip(exc.message), terminal=False, **_tool_record(exc)
            )
        except Exception as exc:
            # The executor's one boundary: a bug in the model path must not leave the run
            # `running` and the task leased until the lease expires. Record a failed run (the
            # message names only the exception type; details go to the log) and re-raise so Lambda
            # counts the error and the alarm fires. Lambda's retry then finds the run finished.
            logger.exception("run %s failed unexpectedly", run.id)
            self._finish(
                run,
                snapshot,
                started,
                slot,
                terminal=False,
                error=f"internal error ({type(exc).__name__}) while running the task; "
                f"the operator can find run {run.id} in the executor's logs",
            )
            raise
        return self._succeed(run, snapshot, started, slot, result)

    def _succeed(
        self, run: Run, snapshot: TaskSnapshot, started: datetime, slot: int, result: SoulResult
    ) -> Outcome:
        error = None
        if run.conversation_id:
            try:
                self._d.transcripts.append(
                    run.tenant_id, run.conversation_id, result.new_messages, updated_at=iso(self._clock())
                )
            except DependencyError as exc:
                error = (
                    f"the run answered, but its turns could not be added to the conversation: {exc.message}"
                )
        return self._finish(
            run,
            snapshot,
            started,
            slot,
            output=result.output,
            usage=result.usage,
            error=error,
            output_json=result.output_json,
            tool_calls=list(result.tool_log),
            notifications=list(result.notifications),
        )

    def _finish(
        self,
        run: Run,
        snapshot: TaskSnapshot,
        started: datetime,
        slot: int,
        *,
        output: str | None = None,
        usage: Usage | None = None,
        error: str | None = None,
        terminal: bool = False,
        output_json: str | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        notifications: list[dict[str, Any]] | None = None,
    ) -> Outcome:
        task = snapshot.task
        finished = self._clock()
        status: Literal["ok", "error"] = "error" if error is not None else "ok"
        spent = usage or Usage()
        cost = self._d.prices.cost(run.model or task.model, spent) if self._d.prices is not None else None
        record = run.evolve(
            status=status,
            finished_at=iso(finished),
            duration_ms=max(int((finished - started).total_seconds() * 1000), 0),
            usage=usage.to_dict() if usage is not None else None,
            error=error,
            expires_at=self._expires(finished),
            cost_usd=cost,
            output_json=output_json
            if output_json is None or len(output_json) <= MAX_INLINE_OUTPUT_BYTES
            else None,
            tool_calls=tool_calls or None,
            notifications=notifications or None,
            **self._output_fields(run, output),
        )
        state, disable = self._run_state(
            task,
            run.evolve(started_at=run.started_at or iso(started)),
            finished,
            error=error,
            terminal=terminal,
        )
        record = record.evolve(transition=_transition(task, state, disable))
        written = self._d.state.finish(
            run.tenant_id,
            run.task_id,
            run.id,
            state,
            expected_version=task.version,
            runs=self._d.runs,
            record=record,
            slot=slot,
            usage_item=(
                self._d.usage.add_item(run.tenant_id, utc_day(finished), spent, cost)
                if self._d.usage is not None
                else None
            ),
        )
        if not written.record:
            logger.warning("run %s was moved on by another writer; its record was not replaced", run.id)
        if not written.state:
            logger.warning(
                "run %s lost the task's lease (or the task was deleted); state not updated", run.id
            )
        elif disable and written.unchanged:
            self._disable_schedules(task)
        if written.record:
            self._publish(
                snapshot, record, state if written.state else None, disable and written.state, strict=True
            )
        if error is not None:
            logger.warning("run failed: %s", error)
        return Outcome(status, record, error)

    def _publish(
        self, snapshot: TaskSnapshot, record: Run, state: RunState | None, disabled: bool, *, strict: bool
    ) -> None:
        """Send the run's events to the notifications queue, if an enabled webhook of the tenant
        wants any of them (known from the snapshot: no extra read). A queue failure fails the
        delivery when `strict`, never the run: the record is written, and the retry re-queues."""
        if self._d.events is None or not snapshot.subscriptions:
            return
        from dataclasses import replace

        task = snapshot.task
        after = task
        if state is not None:
            after = task.evolve(
                enabled=task.enabled and not disabled,
                state=replace(
                    task.state,
                    last_status=state.last_status,
                    last_run_at=state.last_run_at,
                    last_run_id=state.last_run_id,
                    next_run_at=state.next_run_at,
                    consecutive_errors=state.consecutive_errors
                    if state.counts
                    else task.state.consecutive_errors,
                    last_error=state.last_error if state.counts else task.state.last_error,
                    disabled_reason=state.disabled_reason or task.state.disabled_reason,
                ),
            )
        errors = (task.state.consecutive_errors, after.state.consecutive_errors)
        self._send_run_events(snapshot, record, after, errors=errors, disabled=disabled, strict=strict)

    def _send_run_events(
        self,
        snapshot: TaskSnapshot,
        record: Run,
        after: Task,
        *,
        errors: tuple[int, int],
        disabled: bool,
        strict: bool,
    ) -> None:
        """Queue the events of finished run `record` that the tenant's webhooks want; `after` is
        the task as the run left it, `errors` its error count before and after the run."""
        from heartbeat.models.run import run_to_api
        from heartbeat.models.task import task_to_api
        from heartbeat.notify.events import RunFacts, run_events, wanted

        facts = RunFacts(
            tenant_id=record.tenant_id,
            task_id=record.task_id,
            run_id=record.id,
            status=record.status,
            finished_at=record.finished_at or iso(self._clock()),
            errors_before=errors[0],
            errors_after=errors[1],
            alert_after_errors=after.alert_after_errors,
            disabled=disabled,
            task=task_to_api(after),
            run=run_to_api(record),
            notifications=tuple(getattr(record, "notifications", None) or ()),
        )
        events = wanted(run_events(facts), snapshot.subscriptions)
        if events:
            self._queue(record.tenant_id, [event.to_message() for event in events], strict=strict)

    def _run_state(
        self, task: Task, run: Run, finished: datetime, *, error: str | None, terminal: bool
    ) -> tuple[RunState, bool]:
        """What a finished (ok or failed) run leaves in the task's state, and whether it disables
        the task: the error count, its backoff, and auto-disable after too many failures in a row
        (at once for an error retrying cannot fix)."""
        errors = 0 if error is None else task.state.consecutive_errors + 1
        if error is not None and terminal:
            errors = max(errors, self._p.max_consecutive_errors)
        disable = error is not None and task.enabled and errors >= self._p.max_consecutive_errors
        disabled_reason = None
        if disable:
            disabled_reason = (
                f"disabled after an error that retrying cannot fix: {error}. Fix the cause, then re-enable the "
                'task with PATCH {"enabled": true}'
                if terminal
                else f"disabled after {errors} consecutive failed runs; the last error: {error}. Fix the cause, "
                'then re-enable the task with PATCH {"enabled": true}'
            )
        state = RunState(
            last_status="error" if error is not None else "ok",
            last_run_at=run.started_at or iso(finished),
            last_run_id=run.id,
            next_run_at=self._next_run(task, finished),
            counts=True,
            consecutive_errors=errors,
            last_error=error,
            backoff_until=iso(backoff_until(errors, finished)) if error is not None else None,
            disabled_reason=_clip(disabled_reason) if disabled_reason else None,
            updated_at=iso(finished),
        )
        return state, disable

    def _output_fields(self, run: Run, output: str | None) -> dict[str, Any]:
        if output is None:
            return {}
        size = len(output.encode())
        if size <= MAX_INLINE_OUTPUT_BYTES:
            return {"output": output, "output_bytes": size}
        key = self._d.outputs.put(run.tenant_id, run.task_id, run.id, output)
        return {"output": preview(output), "output_bytes": size, "output_key": key}

    # -- helpers -----------------------------------------------------------------------------
    def _disable_schedules(self, task: Task) -> None:
        for name in schedule_names(task.tenant_id, task.id, task.schedule_count):
            try:
                self._d.schedules.disable(name, now=self._clock())
            except DependencyError:
                # The task row says disabled; the next slot that arrives tries again.
                logger.exception("disabling schedule %s failed", name)

    def _expires(self, at: datetime) -> int:
        return int((at + self._p.retention).timestamp())

    def _notify(self, run: Run) -> None:
        if self._on_run is not None:
            self._on_run(run)

    def _default_remaining(self) -> Callable[[], int]:
        deadline = time.monotonic() + self._p.default_lease.total_seconds()
        return lambda: int((deadline - time.monotonic()) * 1000)


def _transition(task: Task, state: RunState, disable: bool) -> dict[str, Any]:
    """What the run record keeps of its effect on the task, for `Executor._republish`."""
    return {
        "errors_before": task.state.consecutive_errors,
        "errors_after": state.consecutive_errors if state.counts else task.state.consecutive_errors,
        "disables": disable,
    }


def _has_events(run: Run) -> bool:
    """Whether a final run has events a repeated delivery may have to queue again."""
    return run.status == "missed" or (run.status in ("ok", "error") and run.transition is not None)


def _is_terminal(exc: ModelError) -> bool:
    """Errors retrying cannot fix (bad key, unknown model or provider, invalid request). A run
    that hit its own step/token/time bound, whose answer did not match the task's output_schema, or
    whose agent reported failure (report_failure), is terminal for that run only, and counts once."""
    from heartbeat.soul.agent import AgentLimitError
    from heartbeat.soul.structured import AnswerSchemaError
    from heartbeat.tools.failure import ReportedFailure

    return not exc.transient and not isinstance(exc, AgentLimitError | AnswerSchemaError | ReportedFailure)


def _tool_record(exc: BaseException) -> dict[str, Any]:
    """The tool calls and notifications a failed run made before it failed (see `attach_record`)."""
    return {
        "tool_calls": list(getattr(exc, "tool_log", ())),
        "notifications": list(getattr(exc, "notifications", ())),
    }


__all__ = [
    "LEASE_EXPIRED_REASON",
    "Executor",
    "ExecutorDeps",
    "ExecutorPolicy",
    "Outcome",
    "OutcomeEvent",
    "schedule_next_run",
]
