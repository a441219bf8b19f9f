"""Grouping the loop's messages into the alternating user/assistant turns that the Anthropic
Messages API and the Bedrock Converse API expect: tool results travel in a user turn, and
consecutive messages of one side merge into one turn."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from heartbeat.soul.types import Message

Side = Literal["user", "assistant"]


def turns(messages: Iterable[Message]) -> list[tuple[Side, list[Message]]]:
    grouped: list[tuple[Side, list[Message]]] = []
    for message in messages:
        side: Side = "assistant" if message.role == "assistant" else "user"
        if grouped and grouped[-1][0] == side:
            grouped[-1][1].append(message)
        else:
            grouped.append((side, [message]))
    return grouped


def tool_result_text(message: Message) -> str:
    """Providers reject empty text: an empty tool result says so."""
    return message.content if message.content else "(no output)"


def ordered_user_parts(messages: Sequence[Message]) -> list[Message]:
    """Tool results first, then any text: Anthropic wants tool_result blocks to lead a user turn."""
    return [m for m in messages if m.role == "tool"] + [m for m in messages if m.role != "tool"]
