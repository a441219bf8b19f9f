"""Index versions: which tokeniser built a tenant's inverted index, and where its items live.

| version | stemmer | postings | df counters | passage's term map |
| --- | --- | --- | --- | --- |
| 1 | Harman's S-stemmer | `post#{term}#{rank}#{id}` | `df#{term}` | `terms` |
| 2 | Snowball English | `post2#{term}#{rank}#{id}` | `df2#{term}` | `terms2` |

The tenant's `stats` item says which version search reads (`index_version`; absent on a tenant whose
stats predate versions, so 1). While a tenant reads version 1, every write also builds version 2,
and `heartbeat.memory.reindex` builds version 2 for the passages stored before, then switches the
tenant to it in one update: both versions are complete whenever search reads one, so no passage is
unsearchable at any point. A tenant that stores its first passage starts on the current version.
Both versions count the same terms per passage, so `stats` (passages, tokens) serves both.
"""

from __future__ import annotations

from dataclasses import dataclass

from heartbeat.memory import keys
from heartbeat.memory.table import Item, get_n
from heartbeat.memory.tokens import CURRENT_VERSION

INDEX_ATTR = "index_version"


@dataclass(frozen=True)
class IndexVersion:
    number: int
    posting: str  # sort-key prefix of the postings
    df: str  # sort-key prefix of the document-frequency counters
    terms_attr: str  # the passage item's {term: tf} map

    def posting_prefix(self, term: str) -> str:
        return f"{self.posting}{term}#"

    def posting_sk(self, term: str, rank: int, passage_id: str) -> str:
        return f"{self.posting}{term}#{rank:07d}#{passage_id}"

    def df_sk(self, term: str) -> str:
        return f"{self.df}{term}"


VERSIONS = {
    1: IndexVersion(1, keys.POSTING, keys.DF, "terms"),
    2: IndexVersion(2, "post2#", "df2#", "terms2"),
}
CURRENT = VERSIONS[CURRENT_VERSION]


def read_version(stats: Item | None) -> IndexVersion:
    """The version search reads for a tenant whose `stats` item is `stats` (None: no passage was
    ever stored, so the current one)."""
    if stats is None:
        return CURRENT
    return VERSIONS[get_n(stats, INDEX_ATTR, default=1)]


def write_versions(stats: Item | None) -> list[IndexVersion]:
    """The versions a new passage must be indexed in: the one search reads and the current one."""
    reading = read_version(stats)
    return [reading] if reading == CURRENT else [reading, CURRENT]
