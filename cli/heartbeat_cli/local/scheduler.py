"""The local EventBridge Scheduler: fires the schedules stored on the local AWS endpoint.

A heap holds each enabled schedule's next fire time. The endpoint reports every write to the
Scheduler API (`notify`), and only then are the schedules listed again and only those whose
LastModificationDate moved are read (GetSchedule) and re-planned: nothing scans every schedule
every second, and between fire times the thread sleeps. Deliveries run in a bounded worker pool;
a failed one is retried per the schedule's RetryPolicy and then dead-lettered, as EventBridge does.
A schedule with a FlexibleTimeWindow fires each slot at a random time within the window after it;
the invocation still carries the slot as its scheduled time.

Started again (`catch_up_since`: when the previous stack stopped), the first read of the schedules
delivers each enabled schedule's latest slot that passed while the stack was stopped, within its
RetryPolicy's MaximumEventAgeInSeconds (the task's catch-up window), once, as EventBridge's retries would
have; the executor's slot dedupe makes a slot that had already run a duplicate. Earlier missed
slots are not replayed, and the plan goes on from the next slot after now."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from heartbeat_cli.local.clock import Clock
from heartbeat_cli.local.delivery import Invocation, ScheduleDefinition, dead_letter_message, next_retry_at

log = logging.getLogger("heartbeat.local")


class NextFire(Protocol):
    def __call__(
        self,
        expression: str,
        timezone: str,
        after: datetime,
        *,
        anchor: datetime | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> datetime | None: ...


# Invokes a target (a function ARN) with an event; raising means the invocation failed.
TargetInvoker = Callable[[str, Any], Any]


def default_next_fire() -> NextFire:
    from heartbeat.schedule.eventbridge import next_fire

    return next_fire


@dataclass(order=True)
class _Due:
    when: datetime
    seq: int
    key: str = field(compare=False)
    generation: int = field(compare=False)
    invocation: Invocation | None = field(compare=False, default=None)  # set for a retry
    delete_after: bool = field(compare=False, default=False)
    slot: datetime | None = field(compare=False, default=None)  # the slot, when `when` is inside its window


@dataclass
class _Planned:
    schedule: ScheduleDefinition
    generation: int


class LocalScheduler:
    def __init__(
        self,
        client: Any,
        invoke: TargetInvoker,
        clock: Clock,
        *,
        sqs: Any = None,
        workers: int = 8,
        next_fire: NextFire | None = None,
        flexible_offset: Callable[[timedelta], timedelta] | None = None,
        catch_up_since: datetime | None = None,
    ) -> None:
        self._client = client
        self._invoke = invoke
        self._clock = clock
        self._sqs = sqs
        self._next_fire = next_fire or default_next_fire()
        # Where in its flexible window a slot fires: uniformly at random, as EventBridge does.
        self._flexible_offset = flexible_offset or (lambda window: window * random.random())  # noqa: S311
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scheduler-worker")
        self._heap: list[_Due] = []
        self._planned: dict[str, _Planned] = {}  # by schedule ARN
        self._seq = itertools.count()
        self._generations = itertools.count(1)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._busy = False
        self._resync = True
        # The first read of the schedules delivers the slots missed since then (None: a first start).
        self._catch_up_since = catch_up_since
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def notify(self, service: str = "scheduler") -> None:
        """A write reached the endpoint: re-read the schedules if it was a Scheduler write."""
        if service == "scheduler":
            with self._lock:
                self._resync = True
            self._wake.set()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until nothing is due, nothing is running and no change is pending (for tests)."""
        with self._idle:
            return self._idle.wait_for(self._is_idle, timeout)

    def planned(self) -> dict[str, datetime | None]:
        """Each known schedule's next fire time (None: disabled or finished), by ARN."""
        with self._lock:
            nexts: dict[str, datetime | None] = dict.fromkeys(self._planned)
            for due in self._heap:
                planned = self._planned.get(due.key)
                if due.invocation is None and planned is not None and planned.generation == due.generation:
                    nexts[due.key] = due.when
            return nexts

    def _is_idle(self) -> bool:
        now = self._clock.now()
        nothing_due = not self._heap or self._heap[0].when > now
        return nothing_due and not self._resync and not self._busy and self._in_flight == 0

    # --- the loop ----------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                self._wake.clear()
                resync, self._resync = self._resync, False
                self._busy = True
            try:
                if resync:
                    self._sync_or_retry()
                self._fire_due()
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()
                    until = self._heap[0].when if self._heap else None
            self._clock.wait(self._wake, until)

    def _sync_or_retry(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._sync()
        except (BotoCoreError, ClientError) as exc:  # the endpoint is busy or going away: try again
            log.warning("reading the schedules failed: %s", exc)
            with self._lock:
                self._resync = not self._stopping
            if not self._stopping:
                time.sleep(0.5)

    def _sync(self) -> None:
        """List the schedules; read and re-plan those that are new or changed; forget the removed."""
        from botocore.exceptions import ClientError

        listed: dict[str, tuple[str, str, datetime]] = {}
        for page in self._client.get_paginator("list_schedules").paginate():
            for summary in page["Schedules"]:
                listed[summary["Arn"]] = (
                    summary["Name"],
                    summary["GroupName"],
                    summary["LastModificationDate"],
                )
        with self._lock:
            for arn in set(self._planned) - set(listed):
                del self._planned[arn]  # its heap entries are now stale and skipped
            changed = [
                (arn, name, group)
                for arn, (name, group, modified) in listed.items()
                if arn not in self._planned or self._planned[arn].schedule.modified != modified
            ]
        now = self._clock.now()
        since, self._catch_up_since = self._catch_up_since, None
        for _arn, name, group in changed:
            try:
                schedule = ScheduleDefinition.from_api(self._client.get_schedule(Name=name, GroupName=group))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue  # deleted between the list and the read: the next sync drops it
                raise
            first = self._first_fire(schedule, now)
            self._plan(schedule, first)
            missed = self._latest_missed(schedule, now, since) if since is not None else None
            if missed is not None:
                log.info("%s: delivering slot %s, missed while the stack was stopped", schedule.name, missed)
                with self._lock:
                    delete_after = first is None and schedule.delete_after_completion
                    heapq.heappush(
                        self._heap,
                        _Due(
                            now,
                            next(self._seq),
                            schedule.arn,
                            0,
                            Invocation(schedule, missed, str(uuid.uuid4())),
                            delete_after,
                        ),
                    )
        log.debug("schedules re-read: %d changed of %d", len(changed), len(listed))

    def _first_fire(self, schedule: ScheduleDefinition, now: datetime) -> datetime | None:
        return self._following(schedule, now) if schedule.enabled else None

    def _latest_missed(self, schedule: ScheduleDefinition, now: datetime, since: datetime) -> datetime | None:
        """The last slot after `since` and at or before `now`, within the schedule's event age."""
        if not schedule.enabled:
            return None
        floor = max(now - schedule.max_event_age, since)
        latest = None
        fire = self._following(schedule, floor)
        while fire is not None and fire <= now:
            latest = fire
            fire = self._following(schedule, fire)
        return latest

    def _following(self, schedule: ScheduleDefinition, after: datetime) -> datetime | None:
        try:
            return self._next_fire(
                schedule.expression,
                schedule.timezone,
                after,
                anchor=schedule.start or schedule.created,
                start=schedule.start,
                end=schedule.end,
            )
        except ValueError as exc:  # an expression EventBridge would have refused: never fires
            log.error("%s: cannot evaluate %r: %s", schedule.name, schedule.expression, exc)
            return None

    def _plan(self, schedule: ScheduleDefinition, when: datetime | None) -> None:
        with self._lock:
            generation = next(self._generations)
            self._planned[schedule.arn] = _Planned(schedule, generation)
            if when is not None:
                heapq.heappush(self._heap, self._due(schedule, when, generation))

    def _fire_due(self) -> None:
        while True:
            now = self._clock.now()
            with self._lock:
                if not self._heap or self._heap[0].when > now:
                    return
                due = heapq.heappop(self._heap)
                planned = self._planned.get(due.key)
                if due.invocation is not None:
                    self._start(due.invocation, delete_after=due.delete_after)
                    continue
                if planned is None or planned.generation != due.generation:
                    continue  # changed or deleted since this was planned
                schedule = planned.schedule
            slot = due.slot or due.when
            following = self._following(schedule, slot)
            with self._lock:
                if following is not None:
                    heapq.heappush(self._heap, self._due(schedule, following, due.generation))
                if now - due.when > schedule.max_event_age:
                    log.warning(
                        "%s: slot %s is older than the retry policy allows; dropped", schedule.name, slot
                    )
                    continue
                invocation = Invocation(schedule, slot, str(uuid.uuid4()))
                self._start(invocation, delete_after=following is None and schedule.delete_after_completion)

    def _due(self, schedule: ScheduleDefinition, slot: datetime, generation: int) -> _Due:
        """The heap entry of one slot: at the slot, or inside its flexible window."""
        if not schedule.flexible_window:
            return _Due(slot, next(self._seq), schedule.arn, generation)
        when = slot + min(
            max(self._flexible_offset(schedule.flexible_window), timedelta(0)), schedule.flexible_window
        )
        return _Due(when, next(self._seq), schedule.arn, generation, slot=slot)

    def _start(self, invocation: Invocation, *, delete_after: bool) -> None:
        """Hand one invocation to the pool (called with the lock held)."""
        self._in_flight += 1
        self._pool.submit(self._deliver, invocation, delete_after)

    def invoke_async(self, target_arn: str, payload: Any) -> None:
        """An asynchronous invoke (the API's run-now): queued on the same bounded worker pool."""
        with self._lock:
            if self._stopping:
                raise RuntimeError("the local scheduler is stopping")
            self._in_flight += 1
        self._pool.submit(self._run_async, target_arn, payload)

    def _run_async(self, target_arn: str, payload: Any) -> None:
        try:
            self._invoke(target_arn, payload)
        # The boundary of an asynchronous Lambda invocation: its error is logged, not raised to the caller.
        except Exception:  # noqa: BLE001
            log.exception("asynchronous invocation of %s failed", target_arn)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    # --- delivery (worker threads) -----------------------------------------------------------

    def _deliver(self, invocation: Invocation, delete_after: bool) -> None:
        try:
            self._attempt(invocation, delete_after)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _attempt(self, invocation: Invocation, delete_after: bool) -> None:
        schedule = invocation.schedule
        try:
            self._invoke(schedule.target_arn, invocation.payload())
        # The boundary of a Lambda invocation: whatever the function raises is a failed invocation
        # that the retry policy handles, as EventBridge Scheduler would; it is logged with its traceback.
        except Exception as exc:  # noqa: BLE001
            log.warning("%s: attempt %d failed: %s", schedule.name, invocation.attempt, exc, exc_info=True)
            retry_at = next_retry_at(invocation, self._clock.now())
            if retry_at is not None:
                with self._lock:
                    heapq.heappush(
                        self._heap,
                        _Due(retry_at, next(self._seq), schedule.arn, 0, invocation.retry(), delete_after),
                    )
                self._wake.set()
                return
            self._dead_letter(invocation, exc)
        if delete_after:
            self._delete(schedule)

    def _dead_letter(self, invocation: Invocation, error: BaseException) -> None:
        arn = invocation.schedule.dead_letter_arn
        if arn is None or self._sqs is None:
            log.error(
                "%s: slot %s dropped after %d attempts",
                invocation.schedule.name,
                invocation.scheduled_time,
                invocation.attempt,
            )
            return
        queue_url = self._sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]
        self._sqs.send_message(QueueUrl=queue_url, **dead_letter_message(invocation, error))

    def _delete(self, schedule: ScheduleDefinition) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.delete_schedule(Name=schedule.name, GroupName=schedule.group)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
