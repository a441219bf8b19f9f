"""N tasks drawn from the mix, and their slots for one UTC day from the project's schedule engine.

Fire times come from `heartbeat.schedule` (`Schedule.next_after`, what `state.next_run_at`
reports), computed once per distinct (expression, zone), not per task: a million tasks share
fewer than two hundred such pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from bench.scale.model import Mix, Policy


def fire_times(expression: str, timezone: str, day: datetime) -> list[datetime]:
    """Every fire of `expression` in `timezone` within the UTC day starting at `day`, from the
    engine: the chain of `next_after`, exactly as the executor computes `next_run_at`."""
    from heartbeat.schedule import parse_schedule

    schedule = parse_schedule(expression, timezone, now=day)
    end = day + timedelta(days=1)
    times: list[datetime] = []
    after = day - timedelta(microseconds=1)
    while (fire := schedule.next_after(after)) is not None and fire < end:
        times.append(fire)
        after = fire
    return times


@dataclass(frozen=True)
class Runs:
    """One row per slot to deliver, sorted by `fire`. Times are seconds from the day's start."""

    slot: npt.NDArray[np.float64]  # the scheduled time (a run's scheduled_at)
    fire: npt.NDArray[np.float64]  # when Scheduler means to invoke (slot + flexible offset)
    tenant: npt.NDArray[np.int64]
    task: npt.NDArray[np.int64]
    duration: npt.NDArray[np.float64]  # how long the run holds its Lambda, if it runs
    notify: npt.NDArray[np.bool_]
    tenants: int
    tasks: int
    schedules: int  # EventBridge schedules the tasks need (two for a both-day-fields cron)
    # Each row's executor shard; None: the simulation assigns tenants by the product's hash.
    shard: npt.NDArray[np.int64] | None = None

    @classmethod
    def of(
        cls,
        slot: list[float],
        tenant: list[int],
        duration: list[float],
        *,
        fire: list[float] | None = None,
        task: list[int] | None = None,
        shard: list[int] | None = None,
    ) -> Runs:
        """A hand-written workload (tests): one task per run unless `task` says otherwise, each
        run on the shard `shard` names (default: its tenant's, by the product's hash)."""
        import numpy as np

        fires = np.asarray(fire if fire is not None else slot, dtype=np.float64)
        order = np.argsort(fires, kind="stable")
        tasks = np.asarray(task if task is not None else range(len(slot)), dtype=np.int64)
        return cls(
            slot=np.asarray(slot, dtype=np.float64)[order],
            fire=fires[order],
            tenant=np.asarray(tenant, dtype=np.int64)[order],
            task=tasks[order],
            duration=np.asarray(duration, dtype=np.float64)[order],
            notify=np.zeros(len(slot), dtype=np.bool_),
            tenants=int(max(tenant, default=-1)) + 1,
            tasks=int(tasks.max(initial=-1)) + 1,
            schedules=len(set(tasks.tolist())),
            shard=None if shard is None else np.asarray(shard, dtype=np.int64)[order],
        )


def draw(n: int, mix: Mix, policy: Policy, seed: int = 20) -> Runs:
    """`n` tasks from `mix`, grouped into tenants, and every slot they have in the day."""
    import numpy as np

    from heartbeat.schedule import parse_schedule

    rng = np.random.default_rng(seed)
    # Tenants and their sizes, until there are n tasks.
    sizes: list[int] = []
    total = 0
    while total < n:
        batch = np.ceil(rng.lognormal(np.log(mix.tenant_size_median), mix.tenant_size_sigma, 4096))
        for size in np.clip(batch, 1, policy.task_quota).astype(int).tolist():
            size = min(size, n - total)
            sizes.append(size)
            total += size
            if total >= n:
                break
    tenant_of_task = np.repeat(np.arange(len(sizes)), sizes)

    zones = [z for z, _ in mix.zones]
    zone_p = np.array([w for _, w in mix.zones]) / sum(w for _, w in mix.zones)
    home = rng.choice(len(zones), size=len(sizes), p=zone_p)
    zone_of_task = np.where(
        rng.random(n) < mix.home_zone_share, home[tenant_of_task], rng.choice(len(zones), size=n, p=zone_p)
    )
    exprs = [e for e, _ in mix.expressions]
    expr_p = np.array([w for _, w in mix.expressions]) / sum(w for _, w in mix.expressions)
    expr_of_task = rng.choice(len(exprs), size=n, p=expr_p)
    flexible = rng.random(n) < mix.flexible_share if mix.flexible_minutes > 0 else np.zeros(n, dtype=bool)

    # Each distinct (expression, zone) once: its fire times from the engine.
    combo = expr_of_task * len(zones) + zone_of_task
    slot_parts, task_parts = [], []
    schedules = 0
    for key in np.unique(combo).tolist():
        expression, zone = exprs[key // len(zones)], zones[key % len(zones)]
        members = np.flatnonzero(combo == key)
        schedules += len(members) * len(parse_schedule(expression, zone, now=mix.day).eventbridge())
        times = [(t - mix.day).total_seconds() for t in fire_times(expression, zone, mix.day)]
        if not times:
            continue
        slot_parts.append(np.tile(np.asarray(times), len(members)))
        task_parts.append(np.repeat(members, len(times)))
    slot = np.concatenate(slot_parts) if slot_parts else np.zeros(0)
    task = np.concatenate(task_parts) if task_parts else np.zeros(0, dtype=np.int64)
    # EventBridge's FlexibleTimeWindow: the invocation lands at a random time within the window.
    fire = slot + np.where(flexible[task], rng.random(len(slot)) * mix.flexible_minutes * 60.0, 0.0)
    duration = np.minimum(
        rng.lognormal(np.log(mix.duration_median_s), mix.duration_sigma, len(slot)), policy.executor_timeout_s
    )
    order = np.argsort(fire, kind="stable")
    return Runs(
        slot=slot[order],
        fire=fire[order],
        tenant=tenant_of_task[task][order],
        task=task[order],
        duration=duration[order],
        notify=(rng.random(len(slot)) < mix.notify_share),
        tenants=len(sizes),
        tasks=n,
        schedules=schedules,
    )
