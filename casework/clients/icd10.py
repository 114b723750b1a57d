"""The ICD-10-CM code set, from a compact data file shipped with Casework.

`clients/data/icd10cm.tsv.gz` holds every code of the release (code, billable 1/0, description);
`manage.py icd10_refresh` regenerates it from the simple-icd-10-cm package when CMS publishes a
new release. Loading the file takes a fraction of a second, once per process, on first use.
"""

from __future__ import annotations

import gzip
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CODE_FILE = Path(__file__).resolve().parent / "data" / "icd10cm.tsv.gz"


@dataclass(frozen=True)
class Code:
    code: str
    billable: bool
    description: str


@cache
def _codes() -> dict[str, Code]:
    text = gzip.decompress(CODE_FILE.read_bytes()).decode("utf-8")
    codes = {}
    for line in text.splitlines():
        code, billable, description = line.split("\t", 2)
        codes[code] = Code(code, billable == "1", description)
    return codes


@cache
def _sorted_codes() -> list[str]:
    return sorted(_codes())


def lookup(code: str) -> Code | None:
    return _codes().get(code)


def billable_children(code: str, limit: int = 3) -> list[str]:
    """The first few complete codes under a category, to suggest in a message."""
    ordered = _sorted_codes()
    found = []
    for candidate in ordered[bisect_left(ordered, code) :]:
        if not candidate.startswith(code):
            break
        if _codes()[candidate].billable:
            found.append(candidate)
            if len(found) == limit:
                break
    return found
