"""Domain catalogues loaded from data files (credential types), so agencies change data, not code."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class CredentialType:
    code: str
    name: str
    requires_attestation: bool
    supervision_required: bool
    billable_from: datetime.date | None = None
    billable_until: datetime.date | None = None


def _date_or_none(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


@cache
def credential_types() -> dict[str, CredentialType]:
    raw = json.loads((DATA_DIR / "credential_types.json").read_text(encoding="utf-8"))
    return {
        item["code"]: CredentialType(
            code=item["code"],
            name=item["name"],
            requires_attestation=item["requires_attestation"],
            supervision_required=item["supervision_required"],
            billable_from=_date_or_none(item.get("billable_from")),
            billable_until=_date_or_none(item.get("billable_until")),
        )
        for item in raw["types"]
    }


def credential_type_choices() -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in credential_types().values()]
