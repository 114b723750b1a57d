"""Narrative templates (DAP, SOAP, BIRP, GIRP, free) loaded from data/templates.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "templates.json"


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    required: bool
    prompt: str


@dataclass(frozen=True)
class NoteTemplate:
    key: str
    name: str
    sections: tuple[Section, ...]

    def missing_sections(self, sections: dict[str, str]) -> list[Section]:
        """Required sections left empty (whitespace counts as empty)."""
        return [s for s in self.sections if s.required and not str(sections.get(s.key, "")).strip()]


@cache
def note_templates() -> dict[str, NoteTemplate]:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {
        item["key"]: NoteTemplate(
            key=item["key"],
            name=item["name"],
            sections=tuple(Section(**section) for section in item["sections"]),
        )
        for item in raw["templates"]
    }


def note_template(key: str) -> NoteTemplate:
    """The template by key; an unknown key (a template since removed) falls back to free text."""
    templates = note_templates()
    return templates.get(key, templates["free"])


def template_choices() -> list[tuple[str, str]]:
    return [(t.key, t.name) for t in note_templates().values()]
