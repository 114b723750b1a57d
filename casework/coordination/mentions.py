"""Finding the colleagues a chart comment @mentions.

A mention is `@` followed by a colleague's email name (the part before the `@` of their email,
`@jlee`) or their first and last name (`@Jamie Lee`, any case and accents as typed). An `@` inside
a word (an email address written in the comment) is not a mention. This module only reads the
text against the agency's staff list; whether a person may be told is the service's decision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# An "@" at the start or after something that is not part of a word or an address.
_AT = re.compile(r"(?<![\w@.+-])@")
# A word of a name or an email name: letters, digits, apostrophes, hyphens, "+", inner dots.
_WORD = re.compile(r"[\w'\u2019+-]+(?:\.[\w'\u2019+-]+)*")
RIGHT_QUOTE = "\u2019"  # the typographic apostrophe phones type in names
TRAILING = "'-" + RIGHT_QUOTE
_GAP = re.compile(r"[ \t]+")
LONGEST_NAME_WORDS = 4  # "Ana María de la Cruz" is five; first + last rarely pass four
MOST_MENTIONS = 20


def fold(text: str) -> str:
    """How names are compared: Unicode-normalised, case-folded, one kind of apostrophe."""
    return unicodedata.normalize("NFKC", text).replace(RIGHT_QUOTE, "'").casefold()


@dataclass(frozen=True)
class Staff:
    """What the parser needs to know about one staff member of the agency."""

    pk: int
    first_name: str
    last_name: str
    email: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Unresolved:
    """Something typed after an `@` that names nobody, or more than one person."""

    typed: str
    why: str


@dataclass
class Found:
    """Staff ids in the order first mentioned (each once), and what could not be resolved."""

    staff_ids: list[int] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    typed: dict[int, str] = field(default_factory=dict)  # staff id -> how they were written


def _words_after(text: str, start: int) -> list[str]:
    """Up to LONGEST_NAME_WORDS words from `start`, separated by spaces on the same line."""
    words: list[str] = []
    position = start
    while len(words) < LONGEST_NAME_WORDS:
        word = _WORD.match(text, position)
        if word is None:
            break
        words.append(word.group())
        position = word.end()
        gap = _GAP.match(text, position)
        if gap is None:
            break
        position = gap.end()
    return words


def _index(staff: Iterable[Staff]) -> tuple[dict[str, list[Staff]], dict[str, list[Staff]]]:
    by_name: dict[str, list[Staff]] = {}
    by_email_name: dict[str, list[Staff]] = {}
    for person in staff:
        name = fold(" ".join(person.full_name.split()))
        if name:
            by_name.setdefault(name, []).append(person)
        local = fold(person.email.split("@", 1)[0])
        if local:
            by_email_name.setdefault(local, []).append(person)
    return by_name, by_email_name


def find_mentions(text: str, staff: Iterable[Staff]) -> Found:
    """Resolve every `@…` in `text` against `staff` (the longest full name wins, then the
    email name). Names that match nobody or several people come back as `unresolved`."""
    found = Found()
    if "@" not in text:
        return found
    by_name, by_email_name = _index(staff)
    seen_unresolved: set[str] = set()
    for at in _AT.finditer(text):
        words = _words_after(text, at.end())
        if not words:
            continue  # "meet @ 5": an @ on its own is no mention
        match: list[Staff] | None = None
        typed = words[0]
        for size in range(len(words), 1, -1):
            candidate = " ".join(words[:size])
            if fold(candidate) in by_name:
                match, typed = by_name[fold(candidate)], candidate
                break
        if match is None:
            match = by_email_name.get(fold(words[0].rstrip(TRAILING)))
            typed = words[0].rstrip(TRAILING)
        if match is not None and len(match) == 1:
            person = match[0]
            if person.pk not in found.typed:
                found.staff_ids.append(person.pk)
                found.typed[person.pk] = typed
            continue
        key = fold(typed)
        if key in seen_unresolved:
            continue
        seen_unresolved.add(key)
        if match is None:
            why = "nobody on your agency's staff has that name or email name"
        else:
            why = "more than one colleague has that name; use their email name instead"
        found.unresolved.append(Unresolved(typed=f"@{typed}", why=why))
    return found
