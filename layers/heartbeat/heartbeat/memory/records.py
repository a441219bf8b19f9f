"""What tenant memory holds, as the executor, the tools and the API see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CoreBlock:
    """A labelled block of core memory, always in the Soul's prompt."""

    label: str
    value: str
    limit: int
    description: str | None = None
    updated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "value": self.value,
            "limit": self.limit,
            "description": self.description,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class Passage:
    """An archival passage. `run_id`/`task_id` name the run that wrote it (None from the API)."""

    id: str
    text: str
    tags: tuple[str, ...] = ()
    created_at: str = ""
    run_id: str | None = None
    task_id: str | None = None
    score: float | None = field(default=None, compare=False)
    existing: bool = field(default=False, compare=False)
    """An insert answered this passage, which already held the same text from the same source."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "tags": list(self.tags),
            "created_at": self.created_at,
            "run_id": self.run_id,
            "task_id": self.task_id,
        }
        if self.score is not None:
            out["score"] = round(self.score, 6)
        return out
