"""Every write to agencies, staff, roles, teams and credentials: one transaction, audited."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import Agency, Credential, Role, StaffRole, Team, TeamMembership, User


class StaffError(Exception):
    """A staff change that cannot be made, with a message for the person who asked."""


def two_factor_confirm(*, device: TOTPDevice, by: User) -> None:
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=by, action=Action.UPDATE, obj=by, detail={"two_factor": "enabled"})


def two_factor_reset(*, user: User, by: User) -> None:
    """Remove a person's authenticator (lost phone); they set up a new one at next sign-in."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"two_factor": "reset"})


def sign_out_everywhere(*, user: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_generation=user.session_generation + 1)
        audit_record(actor=user, action=Action.LOGOUT, obj=user, detail={"scope": "everywhere"})


def staff_create(
    *,
    agency: Agency,
    email: str,
    first_name: str,
    last_name: str,
    roles: Iterable[str],
    teams: Iterable[Team] = (),
    supervised_teams: Iterable[Team] = (),
    title: str = "",
    phone: str = "",
    password: str | None = None,
    by: User | None,
) -> User:
    """Add a staff member. Without a password they get an invitation to set their own."""
    email = email.strip().lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise StaffError(f"{email} already has an account. Each person has exactly one login.")
        user = User.objects.create_user(
            email,
            password,
            agency=agency,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            title=title.strip(),
            phone=phone.strip(),
        )
        _set_roles(user=user, roles=roles)
        _set_teams(user=user, teams=teams, supervised_teams=supervised_teams)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=user,
            agency_id=agency.pk,
            actor_label="" if by else "system",
            detail={"roles": sorted(roles)},
        )
    return user


def _set_roles(*, user: User, roles: Iterable[str]) -> None:
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise StaffError(f"Unknown role: {', '.join(sorted(unknown))}.")
    StaffRole.objects.filter(user=user).exclude(role__in=wanted).delete()
    existing = set(StaffRole.objects.filter(user=user).values_list("role", flat=True))
    StaffRole.objects.bulk_create(
        [StaffRole(agency=user.agency, user=user, role=role) for role in sorted(wanted - existing)]
    )
    user.__dict__.pop("roles", None)


def _set_teams(*, user: User, teams: Iterable[Team], supervised_teams: Iterable[Team]) -> None:
    kinds: dict[int, str] = {team.pk: TeamMembership.Kind.MEMBER for team in teams}
    kinds.update({team.pk: TeamMembership.Kind.SUPERVISOR for team in supervised_teams})
    foreign = Team.objects.filter(pk__in=kinds).exclude(agency_id=access.agency_id_of(user))
    if foreign.exists():
        raise StaffError("A team of another agency was chosen.")
    TeamMembership.objects.filter(user=user).exclude(team_id__in=kinds).delete()
    for team_id, kind in kinds.items():
        TeamMembership.objects.update_or_create(
            user=user,
            team_id=team_id,
            defaults={"kind": kind, "agency_id": access.agency_id_of(user)},
        )


def staff_update(
    *,
    user: User,
    by: User,
    roles: Iterable[str] | None = None,
    teams: Iterable[Team] | None = None,
    supervised_teams: Iterable[Team] = (),
    **fields: Any,
) -> User:
    """Change a staff member's details, roles and teams."""
    allowed = {"first_name", "last_name", "title", "phone", "email"}
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        changed = [
            name
            for name, value in fields.items()
            if name in allowed and getattr(user, name) != value
        ]
        for name in changed:
            setattr(
                user,
                name,
                fields[name].strip().lower() if name == "email" else fields[name].strip(),
            )
        if changed:
            user.save(update_fields=changed)
        if roles is not None:
            roles = set(roles)
            if (
                user.pk == by.pk
                and Role.AGENCY_ADMIN in user.roles
                and Role.AGENCY_ADMIN not in roles
            ):
                raise StaffError("You cannot remove your own admin role; ask another admin.")
            _set_roles(user=user, roles=roles)
        if teams is not None:
            _set_teams(user=user, teams=teams, supervised_teams=supervised_teams)
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=user,
            detail={"fields": changed, "roles": sorted(roles or [])},
        )
    return user


def staff_deactivate(*, user: User, by: User) -> None:
    """Stop a person signing in. Everything they wrote stays, signed with their name."""
    if user.pk == by.pk:
        raise StaffError("You cannot deactivate your own account.")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            is_active=False,
            deactivated_at=timezone.now(),
            session_generation=user.session_generation + 1,
        )
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"active": False})


def staff_reactivate(*, user: User, by: User) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True, deactivated_at=None)
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"active": True})


def invitation_token(user: User) -> str:
    return default_token_generator.make_token(user)


def credential_save(*, credential: Credential, by: User) -> Credential:
    credential.full_clean()
    with transaction.atomic():
        created = credential.pk is None
        credential.save()
        audit_record(actor=by, action=Action.CREATE if created else Action.UPDATE, obj=credential)
    return credential


def credential_attest(*, credential: Credential, by: User, on: datetime.date) -> Credential:
    """The agency attests that the holder works here (required for Agency Affiliated Counselors)."""
    with transaction.atomic():
        credential.attested_by = by
        credential.attested_on = on
        credential.save(update_fields=["attested_by", "attested_on"])
        audit_record(
            actor=by, action=Action.UPDATE, obj=credential, detail={"attested_on": on.isoformat()}
        )
    return credential
