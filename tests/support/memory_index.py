"""The invariant every archival write must keep, checked on a tenant's raw partition."""

from __future__ import annotations

from collections import Counter
from typing import Any

from heartbeat.memory import keys
from heartbeat.memory.index import VERSIONS
from heartbeat.memory.ranking import impact_rank
from heartbeat.memory.tokens import term_frequencies


def assert_index_consistent(items: dict[str, dict[str, Any]]) -> None:
    """In every index version, postings and df counters are exactly those of the live passages
    indexed in it (whose term maps match their text); tag items and stats are those of the live
    passages."""
    live = {sk: item for sk, item in items.items() if sk.startswith(keys.PASSAGE)}
    assert all(item["status"]["S"] == "live" for item in live.values()), "a passage was left half-done"
    want_tags: set[str] = set()
    tokens = 0
    for item in live.values():
        tokens += int(item["length"]["N"])
        want_tags |= {keys.tag_sk(tag["S"], item["id"]["S"]) for tag in item.get("tags", {}).get("L", [])}
    for version in VERSIONS.values():
        want_postings, want_df = set(), Counter[str]()
        for item in live.values():
            if version.terms_attr not in item:
                continue
            pid = item["id"]["S"]
            tfs, length = term_frequencies(item["text"]["S"], version.number)
            assert {t: int(v["N"]) for t, v in item[version.terms_attr]["M"].items()} == tfs
            assert length == int(item["length"]["N"])
            want_df.update(tfs.keys())
            want_postings |= {version.posting_sk(t, impact_rank(tf, length), pid) for t, tf in tfs.items()}
        assert {sk for sk in items if sk.startswith(version.posting)} == want_postings, version
        df = {
            sk.removeprefix(version.df): int(i["df"]["N"])
            for sk, i in items.items()
            if sk.startswith(version.df)
        }
        assert df == dict(want_df), version  # no counter left at 0 by a deleted passage
    assert {sk for sk in items if sk.startswith(keys.TAG)} == want_tags
    stats = items.get(keys.STATS, {"passages": {"N": "0"}, "tokens": {"N": "0"}})
    assert (int(stats["passages"]["N"]), int(stats["tokens"]["N"])) == (len(live), tokens)
