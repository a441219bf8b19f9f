"""Estimated cost of a run: a documented price table per model, overridable per provider.

Prices are USD per million tokens, for uncached input, output, input read from the prompt cache
and input written to it. A model is priced by, in order: the `prices` of its provider in
`HEARTBEAT_PROVIDERS` (keyed by the model id after the `/`, e.g. `{"openai": {"kind": "openai",
"prices": {"gpt-4.1-mini": {"input": 0.4, "output": 1.6}}}}`), then `BUILTIN_PRICES` (the longest
key that is a prefix of `provider/model`), else it has no known price: its runs answer
`cost_usd: null` and add nothing to a day's `cost_usd`. The offline model is free.

The built-in table is list prices as published by each vendor (checked 2026-12-01); it is an
estimate for budgeting, never a bill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heartbeat.soul.types import Usage


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float | None = None  # default: the input price
    cache_write: float | None = None  # default: the input price

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ModelPrice:
        def number(key: str) -> float | None:
            raw = data.get(key)
            return None if raw is None else float(raw)

        return cls(
            input=float(data.get("input", 0)),
            output=float(data.get("output", 0)),
            cache_read=number("cache_read"),
            cache_write=number("cache_write"),
        )

    def cost(self, usage: Usage) -> float:
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        total = (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_tokens * read
            + usage.cache_write_tokens * write
        )
        return round(total / 1_000_000, 6)


BUILTIN_PRICES: dict[str, ModelPrice] = {
    "offline/": ModelPrice(0, 0),
    "anthropic/claude-opus-4": ModelPrice(15.0, 75.0, 1.5, 18.75),
    "anthropic/claude-sonnet-4": ModelPrice(3.0, 15.0, 0.3, 3.75),
    "anthropic/claude-3-7-sonnet": ModelPrice(3.0, 15.0, 0.3, 3.75),
    "anthropic/claude-3-5-haiku": ModelPrice(0.8, 4.0, 0.08, 1.0),
    "anthropic/claude-haiku-4": ModelPrice(1.0, 5.0, 0.1, 1.25),
    "openai/gpt-4.1-nano": ModelPrice(0.1, 0.4, 0.025),
    "openai/gpt-4.1-mini": ModelPrice(0.4, 1.6, 0.1),
    "openai/gpt-4.1": ModelPrice(2.0, 8.0, 0.5),
    "openai/gpt-4o-mini": ModelPrice(0.15, 0.6, 0.075),
    "openai/gpt-4o": ModelPrice(2.5, 10.0, 1.25),
    "openai/o4-mini": ModelPrice(1.1, 4.4, 0.275),
    "bedrock/us.anthropic.claude-sonnet-4": ModelPrice(3.0, 15.0, 0.3, 3.75),
    "bedrock/anthropic.claude-sonnet-4": ModelPrice(3.0, 15.0, 0.3, 3.75),
    "bedrock/us.anthropic.claude-3-5-haiku": ModelPrice(0.8, 4.0, 0.08, 1.0),
    "bedrock/amazon.nova-micro": ModelPrice(0.035, 0.14, 0.00875),
    "bedrock/amazon.nova-lite": ModelPrice(0.06, 0.24, 0.015),
    "bedrock/amazon.nova-pro": ModelPrice(0.8, 3.2, 0.2),
    "bedrock/us.amazon.nova-micro": ModelPrice(0.035, 0.14, 0.00875),
    "bedrock/us.amazon.nova-lite": ModelPrice(0.06, 0.24, 0.015),
    "bedrock/us.amazon.nova-pro": ModelPrice(0.8, 3.2, 0.2),
}


class PriceTable:
    """`cost(model, usage)` in USD, or None when the model has no known price."""

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, ModelPrice]] | None = None,
        builtin: Mapping[str, ModelPrice] = BUILTIN_PRICES,
    ) -> None:
        self._overrides = overrides or {}
        self._builtin = sorted(builtin.items(), key=lambda kv: len(kv[0]), reverse=True)

    @classmethod
    def from_settings(cls, settings: Any) -> PriceTable:
        """From the Soul's settings: each provider's `prices` in `HEARTBEAT_PROVIDERS`."""
        overrides = {
            name: {
                model: ModelPrice.from_mapping(price.model_dump())
                for model, price in (config.prices or {}).items()
            }
            for name, config in settings.all_providers().items()
            if config.prices
        }
        return cls(overrides)

    def price(self, model: str) -> ModelPrice | None:
        provider, _, model_id = model.partition("/")
        override = self._overrides.get(provider, {})
        if model_id in override:
            return override[model_id]
        for prefix, price in self._builtin:
            if model.startswith(prefix):
                return price
        return None

    def cost(self, model: str | None, usage: Usage) -> float | None:
        price = self.price(model or "")
        return None if price is None else price.cost(usage)
