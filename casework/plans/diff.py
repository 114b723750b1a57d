"""What changed between two versions of a plan, matched by the keys the parts keep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casework.plans.models import ServicePlan

# Each part as the page names it, the field that names one, the fields compared, and the
# part it hangs under (a move to another goal is a change too).
COMPARED: list[tuple[str, str, str, tuple[str, ...], str]] = [
    ("needs", "Need", "text", ("area", "text"), ""),
    ("goals", "Goal", "text", ("text",), "need"),
    ("objectives", "Objective", "text", ("text", "measure", "target_on"), "goal"),
    (
        "interventions",
        "Intervention",
        "action",
        ("action", "responsible", "frequency", "service_code"),
        "objective",
    ),
]
PLAN_FIELDS = ("starts_on", "strengths", "barriers")
LABELS = {"target_on": "target date", "starts_on": "starts", "measure": "how we will know"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One difference: `kind` is added, removed or changed; `subject` names the part."""

    kind: str
    what: str
    subject: str
    fields: list[FieldChange] = field(default_factory=list)


def _value(part: Any, name: str) -> str:
    display = getattr(part, f"get_{name}_display", None)
    value = display() if display is not None else getattr(part, name)
    if hasattr(value, "strftime"):
        return f"{value:%m/%d/%Y}"
    return str(value or "")


def _field_changes(old: Any, new: Any, names: tuple[str, ...]) -> list[FieldChange]:
    return [
        FieldChange(LABELS.get(name, name.replace("_", " ")), _value(old, name), _value(new, name))
        for name in names
        if _value(old, name) != _value(new, name)
    ]


def _parent_change(
    parent: str, old: Any, new: Any, by_id: dict[str, dict[tuple[str, int], Any]]
) -> FieldChange | None:
    """The part now hangs under another need, goal or objective (compared by key)."""
    was = by_id["before"].get((parent, getattr(old, f"{parent}_id")))
    now = by_id["after"].get((parent, getattr(new, f"{parent}_id")))
    if (was.key if was else None) == (now.key if now else None):
        return None
    return FieldChange(
        f"moved from {parent}",
        was.text[:80] if was else "(none)",
        now.text[:80] if now else "(none)",
    )


def plan_changes(before: ServicePlan, after: ServicePlan) -> list[Change]:
    """The changes from `before` to `after`: the plan's own fields first, then part by part."""
    changes = []
    own = _field_changes(before, after, PLAN_FIELDS)
    if own:
        changes.append(Change("changed", "Plan", "", own))
    by_id: dict[str, dict[tuple[str, int], Any]] = {"before": {}, "after": {}}
    for related, label, name_field, fields, parent in COMPARED:
        old = {part.key: part for part in getattr(before, related).all()}
        new = {part.key: part for part in getattr(after, related).all()}
        kind = label.lower()
        by_id["before"].update({(kind, part.pk): part for part in old.values()})
        by_id["after"].update({(kind, part.pk): part for part in new.values()})
        for key, part in new.items():
            subject = _value(part, name_field)
            if key not in old:
                changes.append(Change("added", label, subject))
                continue
            changed = _field_changes(old[key], part, fields)
            if parent:
                moved = _parent_change(parent, old[key], part, by_id)
                changed += [moved] if moved else []
            if changed:
                changes.append(Change("changed", label, _value(old[key], name_field), changed))
        changes += [
            Change("removed", label, _value(part, name_field))
            for key, part in old.items()
            if key not in new
        ]
    return changes
