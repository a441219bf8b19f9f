"""The Soul's system prompt: instructions, then the tenant's core memory.

The system prompt is the stable prefix of every model call: it holds nothing that changes from run
to run (no time, no run id, no task prompt), so providers with prompt caching (Anthropic
`cache_control`, Bedrock cache points, OpenAI's automatic prefix cache) serve it from the cache on
the next step and the next run of an unchanged task. It changes only when the instructions or core
memory change. Blocks appear in the order given (the memory store returns them sorted by label), in
the same `<memory_block label=... chars="used/limit">` form the memory tools' descriptions refer to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

DEFAULT_INSTRUCTIONS = """\
You are the Soul of Heartbeat: an agent that runs background tasks on a schedule, on behalf of one \
tenant, with no person watching while you work. Each run gives you a task prompt; do the task and \
answer with the result itself, complete and self-contained, because the answer is stored as the \
run's output and read later.

You have a memory that outlives this run and is shared by every task of this tenant:
- Core memory, below, is always in view. Keep it to short, lasting facts, and edit it with \
core_memory_append and core_memory_replace; each block has a character limit.
- Archival memory holds passages you store with archival_memory_insert and find again with \
archival_memory_search. Store what a later run would need (a takeaway, a decision, a result), \
written to be understood on its own; search it before answering a question about earlier runs.

Call a tool only when it helps the task. When a tool reports an error, read it, then fix the call or \
carry on without it. Never claim to have stored or found something a tool did not confirm.

If you cannot do the task (a page or service you need cannot be reached, a tool keeps failing, the \
data the task needs is missing), call report_failure with the reason instead of answering: the run \
is then recorded as failed with your reason, so people see that the job was not done. Do not use it \
for findings: a problem you were asked to look for (an outage, an anomaly) is a result; flag it \
with notify when you have that tool, and answer."""


class CoreMemoryBlock(Protocol):
    """What the prompt needs of a core memory block (the memory package's `CoreBlock` fits)."""

    @property
    def label(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def limit(self) -> int: ...

    @property
    def description(self) -> str | None: ...


def render_block(block: CoreMemoryBlock) -> str:
    head = f'<memory_block label="{block.label}" chars="{len(block.value)}/{block.limit}">'
    description = f"\n<description>{block.description}</description>" if block.description else ""
    return f"{head}{description}\n{block.value}\n</memory_block>"


def build_system_prompt(blocks: Sequence[CoreMemoryBlock], *, instructions: str | None = None) -> str:
    """Instructions (the default when None), then core memory. Same input, same string."""
    text = (instructions if instructions is not None else DEFAULT_INSTRUCTIONS).strip()
    memory = "\n".join(render_block(block) for block in blocks) if blocks else "(core memory is empty)"
    return f"{text}\n\n<core_memory>\n{memory}\n</core_memory>"
