"""Tokenisation for archival search: the same function indexes passages and parses queries.

Lower-case (after NFKC normalisation), unicode word characters, a small English stop-word list,
and a light plural stemmer (Harman's S-stemmer), so `deploys` finds `deploy` and `queries`
finds `query`. Tokens longer than `MAX_TOKEN_CHARS` are dropped (they are hashes, not words).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

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


def stem(word: str) -> str:
    """Harman's S-stemmer: strips English plural endings, nothing more."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index terms of `text`, in order, with repeats."""
    normal = unicodedata.normalize("NFKC", text).lower()
    terms = []
    for match in _WORD.finditer(normal):
        word = match.group()
        if word in STOP_WORDS or len(word) > MAX_TOKEN_CHARS:
            continue
        terms.append(stem(word))
    return terms


def term_frequencies(text: str) -> tuple[dict[str, int], int]:
    """`({term: count}, length in terms)` for a passage."""
    terms = tokenize(text)
    return dict(Counter(terms)), len(terms)


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query, in first-seen order."""
    return list(dict.fromkeys(tokenize(text)))
