"""Sort-key layout of the Memory table. The partition key is always the tenant id, so every item
below belongs to exactly one tenant and no operation can reach across tenants.

| sk | item |
| --- | --- |
| `core#{label}` | a core memory block |
| `passage#{id}` | an archival passage (text, tags, its term frequencies, `status`) |
| `post#{term}#{rank}#{id}` | a posting: `rank` is 7 digits, ascending = most relevant first |
| `df#{term}` | the number of live-or-indexing passages holding `term` (atomic ADD) |
| `tag#{tag}#{id}` | a passage carrying `tag`, newest last (ids are ULIDs) |
| `stats` | `passages` and `tokens` of the tenant's live passages (atomic ADD) |
| `same#{source}#{sha256}` | which passage holds this text from this source (a task id, or `api`) |

The posting and df rows are index version 1's; version 2 (the current one) has the same rows under
`post2#` and `df2#`, and the passage's `terms2` map (see `heartbeat/memory/index.py`).

Terms are `\\w+` tokens and tags and labels exclude `#`, so a `begins_with` on `post#{term}#` or
`tag#{tag}#` matches exactly that term or tag.
"""

from __future__ import annotations

CORE = "core#"
PASSAGE = "passage#"
POSTING = "post#"
DF = "df#"
TAG = "tag#"
STATS = "stats"
SAME = "same#"

PASSAGE_ID_PREFIX = "mem"


def core_sk(label: str) -> str:
    return f"{CORE}{label}"


def passage_sk(passage_id: str) -> str:
    return f"{PASSAGE}{passage_id}"


def posting_prefix(term: str) -> str:
    return f"{POSTING}{term}#"


def posting_sk(term: str, rank: int, passage_id: str) -> str:
    return f"{POSTING}{term}#{rank:07d}#{passage_id}"


def df_sk(term: str) -> str:
    return f"{DF}{term}"


def tag_prefix(tag: str) -> str:
    return f"{TAG}{tag}#"


def tag_sk(tag: str, passage_id: str) -> str:
    return f"{TAG}{tag}#{passage_id}"


def same_text_sk(source: str | None, text: str) -> str:
    """The marker of `text` stored by `source` (a task id; None: the API), so that the same text
    inserted again by the same source answers the passage that holds it."""
    import hashlib

    return f"{SAME}{source or 'api'}#{hashlib.sha256(text.encode()).hexdigest()}"
