"""The limits of tenant memory and their validation. Each failure is an `InvalidRequestError`
naming the field and saying how to fix it; the memory tools turn it into a `ToolError`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from heartbeat.errors import InvalidRequestError

LABEL_PATTERN = re.compile(r"[a-z0-9_-]{1,64}")
DEFAULT_BLOCK_LIMIT = 5000
MAX_BLOCK_LIMIT = 20000
MAX_DESCRIPTION_CHARS = 1000
MAX_CORE_BLOCKS = 20

MAX_PASSAGE_BYTES = 16 * 1024
MAX_TAGS = 10
TAG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.:/-]{0,63}")
MAX_QUERY_BYTES = 1024
DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50


def check_label(label: str) -> str:
    if not isinstance(label, str) or not LABEL_PATTERN.fullmatch(label):
        raise InvalidRequestError(
            f"label {label!r} is not valid: use 1 to 64 characters from a-z, 0-9, '_' and '-'",
            param="label",
        )
    return label


def check_block_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_BLOCK_LIMIT:
        raise InvalidRequestError(
            f"limit must be a whole number of characters from 1 to {MAX_BLOCK_LIMIT}, got {limit!r}",
            param="limit",
        )
    return limit


def check_block_value(label: str, value: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError("value must be a string", param="value")
    if len(value) > limit:
        raise InvalidRequestError(
            f"core memory block '{label}' would hold {len(value)} characters, over its limit of "
            f"{limit}: shorten the value or raise the block's limit",
            param="value",
        )
    return value


def check_description(description: str) -> str:
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequestError(
            f"description must be a string of at most {MAX_DESCRIPTION_CHARS} characters",
            param="description",
        )
    return description


def check_passage_text(text: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequestError("text must be a non-empty string", param="text")
    size = len(text.encode("utf-8"))
    if size > MAX_PASSAGE_BYTES:
        raise InvalidRequestError(
            f"text is {size} bytes, over the limit of {MAX_PASSAGE_BYTES} bytes (16 KiB): "
            "split it into several passages",
            param="text",
        )
    return text


def check_tags(tags: Iterable[str] | None) -> list[str]:
    """Tags are lower-cased and de-duplicated, in order."""
    if tags is None:
        return []
    if isinstance(tags, str):
        raise InvalidRequestError("tags must be a list of strings", param="tags")
    normal: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise InvalidRequestError("tags must be a list of strings", param="tags")
        cleaned = tag.strip().lower()
        if not TAG_PATTERN.fullmatch(cleaned):
            raise InvalidRequestError(
                f"tag {tag!r} is not valid: use 1 to 64 characters from a-z, 0-9 and '_.:/-', "
                "starting with a letter or digit",
                param="tags",
            )
        if cleaned not in normal:
            normal.append(cleaned)
    if len(normal) > MAX_TAGS:
        raise InvalidRequestError(f"at most {MAX_TAGS} tags, got {len(normal)}", param="tags")
    return normal


def check_query(query: str) -> str:
    if not isinstance(query, str):
        raise InvalidRequestError("query must be a string", param="query")
    size = len(query.encode("utf-8"))
    if size > MAX_QUERY_BYTES:
        raise InvalidRequestError(
            f"query is {size} bytes, over the limit of {MAX_QUERY_BYTES} bytes (1 KiB): use fewer words",
            param="query",
        )
    return query


def check_search_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_SEARCH_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise InvalidRequestError(
            f"limit must be a whole number from 1 to {MAX_SEARCH_LIMIT}, got {limit!r}", param="limit"
        )
    return limit
