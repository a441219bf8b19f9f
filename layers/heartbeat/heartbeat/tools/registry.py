"""The toolset of one run: every tool the Soul may call while running one task.

Today that is the tenant's four memory tools; tools of later capabilities are added here, so the
runner asks one place for a run's tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heartbeat.memory.store import MemoryStore
    from heartbeat.soul.types import Tool


def run_toolset(memory: MemoryStore, *, run_id: str, task_id: str) -> list[Tool]:
    """The tools of run `run_id` of task `task_id`, bound to `memory`'s tenant."""
    from heartbeat.tools.memory import memory_tools

    return memory_tools(memory, run_id=run_id, task_id=task_id)
