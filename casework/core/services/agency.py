"""Writes about the agency set-up: programs, teams and agency settings. Each one transactional and audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import (
    Agency,
    Program,
    Team,
    User,
)


class AgencySetupError(Exception):
    """A program, team or agency-settings change that cannot be made, with a message for the admin."""

    def __init__(self, message: str, field: str = "name") -> None:
        super().__init__(message)
        self.field = field


def require_admin_of(agency_id: int | None, by: User) -> None:
    """Defence in depth: views already check this, but a service is never called with less."""
    if agency_id != access.agency_id_of(by):
        raise PermissionDenied("That belongs to another agency.")
    if not access.may_manage_staff(by):
        raise PermissionDenied("Only agency admins change staff and agency settings.")


def _name_taken(queryset: QuerySet[Any], *, name: str, exclude_pk: int | None) -> bool:
    return queryset.filter(name__iexact=name).exclude(pk=exclude_pk).exists()


def program_create(
    *,
    agency: Agency,
    by: User,
    name: str,
    code: str = "",
    description: str = "",
    is_part2: bool = False,
) -> Program:
    """Add a program clients can be enrolled in."""
    require_admin_of(agency.pk, by)
    name = name.strip()
    with transaction.atomic():
        if _name_taken(Program.objects.filter(agency=agency), name=name, exclude_pk=None):
            raise AgencySetupError(f"There is already a program called “{name}”.")
        program = Program(
            agency=agency,
            name=name,
            code=code.strip(),
            description=description.strip(),
            is_part2=is_part2,
        )
        program.full_clean()
        program.save()
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=program,
            detail={"name": name, "is_part2": is_part2},
        )
    return program


def program_update(
    *,
    program: Program,
    by: User,
    name: str,
    code: str = "",
    description: str = "",
    is_part2: bool | None = None,
) -> Program:
    """Rename a program, change its code and description, or mark it a 42 CFR Part 2 program."""
    require_admin_of(program.agency_id, by)
    wanted: dict[str, Any] = {
        "name": name.strip(),
        "code": code.strip(),
        "description": description.strip(),
    }
    if is_part2 is not None:
        wanted["is_part2"] = is_part2
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=program.pk)
        if _name_taken(
            Program.objects.filter(agency_id=program.agency_id),
            name=wanted["name"],
            exclude_pk=program.pk,
        ):
            raise AgencySetupError(f"There is already a program called “{wanted['name']}”.")
        if is_part2 is False and program.is_part2 and program.episodes.exists():
            # Its clients' records were kept as Part 2 records: they stay protected.
            raise AgencySetupError(
                "This program has clients: their records stay 42 CFR Part 2 records, so the "
                "mark cannot be taken off. Open a new program for work that is not Part 2.",
                field="is_part2",
            )
        _save_changes(program, wanted, by=by)
    return program


def _save_changes(obj: Program | Team, wanted: dict[str, Any], *, by: User) -> None:
    """Save only the fields that differ, validated, with one audit entry naming them."""
    changed = [field for field, value in wanted.items() if getattr(obj, field) != value]
    for field in changed:
        setattr(obj, field, wanted[field])
    if changed:
        obj.full_clean()
        obj.save(update_fields=changed)
        audit_record(actor=by, action=Action.UPDATE, obj=obj, detail={"fields": changed})


def _set_active(obj: Program | Team, *, active: bool, by: User) -> None:
    with transaction.atomic():
        type(obj).objects.filter(pk=obj.pk).update(is_active=active)
        obj.is_active = active
        audit_record(actor=by, action=Action.UPDATE, obj=obj, detail={"active": active})


def program_set_active(*, program: Program, by: User, active: bool) -> Program:
    """Close a program to new work (its history and teams stay) or reopen it."""
    require_admin_of(program.agency_id, by)
    _set_active(program, active=active, by=by)
    return program


def _check_program(program: Program | None, by: User) -> None:
    if program is not None:
        require_admin_of(program.agency_id, by)


def team_create(*, agency: Agency, by: User, name: str, program: Program | None = None) -> Team:
    """Add a team; members and supervisors are chosen on each staff member's page."""
    require_admin_of(agency.pk, by)
    _check_program(program, by)
    name = name.strip()
    with transaction.atomic():
        if _name_taken(Team.objects.filter(agency=agency), name=name, exclude_pk=None):
            raise AgencySetupError(f"There is already a team called “{name}”.")
        team = Team(agency=agency, name=name, program=program)
        team.full_clean()
        team.save()
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=team,
            detail={"name": name, "program": program.pk if program else None},
        )
    return team


def team_update(*, team: Team, by: User, name: str, program: Program | None) -> Team:
    """Rename a team or move it to another program."""
    require_admin_of(team.agency_id, by)
    _check_program(program, by)
    with transaction.atomic():
        team = Team.objects.select_for_update().get(pk=team.pk)
        name = name.strip()
        if _name_taken(
            Team.objects.filter(agency_id=team.agency_id), name=name, exclude_pk=team.pk
        ):
            raise AgencySetupError(f"There is already a team called “{name}”.")
        _save_changes(team, {"name": name, "program": program}, by=by)
    return team


def team_set_active(*, team: Team, by: User, active: bool) -> Team:
    """Retire a team (memberships stay for the record, but no longer widen anyone's caseload) or revive it."""
    require_admin_of(team.agency_id, by)
    _set_active(team, active=active, by=by)
    return team


AGENCY_SETTINGS_FIELDS = (
    "name",
    "time_zone",
    "npi",
    "tax_id",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "phone",
    "idle_timeout_minutes",
    "require_two_factor_for_all",
    "billing_sees_narratives",
    "credential_warning_days",
    "note_template",
    "late_note_days",
    "break_glass_minutes",
    "plan_first_due_days",
    "plan_review_every_days",
    "contact_every_days",
    "calendar_feeds_enabled",
    "priority_weights",
)


def agency_update(*, agency: Agency, by: User, **fields: Any) -> Agency:
    """Change the agency's own settings (identity, address, security and warning periods)."""
    require_admin_of(agency.pk, by)
    unknown = set(fields) - set(AGENCY_SETTINGS_FIELDS)
    if unknown:
        raise AgencySetupError(
            f"These settings cannot be changed here: {', '.join(sorted(unknown))}."
        )
    with transaction.atomic():
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        changed = [name for name, value in fields.items() if getattr(agency, name) != value]
        for name in changed:
            setattr(agency, name, fields[name])
        if changed:
            agency.full_clean()
            agency.save(update_fields=changed)
            audit_record(actor=by, action=Action.UPDATE, obj=agency, detail={"fields": changed})
    return agency
