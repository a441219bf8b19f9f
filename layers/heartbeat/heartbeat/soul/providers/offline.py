"""`offline/<anything>`: a deterministic agent with no network and no key.

The canonical name is `offline/heartbeat` (`heartbeat.soul.resolve.OFFLINE_MODEL`), the local stack's
default model; every `offline/...` name behaves the same. It exists so the whole loop (prompt, core
memory, tool calls, tool results, answer, usage) runs without a provider, and its answers are the
same for the same input, so tests can assert them.

What it does, looking at the task prompt (the last user message) and what followed it:

1. First step, the prompt asks to store something: an instruction ("remember", "memorize", "note",
   "note down", "take note of", "store", "save", "record", "keep in mind") that starts a sentence
   or follows "please", "also", "and", "then", "now" or a comma ("Read the note" and "the record
   shows" are not instructions). It calls `archival_memory_insert` with the takeaway: the rest of
   that sentence, less a leading "that"/"the fact that"/":" and less where to put it ("in archival
   memory", "to memory", "for later"). When what is left only points at something else ("it",
   "them", "this", "these", "the results", ...), the takeaway is the prompt without the
   instruction: "The runbook is in the wiki. Store it in archival memory." stores "The runbook is
   in the wiki"; "Check the deploy and store the results in memory" stores "Check the deploy".
2. First step, the prompt asks to find something ("recall", "search", "search for", "look up",
   "what do you know/remember about", "what did I/we say/store/note about", "remind me of/about"),
   at the same places: it calls `archival_memory_search` with the rest of that sentence as the
   query, less a leading "about"/"for"/"of"/"on", less where to look ("archival memory for",
   "in memory"), and less a closing "?".
   Of 1 and 2, whichever instruction comes first in the prompt wins; with neither's words left,
   the whole prompt is the takeaway or query. The argument is the tool's `content`/`query`
   property, or else its first required string property.
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

With an `output_schema` in the request, the final answer is the JSON after a line `answer: <json>` in
the prompt, or else the smallest instance of the schema (`heartbeat.soul.structured.minimal_instance`).
The tools of DESIGN.md section 8, planned from the prompt's lines in order, all in the first step
(and then, instead of 1 and 2):

4. An http(s) URL (on a line that is none of the below), when `web_fetch` is offered: it fetches it
   (GET), and answers `Fetched <url>: <status> "<title>": <first line of text>`.
5. A line `call <server>__<tool> {json}`: it calls that tool with those arguments (`{}` when none)
   and answers `<tool>: <its result>`.
6. A line `notify: <message>`: it calls `notify` with that message, severity `warning`, and its
   first 60 characters as the title.
7. A line `fail because <reason>`: it calls `report_failure` with that reason (which ends the run).
   A tool the task does not offer is not called; the answer says `<tool> is not available`.

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
FETCH_TOOL = "web_fetch"
NOTIFY_TOOL = "notify"
FAIL_TOOL = "report_failure"

_URL = re.compile(r"https?://[^\s<>\"'`)\]]+", re.I)
_CALL_LINE = re.compile(r"^\s*call\s+(?P<name>[A-Za-z0-9_-]{1,64})\s*(?P<args>\{.*\})?\s*$", re.I)
_NOTIFY_LINE = re.compile(r"^\s*notify:\s*(?P<message>.+?)\s*$", re.I)
_FAIL_LINE = re.compile(r"^\s*fail because\s+(?P<reason>.+?)\s*$", re.I)

# An instruction starts a sentence (or the prompt), or follows a word or mark that chains one.
_LEAD = r"(?:^|(?<=[.!?;:\n])|(?<=\bplease)|(?<=\balso)|(?<=\band)|(?<=\bthen)|(?<=\bnow)|(?<=,))\s*"
_STORE = re.compile(
    _LEAD + r"\b(remember|memori[sz]e|take note of|note down|note|store|save|record|keep in mind)\b", re.I
)
_RECALL = re.compile(
    _LEAD + r"\b(what do you (?:know|remember) about|what did (?:i|we) (?:say|store|note) about|"
    r"recall|search(?: for)?|look up|lookup|remind me(?: of| about)?)\b",
    re.I,
)
_MEMORY = r"(?:your\s+|the\s+|my\s+|our\s+)?(?:archival\s+|long[- ]term\s+)?memory"
_WHERE_FIRST = re.compile(rf"^(?:(?:in|to|into|through)\s+)?{_MEMORY}\b\s*[:,-]?\s*", re.I)
_WHERE_LAST = re.compile(rf"\s+(?:(?:in|to|into)\s+{_MEMORY}|for later|for future reference)\s*$", re.I)
_POINTER = re.compile(
    r"^(?:it|them|this|that|these|those|all|everything|all of it|all of that|the (?:results?|answers?|"
    r"findings?|output|summary|outcome)|what you (?:found|learned|learnt))$",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")
_CHAIN = re.compile(r"(?:[\s,;]+|\b(?:and|then|now|please|also)\b)+$", re.I)
_ANSWER_LINE = re.compile(r"^\s*answer:\s*(\S.*)$", re.I | re.M)
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

        planned = _planned_calls(prompt) if not calls else []
        if planned:
            step = sum(1 for m in messages if m.role == "assistant") + 1
            offered = {t.name for t in request.tools}
            tool_calls = tuple(
                ToolCall(id=f"offline-{step}-{index}", name=name, arguments=arguments)
                for index, (name, arguments) in enumerate(
                    ((n, a) for n, a in planned if n in offered), start=1
                )
            )
            if tool_calls:
                words = sum(_words(json.dumps(dict(c.arguments), ensure_ascii=False)) for c in tool_calls)
                return ModelResponse(
                    text="",
                    tool_calls=tool_calls,
                    stop_reason="tool_use",
                    usage=Usage(input_tokens=input_tokens, output_tokens=max(1, words)),
                )
        if not calls and not planned:
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

        if request.output_schema is not None:
            text = _structured_answer(prompt, request.output_schema)
            return ModelResponse(
                text=text,
                stop_reason="end_turn",
                usage=Usage(input_tokens=input_tokens, output_tokens=_words(text)),
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


def _structured_answer(prompt: str, schema: Any) -> str:
    """With an output schema: the JSON after a line `answer: <json>`, as written (so a test can give
    an answer that does not match), else the smallest instance of the schema."""
    match = _ANSWER_LINE.search(prompt)
    if match is not None:
        return match.group(1).strip()
    from heartbeat.soul.structured import minimal_instance

    return json.dumps(minimal_instance(schema))


def _planned_calls(prompt: str) -> list[tuple[str, dict[str, Any]]]:
    """Section 8's deterministic calls, in the order of the prompt's lines."""
    planned: list[tuple[str, dict[str, Any]]] = []
    fetched: set[str] = set()
    for line in prompt.splitlines():
        if match := _CALL_LINE.match(line):
            try:
                arguments = json.loads(match["args"]) if match["args"] else {}
            except ValueError:
                arguments = {}
            planned.append((match["name"], arguments if isinstance(arguments, dict) else {}))
        elif match := _NOTIFY_LINE.match(line):
            message = match["message"]
            planned.append(
                (NOTIFY_TOOL, {"title": _clip(message, 60), "message": message, "severity": "warning"})
            )
        elif match := _FAIL_LINE.match(line):
            planned.append((FAIL_TOOL, {"reason": match["reason"]}))
        else:
            for url in _URL.findall(line):
                url = url.rstrip(".,;:!?")
                if url not in fetched and len(fetched) < 3:
                    fetched.add(url)
                    planned.append((FETCH_TOOL, {"url": url}))
    return planned


def _fetch_line(url: str, content: str) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return f"Fetched {url}: {_clip(content, 300)}"
    if not isinstance(data, dict):
        return f"Fetched {url}: {_clip(content, 300)}"
    first = next(
        (line.strip(" #*-") for line in str(data.get("text", "")).splitlines() if line.strip(" #*-")), ""
    )
    title = f' "{_clip(str(data["title"]), 100)}"' if data.get("title") else ""
    return f"Fetched {url}: {data.get('status')}{title}: {_clip(first, 200) or '(no text)'}"


def _action_lines(
    prompt: str, tools: Sequence[ToolSpec], calls: Sequence[ToolCall], results: Sequence[Message]
) -> list[str]:
    planned = _planned_calls(prompt)
    offered = {t.name for t in tools}
    missing = [
        f"{name} is not available, so it was not called." for name, _ in planned if name not in offered
    ]
    if planned and not calls:
        return list(dict.fromkeys(missing))
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
            elif call.name == FETCH_TOOL:
                lines.append(_fetch_line(str(call.arguments.get("url", "")), result.content))
            else:
                lines.append(f"{call.name}: {_clip(result.content, 300)}")
        return lines + list(dict.fromkeys(missing))
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
    if recall is not None and (store is None or recall.start(1) <= store.start(1)):
        subject = _subject(_sentence(prompt[recall.end() :]), ("about", "for", "of", "on"))
        return SEARCH_TOOL, subject or prompt.strip()
    assert store is not None
    subject = _subject(_sentence(prompt[store.end() :]), ("the fact that", "that"))
    if not subject or _POINTER.match(subject):
        before = _CHAIN.sub("", prompt[: store.start(1)]).strip()
        after = prompt[store.end() :][len(_sentence(prompt[store.end() :])) :].lstrip(" .!?\n")
        subject = (before or after).rstrip(" ?!.").strip()
    return INSERT_TOOL, subject or prompt.strip()


def _sentence(rest: str) -> str:
    """`rest` up to the end of its sentence."""
    end = _SENTENCE_END.search(rest)
    return rest[: end.start()] if end else rest


def _subject(rest: str, leading: Sequence[str]) -> str:
    text = rest.strip().lstrip(":,-").strip()
    text = _WHERE_FIRST.sub("", text, count=1).strip()
    for word in sorted(leading, key=len, reverse=True):
        if text.lower().startswith(word + " "):
            text = text[len(word) :].strip()
            break
    text = _WHERE_LAST.sub("", text).strip()
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
