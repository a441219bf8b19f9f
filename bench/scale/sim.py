"""A discrete-event simulation, in virtual time, of one day of deliveries through EventBridge
Scheduler, Lambda and the tenant executor.

The clock advances a second at a time; within a second every delivery keeps its own time. Each
second, in this order:

1. Runs that finish give back their Lambda concurrency, their tenant run slot and their task's
   lease (the finish transaction, `TaskStateTable.finish`).
2. Scheduler takes the slots due (at their flexible-window fire time) and the retry schedules due,
   and invokes at most `scheduler_invocations_per_s` of its backlog, first due first: excess
   invocations wait, they are not dropped.
3. Lambda's asynchronous queue hands events to the executor while its concurrency allows: at most
   `lambda_concurrency` at once, and new execution environments come at most
   `lambda_scale_per_10s` per 10 s (refilled continuously, never banked beyond that); environments
   idle for `reclaim_s` are taken back. An event older than `lambda_max_event_age_s` goes to the
   dead-letter queue and never reaches the executor.
4. The executor decides each delivery as `executor/core.py` does:
   - a first delivery later than the catch-up window after its slot is recorded `missed`;
   - a slot whose task's previous run still holds the lease is `skipped` (`_skip_reason`);
   - the start transaction takes one of the tenant's K run slots (`_start`); with all K held the
     run is requeued (`_requeue`): a one-time retry schedule at
     min(30 s * 2^(attempt-1), 300 s) + uniform(0, 10) s, which goes through Scheduler and Lambda
     again, until it has waited `max_queue_s` since its slot, when it is recorded `skipped`;
   - otherwise it runs for its duration.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from bench.scale.model import Policy, Quotas
    from bench.scale.workload import Runs

    IntArray = npt.NDArray[np.int64]
    FloatArray = npt.NDArray[np.float64]


class _Fifo:
    """A first-in-first-out queue of deliveries: (run index, attempt, time) in array chunks."""

    def __init__(self) -> None:
        self._chunks: deque[tuple[IntArray, IntArray, FloatArray]] = deque()
        self.size = 0

    def push(self, idx: IntArray, attempt: IntArray, at: FloatArray) -> None:
        if len(idx):
            self._chunks.append((idx, attempt, at))
            self.size += len(idx)

    def pop(self, k: int) -> tuple[IntArray, IntArray, FloatArray]:
        import numpy as np

        taken: list[tuple[IntArray, IntArray, FloatArray]] = []
        need = min(k, self.size)
        while need > 0:
            idx, attempt, at = self._chunks[0]
            if len(idx) <= need:
                taken.append(self._chunks.popleft())
                need -= len(idx)
            else:
                taken.append((idx[:need], attempt[:need], at[:need]))
                self._chunks[0] = (idx[need:], attempt[need:], at[need:])
                need = 0
        self.size -= sum(len(part[0]) for part in taken)
        if not taken:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0)
        if len(taken) == 1:
            return taken[0]
        return (
            np.concatenate([p[0] for p in taken]),
            np.concatenate([p[1] for p in taken]),
            np.concatenate([p[2] for p in taken]),
        )


@dataclass
class Outcome:
    """What happened to every delivery, and the counters the report is made of."""

    started: list[Any] = field(default_factory=list)  # (run idx, start time) of runs that ran
    invocations_per_s: list[int] = field(default_factory=list)
    concurrency_per_s: list[int] = field(default_factory=list)
    create_schedule_per_s: list[int] = field(default_factory=list)
    missed: int = 0  # first delivery later than the catch-up window: recorded missed
    gave_up: int = 0  # waited max_queue for a tenant slot: recorded skipped
    lease_skipped: int = 0  # the task's previous run still held its lease: recorded skipped
    dropped: int = 0  # older than Lambda's maximum event age: dead-lettered, never recorded
    requeued: int = 0
    scheduler_invocations: int = 0
    lambda_invocations: int = 0
    lambda_gb_s: float = 0.0
    write_units: float = 0.0
    read_units: float = 0.0
    sqs_requests: int = 0
    # (key, second) of each write, for the busiest item: the tenant's run-slot partition, the
    # tenant's usage counter, a task's state item.
    slot_writes: list[Any] = field(default_factory=list)
    usage_writes: list[Any] = field(default_factory=list)
    state_writes: list[Any] = field(default_factory=list)
    seconds: int = 0


def simulate(
    runs: Runs, quotas: Quotas, policy: Policy, *, seed: int = 20, reclaim_s: int = 300, horizon_days: int = 3
) -> Outcome:
    import numpy as np

    from bench.scale.model import REQUEUE_UNITS, RUN_UNITS, SKIP_UNITS, SQS_REQUEST  # noqa: F401

    rng = np.random.default_rng(seed + 1)
    out = Outcome()
    n = len(runs.slot)
    gb = policy.executor_memory_mb / 1024
    # The tenant's K run slots (dal/runs.py `{tenant}#concurrency` / `slot#n`), each held until
    # its run ends, and each task's lease: the time it is held until.
    slot_until = np.full((max(runs.tenants, 1), policy.tenant_concurrency), -1.0)
    lease_until = np.full(max(runs.tasks, 1), -1.0)
    scheduler, lam = _Fifo(), _Fifo()
    retries: dict[int, list[tuple[IntArray, IntArray, FloatArray]]] = defaultdict(list)
    end = 86400 * horizon_days
    ending = np.zeros(end + 400, dtype=np.int64)  # deliveries that end (free their Lambda) each second
    running = 0
    environments = 0
    tokens = float(quotas.lambda_scale_per_10s)
    refill = quotas.lambda_scale_per_10s / 10.0
    recent: deque[tuple[int, int]] = deque()  # (second, running) for the reclaim window's peak
    fire_second = np.floor(runs.fire).astype(np.int64)
    bounds = np.searchsorted(fire_second, np.arange(0, 86400 * horizon_days + 2), side="left")
    next_due = 0
    t = 0
    while t < end:
        # 1. finishes give back their Lambda (slots and leases hold their end times)
        running -= int(ending[t])

        # 2. Scheduler: what is due this second joins its backlog; it invokes up to its rate.
        lo, hi = bounds[t], bounds[t + 1]
        if hi > lo:
            idx = np.arange(lo, hi, dtype=np.int64)
            scheduler.push(idx, np.zeros(hi - lo, dtype=np.int64), runs.fire[lo:hi])
            next_due = hi
        for idx, attempt, at in retries.pop(t, ()):
            scheduler.push(idx, attempt, at)
        invoked = 0
        if scheduler.size:
            idx, attempt, due = scheduler.pop(quotas.scheduler_invocations_per_s)
            invoked = len(idx)
            sent = np.maximum(due, t + np.arange(invoked) / quotas.scheduler_invocations_per_s)
            lam.push(idx, attempt, sent)
            out.scheduler_invocations += invoked
        out.invocations_per_s.append(invoked)

        # 3. Lambda: environments scale at the documented rate, up to the account's concurrency.
        tokens = min(float(quotas.lambda_scale_per_10s), tokens + refill)
        wanted = min(quotas.lambda_concurrency, running + lam.size)
        if wanted > environments:
            grow = min(wanted - environments, int(tokens))
            environments += grow
            tokens -= grow
        elif lam.size == 0:
            while recent and recent[0][0] <= t - reclaim_s:
                recent.popleft()
            peak = max((r for _, r in recent), default=0)
            environments = max(running, min(environments, peak))
        free = max(0, min(environments, quotas.lambda_concurrency) - running)
        requeue_creates = 0
        if free and lam.size:
            idx, attempt, sent = lam.pop(free)
            start = np.maximum(sent, float(t))
            fresh = start - sent <= policy.lambda_max_event_age_s
            out.dropped += int((~fresh).sum())
            idx, attempt, start = idx[fresh], attempt[fresh], start[fresh]
            out.lambda_invocations += len(idx)
            waited = start - runs.slot[idx]
            # 4. the executor's decision, in the order core.py makes it
            missed = (attempt == 0) & (waited > policy.catchup_window_s)
            task = runs.task[idx]
            held = ~missed & (lease_until[task] > start)
            candidate = ~missed & ~held
            tenants = runs.tenant[idx]
            rank = _rank_within(tenants, candidate)
            free_slots = slot_until[tenants] <= start[:, None]
            gets_slot = candidate & (rank < free_slots.sum(axis=1))
            full = candidate & ~gets_slot
            gave_up = full & (waited > policy.max_queue_s)
            requeue = full & ~gave_up
            out.missed += int(missed.sum())
            out.lease_skipped += int(held.sum())
            out.gave_up += int(gave_up.sum())
            out.requeued += int(requeue.sum())

            ran = np.flatnonzero(gets_slot)
            run_idx = idx[ran]
            finish = start[ran] + runs.duration[run_idx]
            # the run takes the first free slot not taken by an earlier run of its tenant this second
            which = np.argmax(np.cumsum(free_slots[ran], axis=1) == (rank[ran] + 1)[:, None], axis=1)
            slot_until[tenants[ran], which] = finish
            lease_until[task[ran]] = finish
            out.started.append((run_idx, start[ran]))
            ends = np.maximum(np.ceil(finish - 1e-6).astype(np.int64), t + 1)
            np.add.at(ending, ends, 1)
            # writes: the start transaction (slot, task state) now, the finish transaction (slot,
            # task state) and the usage counter when the run ends
            out.slot_writes.append((np.r_[tenants[ran], tenants[ran]], np.r_[np.full(len(ran), t), ends]))
            out.state_writes.append((np.r_[task[ran], task[ran]], np.r_[np.full(len(ran), t), ends]))
            out.usage_writes.append((tenants[ran], ends))
            out.lambda_gb_s += float(runs.duration[run_idx].sum()) * gb
            out.write_units += len(ran) * RUN_UNITS["write"]
            out.read_units += len(ran) * RUN_UNITS["read"]
            out.sqs_requests += 3 * int(runs.notify[run_idx].sum())  # send, receive, delete

            short = len(idx) - len(ran)
            ending[t + 1] += short
            out.lambda_gb_s += short * policy.short_delivery_s * gb
            skipped = int(missed.sum() + held.sum() + gave_up.sum())
            out.write_units += skipped * SKIP_UNITS["write"] + int(requeue.sum()) * REQUEUE_UNITS["write"]
            out.read_units += skipped * SKIP_UNITS["read"] + int(requeue.sum()) * REQUEUE_UNITS["read"]
            failed = np.flatnonzero(full)  # the start transaction that found all K slots held
            out.slot_writes.append((tenants[failed], np.full(len(failed), t)))
            skip_rows = np.flatnonzero(missed | held | gave_up)
            out.state_writes.append((runs.task[idx[skip_rows]], np.full(len(skip_rows), t)))

            back = np.flatnonzero(requeue)
            if len(back):
                requeue_creates = len(back)
                next_attempt = attempt[back] + 1
                delay = np.minimum(
                    policy.first_retry_s * 2.0 ** (next_attempt - 1).astype(np.float64), policy.max_retry_s
                )
                at = start[back] + delay + rng.random(len(back)) * policy.retry_jitter_s
                seconds = np.floor(at).astype(np.int64)
                for second in np.unique(seconds).tolist():
                    pick = seconds == second
                    retries[second].append((idx[back][pick], next_attempt[pick], at[pick]))
            running += len(idx)
        out.create_schedule_per_s.append(requeue_creates)
        out.concurrency_per_s.append(running)
        recent.append((t, running))
        t += 1
        if next_due >= n and not scheduler.size and not lam.size and not retries and running == 0:
            break
    out.seconds = t
    return out


def _rank_within(groups: IntArray, eligible: npt.NDArray[np.bool_]) -> IntArray:
    """For each eligible row, how many eligible rows of its group come before it (arrival order)."""
    import numpy as np

    rank = np.zeros(len(groups), dtype=np.int64)
    rows = np.flatnonzero(eligible)
    if not len(rows):
        return rank
    keys = groups[rows]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    position = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    rank[rows[order]] = position
    return rank
