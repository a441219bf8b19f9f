"""The executor's view of the Soul: one call that runs the agent for one run.

`AgentSoulRunner` is the real one: it resolves `provider/model`, builds the system prompt from the
tenant's core memory, gives the agent the run's toolset (`heartbeat.tools.registry.run_toolset`:
memory, notify, web, the tenant's MCP servers, report_failure), and runs the agent loop. Tests give it
their own `resolve` (a fake `Model` at the LLM boundary) and keep everything else real.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from heartbeat.errors import DependencyError, HeartbeatError
from heartbeat.models.tools import DEFAULT_TOOLS
from heartbeat.soul.types import Message, Model, ModelError, Usage

if TYPE_CHECKING:
    from heartbeat.dal.mcp_servers import McpServersStore
    from heartbeat.soul.agent import AgentLimits
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
    limits: Mapping[str, int] | None = None
    """The task's run limits (`max_steps`, `max_tokens`, `timeout_seconds`); None: the Soul's own."""
    output_schema: Mapping[str, Any] | None = None
    """The task's `output_schema`: the answer must be JSON matching it (`SoulResult.output_json`)."""
    tools: Sequence[str] = DEFAULT_TOOLS
    web_allow: Sequence[str] = ()


@dataclass(frozen=True)
class SoulResult:
    output: str
    usage: Usage
    new_messages: tuple[Message, ...]
    steps: int = 0
    tool_calls: int = 0
    output_json: str | None = None
    """With an `output_schema`: the answer as compact JSON text, checked against the schema."""
    tool_log: tuple[dict[str, Any], ...] = ()
    """Each tool call as `{"name", "ok", "ms", "error"}` (never its arguments)."""
    notifications: tuple[dict[str, Any], ...] = ()
    """The run's `agent.notification`s (`{"type", "title", "message", "severity", "at"}`)."""


def attach_record(
    exc: BaseException, tool_log: Sequence[dict[str, Any]], notifications: Sequence[dict[str, Any]]
) -> None:
    """Give a run's failure the tool calls and notifications made before it, for its record."""
    exc.tool_log = tuple(tool_log)  # type: ignore[attr-defined]
    exc.notifications = tuple(notifications)  # type: ignore[attr-defined]


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
        mcp_servers: Callable[[], McpServersStore] | None = None,
        allow_private: bool = False,
        resolver: Callable[..., Any] | None = None,
    ) -> None:
        self._settings = settings
        self._memory_client = memory_client
        self._memory_table = memory_table
        self._resolve = resolve
        self._provider_clients = provider_clients
        # The tenants' MCP servers (built on first use: runs without MCP never touch it).
        self._mcp_servers = mcp_servers
        self._allow_private = allow_private
        self._resolver = resolver

    def resolve(self, name: str) -> Model:
        if self._resolve is not None:
            return self._resolve(name)
        from heartbeat.soul.resolve import resolve_model

        return resolve_model(name, self._settings, clients=self._provider_clients)

    def _mcp_loader(self, tenant_id: str) -> Callable[[str], tuple[str, Mapping[str, str]]]:
        def load(name: str) -> tuple[str, Mapping[str, str]]:
            if self._mcp_servers is None:
                raise DependencyError(
                    f"MCP server '{name}' cannot be used: this executor has no MCP configuration"
                )
            store = self._mcp_servers()
            server = store.find(tenant_id, name)
            if server is None:
                raise DependencyError(
                    f"MCP server '{name}' named in the task's tools no longer exists: create it again "
                    "(POST /v1/mcp-servers) or remove it from the task's tools"
                )
            return server.url, store.headers(server)

        return load

    def __call__(self, request: SoulRequest) -> SoulResult:
        from heartbeat.memory.store import MemoryStore
        from heartbeat.soul.agent import run_agent
        from heartbeat.soul.prompt import build_system_prompt
        from heartbeat.tools.registry import run_toolset

        model = self.resolve(request.model)
        store = MemoryStore(self._memory_client, self._memory_table, request.tenant_id)
        system = build_system_prompt(store.core_blocks())
        toolset = run_toolset(
            store,
            run_id=request.run_id,
            task_id=request.task_id,
            tools=request.tools,
            web_allow=request.web_allow,
            allow_private=self._allow_private,
            load_mcp_server=self._mcp_loader(request.tenant_id),
            resolver=self._resolver,
        )
        with toolset:
            try:
                result = run_agent(
                    model,
                    system=system,
                    prompt=request.prompt,
                    history=request.history,
                    tools=toolset.tools,
                    limits=run_limits(self._settings.agent_limits(), request.limits),
                    remaining_ms=request.remaining_ms,
                    retry=self._settings.retry_policy(),
                    output_schema=request.output_schema,
                )
                output_json = None
                if request.output_schema is not None:
                    from heartbeat.soul.structured import check_answer

                    try:
                        output_json = check_answer(result.output, request.output_schema)
                    except ModelError as exc:
                        exc.usage = result.usage
                        raise
            except (ModelError, HeartbeatError) as exc:
                attach_record(exc, toolset.log.calls, toolset.notifications)
                raise
        return SoulResult(
            output=result.output,
            usage=result.usage,
            new_messages=tuple(result.new_messages),
            steps=result.steps,
            tool_calls=result.tool_calls,
            output_json=output_json,
            tool_log=tuple(toolset.log.calls),
            notifications=tuple(toolset.notifications),
        )


def run_limits(base: AgentLimits, task_limits: Mapping[str, int] | None) -> AgentLimits:
    """The agent's limits for one run: the task's `limits` over the deployment's settings."""
    if not task_limits:
        return base
    changes: dict[str, Any] = {}
    if "max_steps" in task_limits:
        changes["max_steps"] = int(task_limits["max_steps"])
    if "max_tokens" in task_limits:
        changes["max_tokens_per_run"] = int(task_limits["max_tokens"])
    if "timeout_seconds" in task_limits:
        changes["timeout_s"] = float(task_limits["timeout_seconds"])
    return replace(base, **changes)
