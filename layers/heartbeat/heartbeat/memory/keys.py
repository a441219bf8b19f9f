"""Sort-key layout of the Memory table. The partition key is always the tenant id, so every item
below belongs to exactly one tenant and no operation can reach across tenants.

| sk | item |
| --- | --- |
| `core#{label}` | a core memory block |
| `passage#{id}` | an archival passage (text, tags, its term frequencies, `status`, ordinal `o`) |
| `blk3#{term}#{block}` | a posting block: `tf` and `dl` maps `{passage_id: n}` of the passages whose ordinal is in the block |
| `df3#{term}` | `df`: live-or-indexing passages holding `term`; `nb`: its blocks (atomic ADD) |
| `tag#{tag}#{id}` | a passage carrying `tag`, newest last (ids are ULIDs) |
| `stats` | `passages` and `tokens` of the tenant's live passages (atomic ADD), `seq` (the last ordinal), `index_version` |
| `same#{source}#{sha256}` | which passage holds this text from this source (a task id, or `api`) |

Blocks are index version 3's (the current one). Tenants not yet reindexed read version 1
(`post#{term}#{rank}#{id}` postings, `df#` counters, the passage's `terms`) or version 2 (`post2#`,
`df2#`, `terms2`) until `heartbeat.memory.reindex` has moved them (`heartbeat/memory/index.py`).

Terms are `\\w+` tokens and tags and labels exclude `#`, so a `begins_with` on `blk3#{term}#` or
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
