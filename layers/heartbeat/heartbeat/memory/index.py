"""Index versions: which tokeniser built a tenant's inverted index, and where its items live.

| version | stemmer | postings | df counters | passage's term map |
| --- | --- | --- | --- | --- |
| 1 | Harman's S-stemmer | `post#{term}#{rank}#{id}`, one item each | `df#{term}` | `terms` |
| 2 | Snowball English | `post2#{term}#{rank}#{id}`, one item each | `df2#{term}` | `terms2` |
| 3 | Snowball English | `blk3#{term}#{ordinal // BLOCK:08d}`, blocks | `df3#{term}` | `terms3` |

Version 3 keeps a term's postings in block items: every passage gets a tenant-wide ordinal at
insert (`seq` on the `stats` item, stored as the passage's `o`), and the block of ordinals
`[k * BLOCK, (k + 1) * BLOCK)` holds, for one term, the maps `tf` (`{passage_id: tf}`) and `dl`
(`{passage_id: length}`). A term has at most min(df, passages / BLOCK + 1) blocks, so search reads a
common term's whole list in about a hundred items at 100,000 passages. The counter `df3#{term}`
also counts the term's blocks (`nb`), so search knows what a list costs before it reads it.

The tenant's `stats` item says which version search reads (`index_version`; absent on a tenant whose
stats predate versions, so 1). While a tenant reads an older version, every write also builds the
current one, and `heartbeat.memory.reindex` builds it for the passages stored before, then switches
the tenant to it in one update: both versions are complete whenever search reads one, so no passage
is unsearchable at any point. A tenant that stores its first passage starts on the current version.
All versions count the same terms per passage, so `stats` (passages, tokens) serves all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from heartbeat.memory import keys
from heartbeat.memory.table import Item

INDEX_ATTR = "index_version"
BLOCK = 1000  # ordinals per posting block (docs/decisions/2026-12-02-memory-block-postings.md)


@dataclass(frozen=True)
class IndexVersion:
    number: int
    stemmer: int  # the tokeniser version (`heartbeat.memory.tokens.STEMMERS`)
    posting: str  # sort-key prefix of the postings (or posting blocks)
    df: str  # sort-key prefix of the document-frequency counters
    terms_attr: str  # the passage item's {term: tf} map
    blocks: bool = False  # postings in blocks keyed by ordinal (version 3), not one item each

    def posting_prefix(self, term: str) -> str:
        return f"{self.posting}{term}#"

    def posting_sk(self, term: str, rank: int, passage_id: str) -> str:
        return f"{self.posting}{term}#{rank:07d}#{passage_id}"

    def block_sk(self, term: str, ordinal: int) -> str:
        return f"{self.posting}{term}#{ordinal // BLOCK:08d}"

    def df_sk(self, term: str) -> str:
        return f"{self.df}{term}"


VERSIONS = {
    1: IndexVersion(1, 1, keys.POSTING, keys.DF, "terms"),
    2: IndexVersion(2, 2, "post2#", "df2#", "terms2"),
    3: IndexVersion(3, 2, "blk3#", "df3#", "terms3", blocks=True),
}
CURRENT = VERSIONS[3]


def is_new_tenant(stats: Item | None) -> bool:
    """No passage was ever committed: no stats, or only the ordinal counter of a first insert."""
    return stats is None or ("passages" not in stats and INDEX_ATTR not in stats)


def read_version(stats: Item | None) -> IndexVersion:
    """The version search reads for a tenant whose `stats` item is `stats` (a new tenant: the
    current one)."""
    if is_new_tenant(stats):
        return CURRENT
    assert stats is not None
    return VERSIONS[int(stats.get(INDEX_ATTR, 1))]


def write_versions(stats: Item | None) -> list[IndexVersion]:
    """The versions a new passage must be indexed in: the one search reads and the current one."""
    reading = read_version(stats)
    return [reading] if reading == CURRENT else [reading, CURRENT]
