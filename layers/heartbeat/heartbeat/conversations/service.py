"""A pinned conversation's transcript, as the API shows and forgets it. Knows nothing of HTTP.

A task with a `conversation_id` appends each run's turns to one transcript per tenant and id (an
S3 object); the executor trims it to the most recent `TranscriptMaxTurns` turns. Reading pages
through its messages oldest first; deleting it makes the next run start afresh."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from heartbeat.errors import InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    from heartbeat.dal.artifacts import TranscriptStore

DEFAULT_PAGE = 50
MAX_PAGE = 200
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class TranscriptPage:
    messages: list[dict[str, Any]]
    next_cursor: str | None


class ConversationService:
    def __init__(self, transcripts: TranscriptStore) -> None:
        self._transcripts = transcripts

    def page(self, tenant_id: str, conversation_id: str, limit: int, cursor: str | None) -> TranscriptPage:
        """`limit` messages from `cursor` (oldest first); 404 for a conversation the tenant does not have."""
        from heartbeat.dal.artifacts import message_to_json

        _check_id(conversation_id)
        start = _offset(cursor)
        messages = self._transcripts.load(tenant_id, conversation_id)
        if not messages and not self._transcripts.exists(tenant_id, conversation_id):
            raise NotFoundError(_missing(conversation_id), param="conversation_id")
        end = start + limit
        return TranscriptPage(
            messages=[message_to_json(m) for m in messages[start:end]],
            next_cursor=str(end) if end < len(messages) else None,
        )

    def delete(self, tenant_id: str, conversation_id: str) -> None:
        _check_id(conversation_id)
        if not self._transcripts.exists(tenant_id, conversation_id):
            raise NotFoundError(_missing(conversation_id), param="conversation_id")
        self._transcripts.delete(tenant_id, conversation_id)


def _missing(conversation_id: str) -> str:
    return (
        f"no conversation with id '{conversation_id}': a transcript exists once a run of a task "
        "with that conversation_id has answered"
    )


def _check_id(conversation_id: str) -> None:
    if not _ID.match(conversation_id):
        raise InvalidRequestError(
            "conversation_id must be 1-128 letters, digits, '.', '_', ':' or '-'", param="conversation_id"
        )


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise InvalidRequestError(
            "cursor is not one this API gave: pass the next_cursor of the previous page", param="cursor"
        )
    return int(cursor)
