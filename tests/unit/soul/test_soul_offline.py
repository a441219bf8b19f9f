"""The offline model: deterministic, no network, no key; answers from the prompt and core memory,
and uses the archival memory tools when the prompt asks it to remember or to recall."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import pytest
from fakes.tools import Archive

from heartbeat.soul.agent import AgentLimits, run_agent
from heartbeat.soul.prompt import build_system_prompt
from heartbeat.soul.providers.offline import OfflineModel
from heartbeat.soul.resolve import OFFLINE_MODEL, SoulSettings, resolve_model
from heartbeat.soul.types import Message


@dataclass(frozen=True)
class Block:
    label: str
    value: str
    limit: int
    description: str | None = None


SYSTEM = build_system_prompt(
    [Block("human", "Name: Ada. Lives in Lisbon.", 2000), Block("persona", "Helpful.", 500)]
)


def run(
    prompt: str, archive: Archive | None = None, history: tuple[Message, ...] = (), tools: list | None = None
):
    return run_agent(
        OfflineModel(),
        system=SYSTEM,
        prompt=prompt,
        history=history,
        tools=tools if tools is not None else (archive or Archive()).tools(),
        limits=AgentLimits(),
        remaining_ms=lambda: 60_000,
    )


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the offline model opened a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_the_canonical_name_resolves_with_no_key_and_no_configuration():
    assert OFFLINE_MODEL == "offline/heartbeat"
    model = resolve_model(OFFLINE_MODEL, SoulSettings.from_env({}))
    assert model.name == "offline/heartbeat"
    assert resolve_model("offline/anything", SoulSettings.from_env({})).name == "offline/anything"


def test_asked_to_remember_it_stores_the_takeaway_in_archival_memory():
    archive = Archive()
    result = run("Remember that the quarterly report is due on March 3rd.", archive)

    assert archive.passages == ["the quarterly report is due on March 3rd"]
    assert result.tool_calls == 1 and result.steps == 2
    assert result.output.splitlines() == [
        '[offline/heartbeat] Task: "Remember that the quarterly report is due on March 3rd."',
        'Stored in archival memory: "the quarterly report is due on March 3rd" (Stored archival passage psg_1.)',
        'Core memory: human (27/2000 chars): "Name: Ada. Lives in Lisbon."; persona (8/500 chars): "Helpful."',
    ]


def test_asked_to_recall_it_searches_and_answers_from_what_it_found():
    archive = Archive(passages=["the quarterly report is due on March 3rd", "Miso is a cat"])
    result = run("What do you remember about the quarterly report?", archive)

    assert archive.calls == [("archival_memory_search", {"query": "the quarterly report"})]
    assert (
        'Found in archival memory for "the quarterly report": 1) the quarterly report is due on March 3rd'
        in result.output
    )
    assert "Miso" not in result.output


def test_a_search_with_no_results_says_so():
    result = run("Search for penguins", Archive())
    assert 'Nothing in archival memory matches "penguins".' in result.output


def test_a_plain_task_is_answered_from_the_prompt_without_tools():
    archive = Archive()
    result = run("Summarise the state of the garden in one line.", archive)
    assert archive.calls == []
    assert result.steps == 1
    assert "Answer: Summarise the state of the garden in one line." in result.output


def test_without_the_tool_it_says_nothing_was_stored():
    result = run("Remember to water the plants", tools=[])
    assert "archival_memory_insert is not available, so nothing was stored." in result.output


def test_a_tool_error_is_reported_in_the_answer():
    class Refusing(Archive):
        def tools(self):
            tools = super().tools()

            class Full:
                spec = tools[0].spec

                def __call__(self, arguments):
                    from heartbeat.soul.types import ToolError

                    raise ToolError("archival memory is full (10000 passages)")

            return [Full(), tools[1]]

    result = run("Remember the milk", Refusing())
    assert "archival_memory_insert failed: archival memory is full (10000 passages)" in result.output


def test_a_pinned_conversation_shows_in_the_answer():
    first = run("Remember that the boiler was serviced")
    second = run("Summarise.", history=first.new_messages)
    assert (
        'Conversation: 4 earlier messages; previous task: "Remember that the boiler was serviced"'
        in second.output
    )


def test_same_input_same_output_and_usage_counts_words():
    a = run("Remember that tea is at four", Archive())
    b = run("Remember that tea is at four", Archive())
    assert a.output == b.output
    assert a.usage == b.usage
    assert a.usage.input_tokens > len(SYSTEM.split())
    assert a.usage.output_tokens > 0
    assert a.usage.cache_read_tokens == a.usage.cache_write_tokens == 0
