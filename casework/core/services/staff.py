"""Writes about staff: accounts, roles, teams, invitations, credentials. Each one transactional and audited."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from casework.billing.services.charges import held_charges_recheck
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import (
    Agency,
    Credential,
    Role,
    StaffRole,
    Team,
    TeamMembership,
    User,
)
from casework.core.services.agency import require_admin_of


class StaffError(Exception):
    """A staff change that cannot be made, with a message for the person who asked.

    `field` names the form field the message belongs to, if any.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class EmailTaken(StaffError):
    """The email address already belongs to an account (of this or any agency)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="email")


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
    npi: str = "",
    password: str | None = None,
    by: User | None,
) -> User:
    """Add a staff member. Without a password they get an invitation to set their own."""
    email = email.strip().lower()
    roles = list(roles)
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise EmailTaken(f"{email} already has an account. Each person has exactly one login.")
        user = User.objects.create_user(
            email,
            password,
            agency=agency,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            title=title.strip(),
            npi=npi.strip(),
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
        raise StaffError(f"Unknown role: {', '.join(sorted(unknown))}.", field="roles")
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
        raise StaffError("A team of another agency was chosen.", field="teams")
    TeamMembership.objects.filter(user=user).exclude(team_id__in=kinds).delete()
    existing = dict(TeamMembership.objects.filter(user=user).values_list("team_id", "kind"))
    for kind in sorted(set(kinds.values())):
        moved = [t for t, k in kinds.items() if k == kind and existing.get(t, kind) != kind]
        if moved:
            TeamMembership.objects.filter(user=user, team_id__in=moved).update(kind=kind)
    TeamMembership.objects.bulk_create(
        [
            TeamMembership(agency_id=access.agency_id_of(user), team_id=t, user=user, kind=k)
            for t, k in kinds.items()
            if t not in existing
        ]
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
    require_admin_of(user.agency_id, by)
    allowed = {"first_name", "last_name", "title", "phone", "email", "npi"}
    wanted = {
        name: value.strip().lower() if name == "email" else value.strip()
        for name, value in fields.items()
        if name in allowed
    }
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        if (
            "email" in changed
            and User.objects.filter(email__iexact=wanted["email"]).exclude(pk=user.pk).exists()
        ):
            raise EmailTaken(
                f"{wanted['email']} already has an account. Each person has exactly one login."
            )
        for name in changed:
            setattr(user, name, wanted[name])
        if changed:
            user.save(update_fields=changed)
        if "npi" in changed:
            held_charges_recheck(by=by, author_id=user.pk)
        if roles is not None:
            roles = set(roles)
            if (
                user.pk == by.pk
                and Role.AGENCY_ADMIN in user.roles
                and Role.AGENCY_ADMIN not in roles
            ):
                raise StaffError(
                    "You cannot remove your own admin role; ask another admin.", field="roles"
                )
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
    require_admin_of(user.agency_id, by)
    if user.pk == by.pk:
        raise StaffError("You cannot deactivate your own account.")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            is_active=False,
            deactivated_at=timezone.now(),
            session_generation=F("session_generation") + 1,
        )
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"active": False})


def staff_reactivate(*, user: User, by: User) -> None:
    """Let a deactivated person sign in again; their history was never removed."""
    require_admin_of(user.agency_id, by)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True, deactivated_at=None)
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"active": True})


def credential_save(*, credential: Credential, by: User) -> Credential:
    """Record or correct a staff credential (validated: expiry after issue)."""
    require_admin_of(credential.agency_id, by)
    credential.full_clean()
    with transaction.atomic():
        created = credential.pk is None
        credential.save()
        audit_record(actor=by, action=Action.CREATE if created else Action.UPDATE, obj=credential)
        held_charges_recheck(by=by, author_id=credential.user_id)
    return credential


def credential_attest(*, credential: Credential, by: User, on: datetime.date) -> Credential:
    """The agency attests that the holder works here (required for Agency Affiliated Counselors)."""
    require_admin_of(credential.agency_id, by)
    with transaction.atomic():
        credential.attested_by = by
        credential.attested_on = on
        credential.save(update_fields=["attested_by", "attested_on"])
        audit_record(
            actor=by, action=Action.UPDATE, obj=credential, detail={"attested_on": on.isoformat()}
        )
        held_charges_recheck(by=by, author_id=credential.user_id)
    return credential


@dataclass(frozen=True)
class Invitation:
    user: User
    created: bool


def staff_invite(
    *,
    agency: Agency,
    by: User,
    email: str,
    first_name: str,
    last_name: str,
    roles: Iterable[str],
    teams: Iterable[Team] = (),
    supervised_teams: Iterable[Team] = (),
    title: str = "",
    phone: str = "",
    npi: str = "",
    submission_key: str = "",
) -> Invitation:
    """Add a staff member who will choose their own password; a repeated submission adds no one."""
    require_admin_of(agency.pk, by)
    with transaction.atomic():
        submission = submission_claim(
            agency=agency, by=by, purpose="staff_invite", key=submission_key
        )
        if submission.earlier_object_id is not None:
            earlier = User.objects.get(pk=submission.earlier_object_id, agency=agency)
            return Invitation(user=earlier, created=False)
        user = staff_create(
            agency=agency,
            email=email,
            first_name=first_name,
            last_name=last_name,
            roles=roles,
            teams=teams,
            supervised_teams=supervised_teams,
            title=title,
            phone=phone,
            npi=npi,
            password=None,
            by=by,
        )
        submission_complete(submission, user.pk)
    return Invitation(user=user, created=True)


def invitation_link(*, user: User, site_url: str) -> str:
    """The one-time link where an invited person chooses their password."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{site_url.rstrip('/')}{path}"


