"""Tokenisation for archival search: the same function indexes passages and parses queries.

Lower-case (after NFKC normalisation), unicode word characters, a small English stop-word list,
then a stemmer, so `classes` finds `class` and `queries` finds `query`. Tokens longer than
`MAX_TOKEN_CHARS` are dropped (they are hashes, not words).

Two stemmers, one per index version (`heartbeat.memory.index`): version 2, the current one, is the
Snowball English ("Porter2") stemmer from `snowballstemmer`; version 1 is Harman's S-stemmer, kept
only to search and clean up tenants whose passages were indexed with it until they are reindexed.
Both keep every token the stop list and the length limit keep, so a passage has the same length in
terms under either, and the tenant's length statistics need no rewriting.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

MAX_TOKEN_CHARS = 64

_WORD = re.compile(r"\w+", re.UNICODE)

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "will",
        "with",
        "you",
        "your",
    ]
)

CURRENT_VERSION = 2


def s_stem(word: str) -> str:
    """Harman's S-stemmer (index version 1): strips English plural endings, nothing more. It
    leaves the e of -es plurals (`classes` -> `classe`), which is why version 2 replaced it."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _english() -> Callable[[str], str]:
    # Imported on first use: the package imports all of its languages (~15-40 ms, see
    # docs/decisions/2026-12-01-memory-exact-search-and-stemming.md).
    from snowballstemmer.english_stemmer import EnglishStemmer

    return EnglishStemmer().stemWord


@lru_cache(maxsize=65536)
def snowball_stem(word: str) -> str:
    """The Snowball English stemmer (index version 2). Memoised: a pure function of the word,
    ~50 us a call uncached, and text repeats its words."""
    return _english()(word)


STEMMERS: dict[int, Callable[[str], str]] = {1: s_stem, 2: snowball_stem}


def stem(word: str, version: int = CURRENT_VERSION) -> str:
    return STEMMERS[version](word)


def tokenize(text: str, version: int = CURRENT_VERSION) -> list[str]:
    """Index terms of `text`, in order, with repeats."""
    stemmer = STEMMERS[version]
    normal = unicodedata.normalize("NFKC", text).lower()
    terms = []
    for match in _WORD.finditer(normal):
        word = match.group()
        if word in STOP_WORDS or len(word) > MAX_TOKEN_CHARS:
            continue
        terms.append(stemmer(word))
    return terms


def term_frequencies(text: str, version: int = CURRENT_VERSION) -> tuple[dict[str, int], int]:
    """`({term: count}, length in terms)` for a passage."""
    terms = tokenize(text, version)
    return dict(Counter(terms)), len(terms)


def query_terms(text: str, version: int = CURRENT_VERSION) -> list[str]:
    """The distinct terms of a query, in first-seen order."""
    return list(dict.fromkeys(tokenize(text, version)))
