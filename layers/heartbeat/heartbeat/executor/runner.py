"""The executor's view of the Soul: one call that runs the agent for one run.

`AgentSoulRunner` is the real one: it resolves `provider/model`, builds the system prompt from the
tenant's core memory, gives the agent the run's toolset (`heartbeat.tools.registry`), and runs the
agent loop. Tests give it
their own `resolve` (a fake `Model` at the LLM boundary) and keep everything else real.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from heartbeat.soul.types import Message, Model, Usage

if TYPE_CHECKING:
    from heartbeat.soul.resolve import SoulSettings


@dataclass(frozen=True)
class SoulRequest:
    tenant_id: str
    task_id: str
    run_id: str
    model: str
    prompt: str
    history: Sequence[Message]
    remaining_ms: Callable[[], int]


@dataclass(frozen=True)
class SoulResult:
    output: str
    usage: Usage
    new_messages: tuple[Message, ...]
    steps: int = 0
    tool_calls: int = 0


class SoulRunner(Protocol):
    """Runs the agent once. Raises `ModelError` (transient or terminal) when the model path fails;
    the error's message is shown to the user, so it never holds a secret."""

    def __call__(self, request: SoulRequest) -> SoulResult: ...


class AgentSoulRunner:
    def __init__(
        self,
        settings: SoulSettings,
        *,
        memory_client: Any,
        memory_table: str,
        resolve: Callable[[str], Model] | None = None,
        provider_clients: Any = None,
    ) -> None:
        self._settings = settings
        self._memory_client = memory_client
        self._memory_table = memory_table
        self._resolve = resolve
        self._provider_clients = provider_clients

    def resolve(self, name: str) -> Model:
        if self._resolve is not None:
            return self._resolve(name)
        from heartbeat.soul.resolve import resolve_model

        return resolve_model(name, self._settings, clients=self._provider_clients)

    def __call__(self, request: SoulRequest) -> SoulResult:
        from heartbeat.memory.store import MemoryStore
        from heartbeat.soul.agent import run_agent
        from heartbeat.soul.prompt import build_system_prompt
        from heartbeat.tools.registry import run_toolset

        model = self.resolve(request.model)
        store = MemoryStore(self._memory_client, self._memory_table, request.tenant_id)
        result = run_agent(
            model,
            system=build_system_prompt(store.core_blocks()),
            prompt=request.prompt,
            history=request.history,
            tools=run_toolset(store, run_id=request.run_id, task_id=request.task_id),
            limits=self._settings.agent_limits(),
            remaining_ms=request.remaining_ms,
            retry=self._settings.retry_policy(),
        )
        return SoulResult(
            output=result.output,
            usage=result.usage,
            new_messages=tuple(result.new_messages),
            steps=result.steps,
            tool_calls=result.tool_calls,
        )
