"""Which executor function a tenant's deliveries go to: stable, even, and moving few tenants when
the count changes."""

from __future__ import annotations

from collections import Counter

import pytest

from heartbeat.dal.shards import ExecutorTargets, shard_of

ARNS = tuple(f"arn:aws:lambda:us-east-1:123456789012:function:hb-ExecutorShard{n}" for n in range(16))


def test_a_tenant_always_gets_the_same_shard_whatever_the_process() -> None:
    # Pinned (sha256 and jump hash, not Python's salted hash): a different answer here would
    # move deployed tenants' new schedules to other shards.
    assert [shard_of("tenant-a", 16), shard_of("tenant-b", 16), shard_of("acme", 4)] == [5, 14, 1]
    assert {shard_of("tenant-a", 16) for _ in range(50)} == {shard_of("tenant-a", 16)}
    assert shard_of("tenant-a", 1) == 0 and shard_of("tenant-a", 0) == 0


def test_the_tenants_spread_evenly_over_the_shards() -> None:
    for count in (2, 4, 16):
        per_shard = Counter(shard_of(f"tenant-{i}", count) for i in range(20_000))
        assert sorted(per_shard) == list(range(count))
        expected = 20_000 / count
        assert all(abs(n - expected) < 0.1 * expected for n in per_shard.values()), per_shard


def test_adding_a_shard_moves_only_tenants_onto_the_new_one() -> None:
    tenants = [f"tenant-{i}" for i in range(5_000)]
    moved = [t for t in tenants if shard_of(t, 8) != shard_of(t, 9)]
    assert all(shard_of(t, 9) == 8 for t in moved)
    assert 0.07 < len(moved) / len(tenants) < 0.16  # about 1/9, not the ~8/9 a modulo would move


def test_targets_use_the_first_count_functions_and_fall_back_to_one() -> None:
    four = ExecutorTargets.parse(",".join(ARNS), 4)
    assert {four.for_tenant(f"tenant-{i}") for i in range(200)} == set(ARNS[:4])
    assert ExecutorTargets.parse(",".join(ARNS)).count == 16  # no count: every function listed
    assert ExecutorTargets.parse(ARNS[0], 16).for_tenant("tenant-a") == ARNS[0]  # more than listed
    assert ExecutorTargets.parse(f" {ARNS[0]} ,", 2).arns == (ARNS[0],)
    with pytest.raises(ValueError, match="no executor function"):
        ExecutorTargets.parse("")
