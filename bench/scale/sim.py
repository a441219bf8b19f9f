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
   `lambda_concurrency` at once across the account, and new execution environments come at most
   `lambda_scale_per_10s` per 10 s to each function (refilled continuously, never banked beyond
   that); environments idle for `reclaim_s` are taken back. With `executor_shards` functions, each
   has its own queue, environments and scaling rate, and a delivery goes to its tenant's shard
   (`heartbeat.dal.shards.shard_of`, what the api and the executor target); when the account's
   concurrency is the limit, the free concurrency goes to the shards in proportion to what they
   could start. An event older than `lambda_max_event_age_s` goes to the dead-letter queue and
   never reaches the executor.
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


def tenant_shards(tenants: int, shards: int) -> IntArray:
    """Each simulated tenant's executor shard, by the product's own hash of its tenant id."""
    import numpy as np

    from heartbeat.dal.shards import shard_of

    return np.fromiter((shard_of(tenant_name(i), shards) for i in range(tenants)), np.int64, count=tenants)


def tenant_name(index: int) -> str:
    """The tenant id the simulation gives tenant `index` (the form `heartbeat keys create` takes)."""
    return f"tenant-{index:07d}"


def _share(free: IntArray, demand: IntArray, account_free: int) -> IntArray:
    """How many queued events each shard starts: what it could start (its free environments and its
    queue), cut to the account's free concurrency in proportion when that is the limit."""
    import numpy as np

    could = np.minimum(free, demand)
    total = int(could.sum())
    if total <= account_free:
        return could
    take = could * account_free // total
    short = account_free - int(take.sum())
    if short > 0:
        for s in np.argsort(-(could - take), kind="stable")[:short].tolist():
            take[s] += 1
    return take


