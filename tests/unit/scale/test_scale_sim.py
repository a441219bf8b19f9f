"""The scale simulation's rules against small cases worked out by hand, and its fire times are
the schedule engine's (the ones `state.next_run_at` reports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytest.importorskip("numpy")

from bench.scale.model import Mix, Policy, Quotas  # noqa: E402
from bench.scale.report import summarize  # noqa: E402
from bench.scale.sim import simulate  # noqa: E402
from bench.scale.workload import Runs, draw, fire_times  # noqa: E402

# Quotas so large that only the rule under test binds.
ROOMY = Quotas(scheduler_invocations_per_s=10**9, lambda_concurrency=10**6, lambda_scale_per_10s=10**6)
# One executor function unless a test says otherwise: the rules below are per function.
NO_JITTER = Policy(retry_jitter_s=0.0, short_delivery_s=0.0, executor_shards=1)


def starts(runs: Runs, quotas: Quotas, policy: Policy = NO_JITTER) -> tuple[list[float], object]:
    out = simulate(runs, quotas, policy)
    pairs = sorted(
        (int(i), float(s)) for chunk_i, chunk_s in out.started for i, s in zip(chunk_i, chunk_s, strict=True)
    )
    return [round(s, 3) for _, s in pairs], out


def test_scheduler_invokes_at_most_its_rate_and_delays_the_rest_in_order() -> None:
    runs = Runs.of(slot=[0.0] * 5, tenant=[0, 1, 2, 3, 4], duration=[1.0] * 5)
    got, out = starts(runs, ROOMY.requested(scheduler_invocations_per_s=2))
    assert got == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert max(out.invocations_per_s) == 2


def test_lambda_concurrency_makes_runs_wait_for_a_finished_one() -> None:
    runs = Runs.of(slot=[0.0] * 4, tenant=[0, 1, 2, 3], duration=[10.0] * 4)
    got, out = starts(runs, ROOMY.requested(lambda_concurrency=2))
    assert got == [0.0, 0.0, 10.0, 10.0]
    assert max(out.concurrency_per_s) == 2


def test_lambda_adds_at_most_its_scaling_rate_of_environments() -> None:
    # 1,000 environments at once, then 100 a second: the 3,000th run starts 20 s late.
    runs = Runs.of(slot=[0.0] * 3000, tenant=list(range(3000)), duration=[100.0] * 3000)
    got, _ = starts(runs, ROOMY.requested(lambda_scale_per_10s=1000))
    assert got.count(0.0) == 1000
    assert max(got) == 20.0


def test_a_run_over_the_tenant_limit_is_requeued_with_the_executors_backoff() -> None:
    # K=1: B finds A's slot held at 0 (retry 1 at 30 s), again at 30 (retry 2 at 30+60 = 90), and
    # runs at 90 once A finished at 50.
    runs = Runs.of(slot=[0.0, 0.0], tenant=[7, 7], duration=[50.0, 5.0])
    policy = Policy(tenant_concurrency=1, retry_jitter_s=0.0)
    got, out = starts(runs, ROOMY, policy)
    assert got == [0.0, 90.0]
    assert out.requeued == 2
    assert out.scheduler_invocations == 4  # two slots and two retry schedules


def test_other_tenants_are_not_held_back_by_one_tenants_burst() -> None:
    runs = Runs.of(slot=[0.0, 0.0, 0.0], tenant=[1, 1, 2], duration=[50.0, 5.0, 5.0])
    got, _ = starts(runs, ROOMY, Policy(tenant_concurrency=1, retry_jitter_s=0.0))
    assert got == [0.0, 90.0, 0.0]  # tenant 1: A, then B after its retries; tenant 2 at once


def test_a_run_that_waited_past_max_queue_for_a_slot_gives_up() -> None:
    # K=1, max_queue 60 s: B is requeued at 0 and 30; at 90 it has waited 90 s and A still runs.
    runs = Runs.of(slot=[0.0, 0.0], tenant=[3, 3], duration=[100.0, 5.0])
    got, out = starts(runs, ROOMY, Policy(tenant_concurrency=1, retry_jitter_s=0.0, max_queue_s=60.0))
    assert got == [0.0]
    assert (out.requeued, out.gave_up) == (2, 1)


def test_a_first_delivery_later_than_the_catchup_window_is_missed() -> None:
    runs = Runs.of(slot=[0.0, 0.0], tenant=[0, 1], duration=[4000.0, 5.0])
    got, out = starts(runs, ROOMY.requested(lambda_concurrency=1), Policy(lambda_max_event_age_s=21600.0))
    assert got == [0.0]
    assert out.missed == 1 and out.dropped == 0


def test_an_event_lambda_held_longer_than_its_maximum_age_is_dead_lettered() -> None:
    runs = Runs.of(slot=[0.0, 0.0], tenant=[0, 1], duration=[4000.0, 5.0])
    _, out = starts(runs, ROOMY.requested(lambda_concurrency=1), Policy(lambda_max_event_age_s=3600.0))
    assert out.dropped == 1 and out.missed == 0


def test_a_slot_whose_previous_run_holds_the_lease_is_skipped() -> None:
    runs = Runs.of(slot=[0.0, 300.0], tenant=[0, 0], duration=[400.0, 5.0], task=[9, 9])
    got, out = starts(runs, ROOMY)
    assert got == [0.0] and out.lease_skipped == 1


def test_lateness_is_measured_from_the_slot_not_the_flexible_fire_time() -> None:
    runs = Runs.of(slot=[0.0, 0.0], fire=[0.0, 120.0], tenant=[0, 1], duration=[5.0, 5.0])
    out = simulate(runs, ROOMY, NO_JITTER)
    figures = summarize(runs, out, ROOMY, NO_JITTER)
    assert figures["lateness_max_s"] == 120.0


def test_fire_times_are_the_engines_next_run_at_chain() -> None:
    from heartbeat.executor.core import schedule_next_run
    from heartbeat.models.task import Task
    from heartbeat.schedule import parse_schedule
    from heartbeat.timeutil import iso

    day = datetime(2027, 2, 1, tzinfo=UTC)
    for expression, zone in (("0 9 * * 1-5", "America/New_York"), ("*/30 * * * *", "Asia/Kolkata")):
        schedule = parse_schedule(expression, zone, now=day).to_api()
        task = Task("t", "cron_x", "n", "p", schedule, "offline/heartbeat", iso(day), iso(day))
        chain, at = [], day - timedelta(microseconds=1)
        while (nxt := schedule_next_run(task, at)) is not None and nxt < iso(day + timedelta(days=1)):
            chain.append(nxt)
            at = datetime.fromisoformat(nxt.replace("Z", "+00:00"))
        assert [iso(t) for t in fire_times(expression, zone, day)] == chain
    assert [iso(t) for t in fire_times("0 9 * * *", "America/New_York", day)] == ["2027-02-01T14:00:00.000Z"]


def test_the_drawn_day_has_each_tasks_engine_slots_and_flexible_offsets_inside_the_window() -> None:
    mix = Mix(
        expressions=(("0 9 * * *", 1.0), ("*/15 * * * *", 1.0)), zones=(("Europe/Berlin", 1.0),)
    ).flexible(0.5, 10)
    runs = draw(200, mix, Policy())
    nine = (datetime(2027, 2, 1, 8, tzinfo=UTC) - mix.day).total_seconds()
    per_task = {int(t): 0 for t in runs.task}
    for t in runs.task:
        per_task[int(t)] += 1
    assert set(per_task.values()) <= {1, 96}
    assert nine in set(runs.slot.tolist())
    offsets = runs.fire - runs.slot
    assert offsets.min() >= 0.0 and offsets.max() <= 600.0 and (offsets > 0).any()


def test_two_shards_each_scaling_at_their_own_rate_serve_a_burst_twice_as_fast_as_one() -> None:
    # 4,000 runs at once, 1,000 environments at once per function then 100 a second: one function
    # starts the last at 30 s; two functions (2,000 runs each) at 10 s.
    burst = {"slot": [0.0] * 4000, "tenant": list(range(4000)), "duration": [100.0] * 4000}
    quotas = ROOMY.requested(lambda_scale_per_10s=1000)
    one, _ = starts(Runs.of(**burst, shard=[0] * 4000), quotas, Policy(executor_shards=1))
    two, _ = starts(Runs.of(**burst, shard=[i % 2 for i in range(4000)]), quotas, Policy(executor_shards=2))
    assert (one.count(0.0), max(one)) == (1000, 30.0)
    assert (two.count(0.0), max(two)) == (2000, 10.0)


def test_shards_share_the_accounts_concurrency() -> None:
    # Two shards, an account of 3 at once: 3 runs start, the other 3 when the first finish.
    runs = Runs.of(slot=[0.0] * 6, tenant=list(range(6)), duration=[10.0] * 6, shard=[0, 1] * 3)
    got, out = starts(runs, ROOMY.requested(lambda_concurrency=3), Policy(executor_shards=2))
    assert got == [0.0] * 3 + [10.0] * 3
    assert max(out.concurrency_per_s) == 3


def test_a_busy_shard_does_not_hold_back_another_shards_runs() -> None:
    # Shard 0 has 1,200 runs (200 wait for environments); shard 1's one run starts at once.
    runs = Runs.of(
        slot=[0.0] * 1201, tenant=list(range(1201)), duration=[100.0] * 1201, shard=[0] * 1200 + [1]
    )
    got, _ = starts(runs, ROOMY.requested(lambda_scale_per_10s=1000), Policy(executor_shards=2))
    assert got[-1] == 0.0 and max(got) == 2.0


def test_without_a_given_shard_tenants_are_spread_by_the_products_hash() -> None:
    from bench.scale.sim import tenant_name, tenant_shards
    from heartbeat.dal.shards import shard_of

    assigned = tenant_shards(1000, 4).tolist()
    assert assigned == [shard_of(tenant_name(i), 4) for i in range(1000)]
    assert min(assigned.count(s) for s in range(4)) > 200
