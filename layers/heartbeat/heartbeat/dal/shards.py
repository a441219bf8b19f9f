"""Which executor function ("shard") a tenant's deliveries go to.

Lambda adds at most 1,000 execution environments every 10 s to each function, independently of the
others, so a stack with several identical executor functions grows into a burst that many times
faster. Every shard runs any task (they share the code, the tables and the role), so the choice
only spreads load: a tenant's schedules, its retry schedules and its run-now invocations all go to
`shard_of(tenant_id, count)`, which is stable across processes and deployments (sha256, not
Python's salted `hash`). The spread is jump consistent hashing (Lamping and Veach, 2014): going
from n to n + 1 shards moves only about 1/(n + 1) of the tenants, and none between old shards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

_JUMP = 2862933555777941757
_MASK = (1 << 64) - 1


def shard_of(tenant_id: str, count: int) -> int:
    """The shard (0 .. count - 1) of a tenant; `count` < 1 counts as one shard."""
    if count <= 1:
        return 0
    key = int.from_bytes(hashlib.sha256(tenant_id.encode()).digest()[:8], "big")
    bucket, jump = -1, 0
    while jump < count:
        bucket = jump
        key = (key * _JUMP + 1) & _MASK
        jump = int((bucket + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return bucket


@dataclass(frozen=True)
class ExecutorTargets:
    """The executor functions deliveries may target, in shard order; the first `count` are used.

    Every function listed stays deployed (template.yaml declares them all, whatever the count), so
    a schedule written under another count still reaches a function that runs it."""

    arns: tuple[str, ...]
    count: int = 1

    @classmethod
    def parse(cls, arns: str | Sequence[str], count: int | None = None) -> ExecutorTargets:
        """From EXECUTOR_ARNS (comma-separated, or a sequence) and EXECUTOR_SHARDS (default: all)."""
        items = [a.strip() for a in (arns.split(",") if isinstance(arns, str) else arns) if a.strip()]
        if not items:
            raise ValueError("no executor function ARN")
        used = len(items) if count is None else max(1, min(count, len(items)))
        return cls(tuple(items), used)

    def for_tenant(self, tenant_id: str) -> str:
        return self.arns[shard_of(tenant_id, self.count)]
