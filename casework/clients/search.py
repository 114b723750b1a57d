"""Typo-tolerant name search that runs on an ordinary index on SQLite and PostgreSQL alike.

Each name token is stored with its one-letter deletions ("smith" → "mith", "sith", "smth"…).
Two words within one edit of each other (a wrong, missing, extra or swapped letter) share at
least one such key, so a search is a handful of exact index look-ups; the candidates are then
ranked with a real edit distance (rapidfuzz).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz.distance import DamerauLevenshtein
from unidecode import unidecode

MAX_TOKEN_LENGTH = 40
_SPLIT = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ASCII: "José Núñez-O'Brien" → "jose nunez o brien"; other scripts transliterate."""
    normalized = unicodedata.normalize("NFKC", text or "")
    return " ".join(_SPLIT.split(unidecode(normalized).lower())).strip()


def tokens(text: str) -> list[str]:
    return [t[:MAX_TOKEN_LENGTH] for t in fold(text).split() if t]


def deletion_keys(token: str) -> set[str]:
    keys = {token}
    if len(token) > 3:
        keys.update(token[:i] + token[i + 1 :] for i in range(len(token)))
    return keys


def name_keys(names: Iterable[str]) -> set[str]:
    keys: set[str] = set()
    for name in names:
        for token in tokens(name):
            keys |= deletion_keys(token)
            if len(token) >= 3:
                keys.add(token[:3] + "*")  # prefix key so "mar" finds Maria as one types
    return keys


def query_keys(token: str) -> set[str]:
    keys = deletion_keys(token)
    if len(token) == 3:
        keys.add(token + "*")
    return keys


def token_matches(query_token: str, name_tokens: list[str]) -> float:
    """1.0 for an exact or prefix match, less for a close misspelling, 0 for none."""
    best = 0.0
    limit = 1 if len(query_token) <= 5 else 2
    for name in name_tokens:
        if name == query_token:
            return 1.0
        if name.startswith(query_token) and len(query_token) >= 3:
            best = max(best, 0.95)
            continue
        distance = DamerauLevenshtein.distance(query_token, name, score_cutoff=limit)
        if distance <= limit:
            best = max(best, 0.9 - 0.15 * distance)
    return best


def rank(query_tokens: list[str], name_tokens: list[str]) -> float:
    """Every query word must match some name word; the score is the mean of the matches."""
    if not query_tokens:
        return 0.0
    scores = [token_matches(q, name_tokens) for q in query_tokens]
    return 0.0 if min(scores) == 0 else sum(scores) / len(scores)
