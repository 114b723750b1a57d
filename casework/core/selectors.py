"""Reads of staff data, each scoped to what the asking user may see."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet

from casework.core import access
from casework.core.models import Credential, Role, TeamMembership, User


def credentials_expiring(*, user: User, today: datetime.date) -> QuerySet[Credential]:
    """The user's own credentials that expire within the agency's warning window (or have expired)."""
    if user.agency is None:
        return Credential.objects.none()
    horizon = today + datetime.timedelta(days=user.agency.credential_warning_days)
    return Credential.objects.filter(user=user, expires_on__lte=horizon).order_by("expires_on")


def agency_credentials_expiring(*, user: User, today: datetime.date) -> QuerySet[Credential]:
    """For agency admins: every active staff member's credentials expiring soon or expired."""
    if not access.may_manage_staff(user) or user.agency is None:
        return Credential.objects.none()
    horizon = today + datetime.timedelta(days=user.agency.credential_warning_days)
    return (
        Credential.objects.filter(
            agency_id=access.agency_id_of(user), user__is_active=True, expires_on__lte=horizon
        )
        .select_related("user")
        .order_by("expires_on")
    )


@dataclass(frozen=True)
class Flag:
    short: str  # for a row that already names the credential
    kind: str
    tone: str  # "danger", "warn" or "ok": the badge--* class

    @property
    def label(self) -> str:
        return f"{self.kind}: {self.short[0].lower()}{self.short[1:]}"


def credential_flags(
    credential: Credential, *, today: datetime.date, warning_days: int
) -> list[Flag]:
    """What an admin must act on for one credential: expired, expiring soon, attestation missing."""
    kind = str(credential.get_kind_display())
    flags: list[Flag] = []
    days_left = credential.days_left(today)
    if days_left is not None and days_left < 0:
        flags.append(Flag("Expired", kind, "danger"))
    elif days_left is not None and days_left <= warning_days:
        when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        flags.append(Flag(f"Expires {when}", kind, "warn"))
    if credential.attestation_missing:
        flags.append(Flag("Attestation missing", kind, "warn"))
    return flags


@dataclass(frozen=True)
class StaffRow:
    member: User
    roles: list[str]
    memberships: list[TeamMembership]
    flags: list[Flag] = field(default_factory=list)
    has_credentials: bool = False


def role_labels(member: User) -> list[str]:
    return [Role(row.role).label for row in member.role_rows.all()]


def staff_rows(*, user: User, status_filter: Q) -> list[StaffRow]:
    """The agency's staff for the admin's list: roles, teams and what to act on, in four queries."""
    agency = user.agency
    if agency is None or not access.may_manage_staff(user):
        return []
    staff = (
        access.staff_in_agency(user)
        .filter(status_filter)
        .prefetch_related(
            "role_rows",
            Prefetch(
                "team_memberships",
                queryset=TeamMembership.objects.select_related("team").order_by("team__name"),
            ),
            "credentials",
        )
    )
    today = agency.today()
    return [
        StaffRow(
            member=member,
            roles=role_labels(member),
            memberships=list(member.team_memberships.all()),
            flags=[
                flag
                for credential in member.credentials.all()
                for flag in credential_flags(
                    credential, today=today, warning_days=agency.credential_warning_days
                )
            ],
            has_credentials=bool(member.credentials.all()),
        )
        for member in staff
    ]
