"""The invariant every archival write must keep, checked on a tenant's raw partition."""

from __future__ import annotations

from collections import Counter
from typing import Any

from heartbeat.memory import keys
from heartbeat.memory.index import VERSIONS, IndexVersion
from heartbeat.memory.ranking import impact_rank
from heartbeat.memory.tokens import term_frequencies


def _block_postings(
    items: dict[str, dict[str, Any]], version: IndexVersion
) -> set[tuple[str, str, int, int]]:
    """(block sk, passage id, tf, dl) of every posting in the version's blocks."""
    found = set()
    for sk, item in items.items():
        if sk.startswith(version.posting):
            tfs, dls = item["tf"]["M"], item["dl"]["M"]
            assert set(tfs) == set(dls), sk
            found |= {(sk, pid, int(tfs[pid]["N"]), int(dls[pid]["N"])) for pid in tfs}
    return found


def assert_index_consistent(items: dict[str, dict[str, Any]]) -> None:
    """In every index version, postings and df counters are exactly those of the live passages
    indexed in it (whose term maps match their text); in a block index, each passage's postings
    are in the blocks of its ordinal and each term counts its blocks; tag items and stats are those
    of the live passages."""
    live = {sk: item for sk, item in items.items() if sk.startswith(keys.PASSAGE)}
    assert all(item["status"]["S"] == "live" for item in live.values()), "a passage was left half-done"
    want_tags: set[str] = set()
    tokens = 0
    for item in live.values():
        tokens += int(item["length"]["N"])
        want_tags |= {keys.tag_sk(tag["S"], item["id"]["S"]) for tag in item.get("tags", {}).get("L", [])}
    for version in VERSIONS.values():
        want_postings: set[Any] = set()
        want_df = Counter[str]()
        for item in live.values():
            if version.terms_attr not in item:
                continue
            pid = item["id"]["S"]
            tfs, length = term_frequencies(item["text"]["S"], version.stemmer)
            assert {t: int(v["N"]) for t, v in item[version.terms_attr]["M"].items()} == tfs
            assert length == int(item["length"]["N"])
            want_df.update(tfs.keys())
            if version.blocks:
                ordinal = int(item["o"]["N"])
                want_postings |= {(version.block_sk(t, ordinal), pid, tf, length) for t, tf in tfs.items()}
            else:
                want_postings |= {
                    version.posting_sk(t, impact_rank(tf, length), pid) for t, tf in tfs.items()
                }
        if version.blocks:
            assert _block_postings(items, version) == want_postings, version
        else:
            assert {sk for sk in items if sk.startswith(version.posting)} == want_postings, version
        counters = {sk.removeprefix(version.df): i for sk, i in items.items() if sk.startswith(version.df)}
        df = {term: int(i["df"]["N"]) for term, i in counters.items()}
        assert df == dict(want_df), version  # no counter left at 0 by a deleted passage
        if version.blocks:
            blocks = Counter(
                sk.removeprefix(version.posting).rsplit("#", 1)[0]
                for sk in items
                if sk.startswith(version.posting)
            )
            assert {t: int(i["nb"]["N"]) for t, i in counters.items()} == {t: blocks[t] for t in counters}
            assert set(blocks) <= set(counters), "a block of a term no passage holds"
    assert {sk for sk in items if sk.startswith(keys.TAG)} == want_tags
    stats = items.get(keys.STATS, {})
    counted = (int(stats.get("passages", {"N": "0"})["N"]), int(stats.get("tokens", {"N": "0"})["N"]))
    assert counted == (len(live), tokens)
