"""Model tokens a typical run spends, with and without prompt caching, and what that costs at
Anthropic's published claude-sonnet-4-5 prices. A typical run: the real system prompt built from
three core memory blocks, the four memory tools' specs, a 60-word task prompt, one tool call, then
the answer. Tokens are estimated as characters / 4 (the providers' rule of thumb for English);
the cached prefix (system prompt and tools) is what the Anthropic and Bedrock providers mark."""

from __future__ import annotations

import json
import math
from typing import Any

# USD per million tokens, claude-sonnet-4-5 (checked 2026-11): cache writes cost 1.25x input,
# cache reads 0.1x input.
PRICE = {"input": 3.00, "output": 15.00, "cache_write": 3.75, "cache_read": 0.30}
OUTPUT_PER_CALL = 150
PROMPT = " ".join(["Summarise the overnight incidents for the on-call engineer and note follow-ups."] * 5)


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def measure() -> dict[str, Any]:
    from heartbeat.memory.records import CoreBlock
    from heartbeat.memory.store import MemoryStore
    from heartbeat.soul.prompt import build_system_prompt
    from heartbeat.tools.memory import memory_tools

    blocks = [
        CoreBlock(label="persona", value="You are the team's operations assistant. " * 12, limit=5000),
        CoreBlock(label="human", value="The on-call engineer prefers short bullet points. " * 10, limit=5000),
        CoreBlock(label="project", value="Service map, owners and runbook links. " * 50, limit=5000),
    ]
    system = build_system_prompt(blocks)
    tools = memory_tools(MemoryStore(None, "unused", "bench"))  # type: ignore[arg-type]
    tool_text = json.dumps(
        [
            {"name": t.spec.name, "description": t.spec.description, "input_schema": dict(t.spec.parameters)}
            for t in tools
        ]
    )
    prefix = _tokens(system) + _tokens(tool_text)
    prompt = _tokens(PROMPT)
    tool_turn = OUTPUT_PER_CALL + 200  # the tool call and its result, fed back on the second call
    calls = [prompt, prompt + tool_turn]  # the uncached part of each call's input
    uncached_input = sum(prefix + c for c in calls)
    output = OUTPUT_PER_CALL * len(calls)
    without = (uncached_input * PRICE["input"] + output * PRICE["output"]) / 1e6
    # steady state: the prefix is read from the cache on both calls of every run
    cached_read = prefix * len(calls)
    with_cache = (
        sum(calls) * PRICE["input"] + cached_read * PRICE["cache_read"] + output * PRICE["output"]
    ) / 1e6
    first_run = (
        sum(calls) * PRICE["input"]
        + prefix * PRICE["cache_write"]
        + prefix * PRICE["cache_read"]
        + output * PRICE["output"]
    ) / 1e6
    return {
        "stable_prefix_tokens": prefix,
        "input_tokens_per_run": uncached_input,
        "output_tokens_per_run": output,
        "usd_per_run_without_caching": round(without, 5),
        "usd_per_run_with_caching": round(with_cache, 5),
        "usd_first_run_with_caching": round(first_run, 5),
        "usd_per_million_runs_without_caching": round(without * 1e6),
        "usd_per_million_runs_with_caching": round(with_cache * 1e6),
    }