def simulate(
    runs: Runs, quotas: Quotas, policy: Policy, *, seed: int = 20, reclaim_s: int = 300, horizon_days: int = 3
) -> Outcome:
    import numpy as np

    from bench.scale.model import REQUEUE_UNITS, RUN_UNITS, SKIP_UNITS, SQS_REQUEST  # noqa: F401

    rng = np.random.default_rng(seed + 1)
    out = Outcome()
    n = len(runs.slot)
    gb = policy.executor_memory_mb / 1024
    shards = max(1, policy.executor_shards)
    shard = runs.shard if runs.shard is not None else tenant_shards(max(runs.tenants, 1), shards)[runs.tenant]
    # The tenant's K run slots (dal/runs.py `{tenant}#concurrency` / `slot#n`), each held until
    # its run ends, and each task's lease: the time it is held until.
    slot_until = np.full((max(runs.tenants, 1), policy.tenant_concurrency), -1.0)
    lease_until = np.full(max(runs.tasks, 1), -1.0)
    scheduler = _Fifo()
    lams = [_Fifo() for _ in range(shards)]  # each function's asynchronous event queue
    retries: dict[int, list[tuple[IntArray, IntArray, FloatArray]]] = defaultdict(list)
    end = 86400 * horizon_days
    # deliveries that end (free their Lambda) each second, per shard
    ending = np.zeros((end + 400, shards), dtype=np.int64)
    running = np.zeros(shards, dtype=np.int64)
    environments = np.zeros(shards, dtype=np.int64)
    tokens = np.full(shards, float(quotas.lambda_scale_per_10s))
    refill = quotas.lambda_scale_per_10s / 10.0
    recent = np.zeros((reclaim_s, shards), dtype=np.int64)  # running per second, for the reclaim window
    fire_second = np.floor(runs.fire).astype(np.int64)
    bounds = np.searchsorted(fire_second, np.arange(0, 86400 * horizon_days + 2), side="left")
    next_due = 0
    queued = 0
    t = 0
    while t < end:
        # 1. finishes give back their Lambda (slots and leases hold their end times)
        running -= ending[t]

        # 2. Scheduler: what is due this second joins its backlog; it invokes up to its rate.
        lo, hi = bounds[t], bounds[t + 1]
        if hi > lo:
            idx = np.arange(lo, hi, dtype=np.int64)
            scheduler.push(idx, np.zeros(hi - lo, dtype=np.int64), runs.fire[lo:hi])
            next_due = hi
        for idx, attempt, at in retries.pop(t, ()):
            scheduler.push(idx, attempt, at)
        invoked = 0
        incoming: tuple[IntArray, IntArray, FloatArray] | None = None
        if scheduler.size:
            idx, attempt, due = scheduler.pop(quotas.scheduler_invocations_per_s)
            invoked = len(idx)
            sent = np.maximum(due, t + np.arange(invoked) / quotas.scheduler_invocations_per_s)
            incoming = (idx, attempt, sent)
            out.scheduler_invocations += invoked
        out.invocations_per_s.append(invoked)
        if incoming is not None and queued:  # behind a backlog, the new events queue up
            _route(lams, shard, *incoming)
            queued += invoked
            incoming = None

        # 3. Lambda: each function's environments scale at the documented rate, and all of them
        # together run at most the account's concurrency.
        tokens = np.minimum(float(quotas.lambda_scale_per_10s), tokens + refill)
        if queued:
            backlog = np.fromiter((q.size for q in lams), np.int64, count=shards)
        elif incoming is not None:
            backlog = np.bincount(shard[incoming[0]], minlength=shards)
        else:
            backlog = np.zeros(shards, dtype=np.int64)
        wanted = np.minimum(quotas.lambda_concurrency, running + backlog)
        grow = np.minimum(np.maximum(wanted - environments, 0), tokens.astype(np.int64))
        environments += grow
        tokens -= grow
        idle = (wanted <= environments) & (backlog == 0)
        if idle.any():
            peak = recent.max(axis=0)
            environments = np.where(idle, np.maximum(running, np.minimum(environments, peak)), environments)
        requeue_creates = 0
        account_free = quotas.lambda_concurrency - int(running.sum())
        take = _share(np.maximum(environments - running, 0), backlog, account_free)
        batch = None
        if incoming is not None and (take == backlog).all():
            batch = incoming  # every event starts at once: no queue (the quiet seconds' fast path)
        else:
            if incoming is not None:
                _route(lams, shard, *incoming)
                queued += invoked
            if queued and take.any():
                parts = [lams[s].pop(int(k)) for s, k in enumerate(take.tolist()) if k]
                batch = (
                    np.concatenate([p[0] for p in parts]),
                    np.concatenate([p[1] for p in parts]),
                    np.concatenate([p[2] for p in parts]),
                )
                queued -= len(batch[0])
        if batch is not None:
            idx, attempt, sent = batch
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
            np.add.at(ending, (ends, shard[run_idx]), 1)
            # writes: the start transaction (slot, task state) now, the finish transaction (slot,
            # task state) and the usage counter when the run ends
            now = np.full(len(ran), t)
            out.slot_writes.append(
                (np.concatenate((tenants[ran], tenants[ran])), np.concatenate((now, ends)))
            )
            out.state_writes.append((np.concatenate((task[ran], task[ran])), np.concatenate((now, ends))))
            out.usage_writes.append((tenants[ran], ends))
            out.lambda_gb_s += float(runs.duration[run_idx].sum()) * gb
            out.write_units += len(ran) * RUN_UNITS["write"]
            out.read_units += len(ran) * RUN_UNITS["read"]
            out.sqs_requests += 3 * int(runs.notify[run_idx].sum())  # send, receive, delete

            short = len(idx) - len(ran)
            ending[t + 1] += np.bincount(shard[idx[~gets_slot]], minlength=shards)
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
            running += np.bincount(shard[idx], minlength=shards)
        out.create_schedule_per_s.append(requeue_creates)
        total_running = int(running.sum())
        out.concurrency_per_s.append(total_running)
        recent[t % reclaim_s] = running
        t += 1
        if next_due >= n and not scheduler.size and not queued and not retries and total_running == 0:
            break
    out.seconds = t
    return out


def _route(lams: list[_Fifo], shard: IntArray, idx: IntArray, attempt: IntArray, sent: FloatArray) -> None:
    """Scheduler's invocations join the queue of the function each one targets, in order."""
    import numpy as np

    if len(lams) == 1:
        lams[0].push(idx, attempt, sent)
        return
    target = shard[idx]
    order = np.argsort(target, kind="stable")
    cuts = np.cumsum(np.bincount(target, minlength=len(lams)))[:-1]
    for s, part in enumerate(np.split(order, cuts)):
        lams[s].push(idx[part], attempt[part], sent[part])


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
    boundary = np.ones(len(rows), dtype=np.bool_)
    boundary[1:] = sorted_keys[1:] != sorted_keys[:-1]
    starts = np.flatnonzero(boundary)
    position = np.arange(len(rows)) - np.repeat(starts, np.diff(np.append(starts, len(rows))))
    rank[rows[order]] = position
    return rank
