"""`offline/<anything>`: a deterministic agent with no network and no key.

The canonical name is `offline/heartbeat` (`heartbeat.soul.resolve.OFFLINE_MODEL`), the local stack's
default model; every `offline/...` name behaves the same. It exists so the whole loop (prompt, core
memory, tool calls, tool results, answer, usage) runs without a provider, and its answers are the
same for the same input, so tests can assert them.

What it does, looking at the task prompt (the last user message) and what followed it:

1. First step, the prompt asks to store something ("remember", "memorize", "note", "store",
   "save", "record", "keep in mind"): it calls `archival_memory_insert` with the takeaway, the
   words after the verb (less a leading "that"/"this"/":"), or the whole prompt if none.
2. First step, the prompt asks to find something ("recall", "search", "look up",
   "what do you know/remember about", "remind me"): it calls `archival_memory_search` with the
   words after the phrase (less a leading "about"/"for") as the query.
   Of 1 and 2, whichever phrase comes first in the prompt wins. The argument is the tool's
   `content`/`query` property, or else its first required string property.
3. Otherwise, or once the tool has answered, or when the tool it wants is not offered: the final
   answer, in lines:
       [offline/heartbeat] Task: "<the prompt, at most 200 characters>"
       Stored in archival memory: "<takeaway>" (<the tool's reply>)      | after an insert
       Found in archival memory for "<query>": 1) <passage>; 2) ...     | after a search
       Nothing in archival memory matches "<query>".                    | a search with no results
       <tool> failed: <its error>                                       | a tool error
       <tool> is not available, so nothing was stored/searched.         | tool not offered
       Answer: <the prompt's first 30 words>                            | no tool needed
       Conversation: <n> earlier messages; previous task: "<...>"       | a pinned conversation
       Core memory: <label> (<used>/<limit> chars): "<first 60 chars>"; ...  (or "empty")

Usage counts words as tokens: input = the words of the system prompt, the messages and the tool
specs; output = the words of the answer or of the tool call's arguments. No cache tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from heartbeat.soul.types import Message, ModelRequest, ModelResponse, ToolCall, ToolSpec, Usage

INSERT_TOOL = "archival_memory_insert"
SEARCH_TOOL = "archival_memory_search"

_STORE = re.compile(
    r"\b(remember|memori[sz]e|take note of|note down|note|store|save|record|keep in mind)\b", re.I
)
_RECALL = re.compile(
    r"\b(what do you (?:know|remember) about|what did (?:i|we) (?:say|store|note) about|"
    r"recall|search(?: for)?|look up|lookup|remind me(?: of| about)?)\b",
    re.I,
)
_BLOCK = re.compile(
    r'<memory_block label="(?P<label>[^"]+)" chars="(?P<used>\d+)/(?P<limit>\d+)">'
    r"(?:\n<description>.*?</description>)?\n(?P<value>.*?)\n</memory_block>",
    re.S,
)


class OfflineModel:
    def __init__(self, name: str = "offline/heartbeat") -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"OfflineModel(name={self._name!r})"

    def complete(self, request: ModelRequest) -> ModelResponse:
        messages = request.messages
        start = _last_user_index(messages)
        prompt = messages[start].content if start is not None else ""
        after = messages[start + 1 :] if start is not None else messages
        earlier = messages[:start] if start is not None else ()
        input_tokens = (
            _words(request.system)
            + sum(_message_words(m) for m in messages)
            + sum(
                _words(json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters}))
                for t in request.tools
            )
        )
        results = [m for m in after if m.role == "tool"]
        calls = [c for m in after if m.role == "assistant" for c in m.tool_calls]

        if not calls:
            intent = _intent(prompt)
            if intent is not None:
                tool_name, subject = intent
                spec = _find(request.tools, tool_name)
                if spec is not None:
                    key = _argument(spec, "content" if tool_name == INSERT_TOOL else "query")
                    step = sum(1 for m in messages if m.role == "assistant") + 1
                    call = ToolCall(id=f"offline-{step}-1", name=tool_name, arguments={key: subject})
                    return ModelResponse(
                        text="",
                        tool_calls=(call,),
                        stop_reason="tool_use",
                        usage=Usage(input_tokens=input_tokens, output_tokens=max(1, _words(subject))),
                    )

        lines = [f'[{self._name}] Task: "{_clip(prompt, 200)}"']
        lines.extend(_action_lines(prompt, request.tools, calls, results))
        if earlier:
            previous = [m.content for m in earlier if m.role == "user"]
            line = f"Conversation: {len(earlier)} earlier messages"
            if previous:
                line += f'; previous task: "{_clip(previous[-1], 80)}"'
            lines.append(line)
        lines.append(_core_memory_line(request.system))
        text = "\n".join(lines)
        return ModelResponse(
            text=text,
            stop_reason="end_turn",
            usage=Usage(input_tokens=input_tokens, output_tokens=_words(text)),
        )


def _action_lines(
    prompt: str, tools: Sequence[ToolSpec], calls: Sequence[ToolCall], results: Sequence[Message]
) -> list[str]:
    if calls:
        lines = []
        by_id = {r.tool_call_id: r for r in results}
        for call in calls:
            result = by_id.get(call.id)
            subject = next(iter(call.arguments.values()), "") if call.arguments else ""
            if result is None:
                lines.append(f"{call.name} gave no result.")
            elif result.is_error:
                lines.append(f"{call.name} failed: {_clip(result.content, 300)}")
            elif call.name == INSERT_TOOL:
                lines.append(
                    f'Stored in archival memory: "{_clip(str(subject), 200)}" ({_clip(result.content, 200)})'
                )
            elif call.name == SEARCH_TOOL:
                lines.append(_search_line(str(subject), result.content))
            else:
                lines.append(f"{call.name}: {_clip(result.content, 300)}")
        return lines
    intent = _intent(prompt)
    if intent is not None:
        tool_name, _ = intent
        verb = "stored" if tool_name == INSERT_TOOL else "searched"
        return [f"{tool_name} is not available, so nothing was {verb}."]
    words = prompt.split()
    answer = " ".join(words[:30]) + (" ..." if len(words) > 30 else "")
    return [f"Answer: {answer}" if answer else "Answer: (the task prompt is empty)"]


def _search_line(query: str, content: str) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return f'Found in archival memory for "{_clip(query, 100)}": {_clip(content, 400)}'
    results = data.get("results") if isinstance(data, dict) else data if isinstance(data, list) else None
    if not isinstance(results, list):
        return f'Found in archival memory for "{_clip(query, 100)}": {_clip(content, 400)}'
    if not results:
        return f'Nothing in archival memory matches "{_clip(query, 100)}".'
    texts = []
    for index, item in enumerate(results[:5], 1):
        text = item.get("text", item.get("content", item)) if isinstance(item, dict) else item
        texts.append(f"{index}) {_clip(str(text), 120)}")
    return f'Found in archival memory for "{_clip(query, 100)}": ' + "; ".join(texts)


def _core_memory_line(system: str) -> str:
    blocks = list(_BLOCK.finditer(system))
    if not blocks:
        return "Core memory: empty."
    parts = [
        f'{b["label"]} ({b["used"]}/{b["limit"]} chars): "{_clip(b["value"].strip(), 60)}"' for b in blocks
    ]
    return "Core memory: " + "; ".join(parts)


def _intent(prompt: str) -> tuple[str, str] | None:
    store = _STORE.search(prompt)
    recall = _RECALL.search(prompt)
    if store is None and recall is None:
        return None
    if recall is not None and (store is None or recall.start() <= store.start()):
        subject = _subject(prompt[recall.end() :], ("about", "for", "of", "on"))
        return SEARCH_TOOL, subject or prompt.strip()
    assert store is not None
    subject = _subject(prompt[store.end() :], ("that", "this", "the fact that"))
    return INSERT_TOOL, subject or prompt.strip()


def _subject(rest: str, leading: Sequence[str]) -> str:
    text = rest.strip().lstrip(":,-").strip()
    for word in sorted(leading, key=len, reverse=True):
        if text.lower().startswith(word + " "):
            text = text[len(word) :].strip()
            break
    return text.rstrip(" ?!.").strip()


def _find(tools: Sequence[ToolSpec], name: str) -> ToolSpec | None:
    return next((t for t in tools if t.name == name), None)


def _argument(spec: ToolSpec, preferred: str) -> str:
    properties: dict[str, Any] = dict(spec.parameters.get("properties") or {})
    if preferred in properties or not properties:
        return preferred
    for name in spec.parameters.get("required") or []:
        if isinstance(properties.get(name), dict) and properties[name].get("type") == "string":
            return str(name)
    return next(iter(properties))


def _last_user_index(messages: Sequence[Message]) -> int | None:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].role == "user":
            return index
    return None


def _words(text: str) -> int:
    return len(text.split())


def _message_words(message: Message) -> int:
    words = _words(message.content)
    for call in message.tool_calls:
        words += _words(json.dumps(dict(call.arguments), ensure_ascii=False))
    return words


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
