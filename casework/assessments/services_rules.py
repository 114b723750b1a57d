"""Writes to the agency's assessment rules (how often an instrument repeats, which are required).

Agency admins only; each write transactional and audited. Reads are in selectors.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from casework.assessments.instruments import instruments
from casework.assessments.models import MAX_DAYS, AssessmentRule
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import Agency, Program, User


class RuleError(Exception):
    """A rule that cannot be saved; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RuleInput:
    """What an admin sets on a rule."""

    instrument: str
    program: Program | None
    repeat_every_days: int | None  # None: the instrument's own interval; 0: never repeats
    required: bool = False
    first_due_days: int = 30

    def audit_detail(self) -> dict[str, object]:
        detail = asdict(self)
        detail["program"] = self.program.pk if self.program else None
        return detail


def _require_admin(agency_id: int, by: User) -> None:
    if not access.may_configure_assessments(by) or access.agency_id_of(by) != agency_id:
        raise PermissionDenied("Only agency admins change the assessment rules.")


def _days(value: int | None, *, field: str, what: str) -> None:
    if value is not None and not 0 <= value <= MAX_DAYS:
        raise RuleError(f"{what}: enter a number of days from 0 to {MAX_DAYS}.", field=field)


def _duplicate_message(wanted: RuleInput) -> str:
    name = instruments()[wanted.instrument].name
    where = f"the program {wanted.program.name}" if wanted.program else "all programs"
    return f"There is already a rule for {name} in {where}; change that rule instead."


def _check(agency_id: int, wanted: RuleInput, *, exclude_pk: int | None) -> None:
    if wanted.instrument not in instruments():
        raise RuleError(
            f"There is no instrument “{wanted.instrument}”; choose one from the list.",
            field="instrument",
        )
    if wanted.program is not None and wanted.program.agency_id != agency_id:
        raise RuleError("Choose a program of your agency.", field="program")
    _days(
        wanted.repeat_every_days,
        field="repeat_every_days",
        what="Repeat every (0 means it is not repeated)",
    )
    if wanted.first_due_days is None:
        raise RuleError("Say how many days after admission it is first due.", "first_due_days")
    _days(wanted.first_due_days, field="first_due_days", what="First due after admission")
    same = AssessmentRule.objects.filter(
        agency_id=agency_id, instrument=wanted.instrument, program=wanted.program
    )
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise RuleError(_duplicate_message(wanted), field="program")


def _save(rule: AssessmentRule, wanted: RuleInput) -> None:
    """Save, turning a race with another admin into the same message as the check."""
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise RuleError(_duplicate_message(wanted), field="program") from None


def assessment_rule_create(*, agency: Agency, by: User, wanted: RuleInput) -> AssessmentRule:
    """Add the agency's rule for an instrument, agency-wide or for one program."""
    _require_admin(agency.pk, by)
    _check(agency.pk, wanted, exclude_pk=None)
    with transaction.atomic():
        rule = AssessmentRule(
            agency=agency,
            instrument=wanted.instrument,
            program=wanted.program,
            repeat_every_days=wanted.repeat_every_days,
            required=wanted.required,
            first_due_days=wanted.first_due_days,
        )
        _save(rule, wanted)
        audit_record(actor=by, action=Action.CREATE, obj=rule, detail=wanted.audit_detail())
    return rule


def assessment_rule_update(*, rule: AssessmentRule, by: User, wanted: RuleInput) -> AssessmentRule:
    """Change a rule; due dates follow at once (they are computed, never stored)."""
    _require_admin(rule.agency_id, by)
    _check(rule.agency_id, wanted, exclude_pk=rule.pk)
    with transaction.atomic():
        rule = AssessmentRule.objects.select_for_update().get(pk=rule.pk)
        rule.instrument = wanted.instrument
        rule.program = wanted.program
        rule.repeat_every_days = wanted.repeat_every_days
        rule.required = wanted.required
        rule.first_due_days = wanted.first_due_days
        _save(rule, wanted)
        audit_record(actor=by, action=Action.UPDATE, obj=rule, detail=wanted.audit_detail())
    return rule


def assessment_rule_delete(*, rule: AssessmentRule, by: User) -> None:
    """Remove a rule: the instrument's own interval (or the agency-wide rule) applies again."""
    _require_admin(rule.agency_id, by)
    with transaction.atomic():
        pk = rule.pk
        deleted, _ = AssessmentRule.objects.filter(pk=pk).delete()
        if deleted:
            audit_record(
                actor=by,
                action=Action.DELETE,
                object_type="assessments.assessmentrule",
                object_id=pk,
                detail={"instrument": rule.instrument, "program": rule.program_id},
            )
