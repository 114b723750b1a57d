"""What a step of a diagram asks for, read from its `spiffworkflow:property` extensions.

A user task in a diagram says, in plain properties an admin can edit in any BPMN modeller:

    field:outcome   choice(accepted=Accepted; declined=Declined; wait_listed=Wait-listed) | Response
    field:reason    text? | Reason given            (a `?` makes the answer optional)
    due_in          P14D                             (ISO 8601; or `first_plan_deadline`)
    waiting_on      outside: DSHS Home and Community Services (CARE assessor)
    owner           case_manager                     (or `supervisor`)

and its `bpmn:documentation` is the instruction shown above the form.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

FIELD_KINDS = {
    "text": "a line of text",
    "long": "a paragraph",
    "date": "a date",
    "datetime": "a date and time",
    "number": "a whole number",
    "yesno": "yes or no",
    "choice": "one of a list",
    "staff": "a staff member of the agency",
}
WAITING_KINDS = {
    "outside": "an outside party",
    "document": "a document",
    "date": "a date",
    "client": "the client",
    "team": "the team",
}
OWNERS = ("case_manager", "supervisor")
FIRST_PLAN_DEADLINE = "first_plan_deadline"
STEP_PROPERTIES = {"due_in", "waiting_on", "owner"}
LONGEST_LABEL = 120
LONGEST_DURATION = datetime.timedelta(days=5 * 366)

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$"
)
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # a field, a choice or an answer's name


_AFTER_ANSWER = re.compile(r"^([a-z][a-z0-9_]{0,39})\s*\+\s*(P\S+)$")
TIMER_START_HOUR = datetime.time(9)  # a timer counted from a date answer fires at 9:00 local


class StepSpecError(ValueError):
    """A property of a step cannot be understood; the message says which and why."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label: str
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StepSpec:
    fields: tuple[Field, ...] = ()
    due_in: datetime.timedelta | None = None
    due_at_first_plan_deadline: bool = False
    waiting_kind: str = ""
    waiting_on: str = ""
    owner: str = "case_manager"

    @property
    def due_words(self) -> str:
        if self.due_at_first_plan_deadline:
            return "the agency's first-plan deadline"
        if self.due_in is None:
            return ""
        hours = int(self.due_in.total_seconds() // 3600)
        if hours % 24 or hours < 48:
            return f"{hours} hour{'s' * (hours != 1)}"
        return f"{hours // 24} days"


def parse_duration(text: str) -> datetime.timedelta:
    """An ISO 8601 duration of weeks, days, hours and minutes (P30D, PT120H, P1W2D), up to
    five years."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise StepSpecError(
            f"“{text}” is not a duration like P14D (14 days) or PT120H (120 hours)."
        )
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    try:
        duration = datetime.timedelta(**parts)
    except OverflowError:
        duration = LONGEST_DURATION * 2
    if duration > LONGEST_DURATION:
        raise StepSpecError(f"“{text}” is longer than five years.")
    return duration


def parse_field(name: str, value: str) -> Field:
    if not NAME.match(name):
        raise StepSpecError(
            f"Field name “{name}” must start with a letter and use only a-z, 0-9 and _."
        )
    kind_text, _, label = (part.strip() for part in value.partition("|"))
    if not label:
        raise StepSpecError(f"Field “{name}” needs a label after “|”.")
    if len(label) > LONGEST_LABEL:
        raise StepSpecError(f"Field “{name}”: keep the label under {LONGEST_LABEL} characters.")
    required = not kind_text.endswith("?")
    kind_text = kind_text.rstrip("?").strip()
    choices: tuple[tuple[str, str], ...] = ()
    if kind_text.startswith("choice(") and kind_text.endswith(")"):
        choices = _choices(name, kind_text[len("choice(") : -1])
        kind_text = "choice"
    if kind_text not in FIELD_KINDS:
        known = ", ".join(FIELD_KINDS)
        raise StepSpecError(
            f"Field “{name}” has an unknown type “{kind_text}” (use one of {known})."
        )
    if kind_text == "choice" and not choices:
        raise StepSpecError(f"Field “{name}”: list the choices, like choice(yes=Yes; no=No).")
    return Field(name=name, kind=kind_text, label=label, required=required, choices=choices)


def _choices(name: str, text: str) -> tuple[tuple[str, str], ...]:
    choices = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        value, _, label = (part.strip() for part in item.partition("="))
        if not NAME.match(value) or not label:
            raise StepSpecError(
                f"Field “{name}”: each choice is value=Label, with a value of a-z, 0-9 and _ "
                f"(“{item}” is not)."
            )
        choices.append((value, label))
    return tuple(choices)


def parse_step(properties: dict[str, str]) -> StepSpec:
    """The step's fields, deadline, owner and what it waits on, or StepSpecError."""
    fields = tuple(
        parse_field(key[len("field:") :], value)
        for key, value in properties.items()
        if key.startswith("field:")
    )
    unknown = sorted(
        k for k in properties if not k.startswith("field:") and k not in STEP_PROPERTIES
    )
    if unknown:
        raise StepSpecError(
            f"Unknown step properties: {', '.join(unknown)} (use field:<name>, due_in, "
            "waiting_on, owner)."
        )
    due_text = properties.get("due_in", "").strip()
    waiting_kind, waiting_on = _waiting(properties.get("waiting_on", ""))
    owner = properties.get("owner", "case_manager").strip()
    if owner not in OWNERS:
        raise StepSpecError(f"Owner “{owner}” is not one of {', '.join(OWNERS)}.")
    return StepSpec(
        fields=fields,
        due_in=parse_duration(due_text) if due_text and due_text != FIRST_PLAN_DEADLINE else None,
        due_at_first_plan_deadline=due_text == FIRST_PLAN_DEADLINE,
        waiting_kind=waiting_kind,
        waiting_on=waiting_on,
        owner=owner,
    )


def _waiting(text: str) -> tuple[str, str]:
    if not text.strip():
        return "", ""
    kind, _, what = (part.strip() for part in text.partition(":"))
    if kind not in WAITING_KINDS or not what:
        raise StepSpecError(
            f"waiting_on “{text}” should read kind: what, with kind one of "
            f"{', '.join(WAITING_KINDS)}."
        )
    return kind, what[:LONGEST_LABEL]


def parse_after_answer(text: str) -> tuple[str, datetime.timedelta]:
    """A timer date counted from an answer: `admission_on + P30D` → ("admission_on", 30 days)."""
    match = _AFTER_ANSWER.match(text.strip())
    if match is None:
        raise StepSpecError(
            f"“{text}” is not a date counted from an answer, like admission_on + P30D."
        )
    return match.group(1), parse_duration(match.group(2))
