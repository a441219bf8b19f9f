"""What the built-in tools share: a pydantic argument model (its JSON Schema is the tool's
parameters) and argument errors the model can act on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from heartbeat.soul.types import ToolError, ToolSpec


class ToolArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema without pydantic's `title`s (noise in every provider's prompt)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "title" or not isinstance(v, str)}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    schema = strip(model.model_json_schema())
    schema.setdefault("properties", {})
    schema["additionalProperties"] = False
    return schema


@dataclass(frozen=True)
class ModelTool:
    """A tool whose arguments `arguments_model` checks before `run` sees them."""

    spec: ToolSpec
    arguments_model: type[ToolArguments]
    run: Callable[[Any], str]

    @classmethod
    def build(
        cls, name: str, description: str, arguments_model: type[ToolArguments], run: Callable[[Any], str]
    ) -> ModelTool:
        return cls(ToolSpec(name, description, json_schema(arguments_model)), arguments_model, run)

    def __call__(self, arguments: Mapping[str, Any]) -> str:
        try:
            parsed = self.arguments_model.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'arguments'}: {error['msg']}"
                for error in exc.errors()[:5]
            )
            raise ToolError(
                f"{self.spec.name}: bad arguments ({problems}); call it again with valid ones"
            ) from None
        return self.run(parsed)
