"""The system prompt: instructions, then core memory blocks as the memory tools describe them, and
nothing that changes between runs (so providers can cache it)."""

from __future__ import annotations

from dataclasses import dataclass

from heartbeat.soul.prompt import DEFAULT_INSTRUCTIONS, build_system_prompt


@dataclass(frozen=True)
class Block:
    label: str
    value: str
    limit: int
    description: str | None = None


BLOCKS = [
    Block("human", "Name: Ada. Prefers short answers.", 2000, "What the Soul knows about the user."),
    Block("persona", "I am a careful assistant.", 1000),
]


def test_core_memory_blocks_are_in_the_prompt_with_their_size_and_limit():
    prompt = build_system_prompt(BLOCKS)
    assert prompt.startswith(DEFAULT_INSTRUCTIONS)
    assert (
        '<memory_block label="human" chars="33/2000">\n'
        "<description>What the Soul knows about the user.</description>\n"
        "Name: Ada. Prefers short answers.\n"
        "</memory_block>"
    ) in prompt
    assert (
        '<memory_block label="persona" chars="25/1000">\nI am a careful assistant.\n</memory_block>' in prompt
    )
    assert prompt.index('label="human"') < prompt.index('label="persona"')


def test_the_prompt_is_stable_for_the_same_memory_and_changes_with_it():
    assert build_system_prompt(BLOCKS) == build_system_prompt(list(BLOCKS))
    changed = [BLOCKS[0], Block("persona", "I am a terse assistant.", 1000)]
    assert build_system_prompt(changed) != build_system_prompt(BLOCKS)


def test_custom_instructions_replace_the_default_and_empty_memory_says_so():
    prompt = build_system_prompt([], instructions="  You summarise news.  ")
    assert prompt.startswith("You summarise news.\n\n<core_memory>")
    assert "(core memory is empty)" in prompt
    assert DEFAULT_INSTRUCTIONS not in prompt


def test_the_default_instructions_name_the_memory_tools():
    for tool in (
        "core_memory_append",
        "core_memory_replace",
        "archival_memory_insert",
        "archival_memory_search",
    ):
        assert tool in DEFAULT_INSTRUCTIONS


def test_the_memory_packages_blocks_fit_the_protocol():
    from heartbeat.memory.records import CoreBlock

    block = CoreBlock(label="human", value="Ada", limit=100, description=None)
    assert '<memory_block label="human" chars="3/100">\nAda\n</memory_block>' in build_system_prompt([block])