def staff_invitation_send(*, user: User, by: User, site_url: str) -> None:
    """Email a person who has not chosen a password yet the link to choose one."""
    require_admin_of(user.agency_id, by)
    if not user.is_active:
        raise StaffError(f"{user.full_name} is deactivated; reactivate them before inviting them.")
    if user.has_usable_password():
        raise StaffError(
            f"{user.full_name} has already chosen a password. If they forgot it, they can use "
            "“Forgot your password?” on the sign-in page."
        )
    context = {
        "user": user,
        "agency": user.agency,
        "invited_by": by,
        "link": invitation_link(user=user, site_url=site_url),
        "login_url": f"{site_url.rstrip('/')}{reverse('login')}",
        "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)),
    }
    subject = " ".join(render_to_string("core/email/invitation_subject.txt", context).split())
    body = render_to_string("core/email/invitation.txt", context)
    send_mail(subject, body, None, [user.email])
    with transaction.atomic():
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"invitation": "sent"})


def staff_unlock_sign_in(*, user: User, by: User) -> int:
    """Lift a sign-in lockout (django-axes) after too many wrong passwords; returns attempts cleared."""
    require_admin_of(user.agency_id, by)
    with transaction.atomic():
        names = set(
            AccessAttempt.objects.filter(username__iexact=user.email).values_list(
                "username", flat=True
            )
        )
        cleared = sum(axes_reset(username=name) for name in sorted(names | {user.email}))
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=user,
            detail={"sign_in": "unlocked", "attempts_cleared": cleared},
        )
    return cleared


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def working_hours_set(
    *, user: User, by: User, days: Iterable[str], starts: datetime.time, ends: datetime.time
) -> User:
    """A person's own working days and hours: My day keeps quiet outside them."""
    if by.pk != user.pk:
        raise StaffError("People set their own working hours.")
    chosen = [day for day in WEEKDAYS if day in set(days)]
    if not chosen:
        raise StaffError("Choose at least one working day.")
    with transaction.atomic():
        user.work_days = ",".join(chosen)
        user.work_starts, user.work_ends = starts, ends
        user.save(update_fields=["work_days", "work_starts", "work_ends"])
        audit_record(actor=by, action=Action.UPDATE, obj=user, detail={"fields": ["working hours"]})
    return user
