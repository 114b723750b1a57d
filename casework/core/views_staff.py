"""Agency-admin screens: staff, their credentials, programs, teams and the agency's settings.

Only agency admins reach them (403 for everyone else). Every lookup starts from the admin's own
agency, so the id of another agency's person, team or program gives 404.
"""

from __future__ import annotations

import datetime
import smtplib
from dataclasses import dataclass, field
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.core import access, services
from casework.core.forms_staff import (
    AgencySettingsForm,
    CredentialForm,
    ProgramForm,
    StaffForm,
    StaffInviteForm,
    TeamForm,
)
from casework.core.models import Agency, Credential, Program, Role, Team, TeamMembership, User

STAFF_FIELDS = ("first_name", "last_name", "email", "title", "phone")
STATUS_FILTERS = {
    "active": ("Active", Q(is_active=True)),
    "deactivated": ("Deactivated", Q(is_active=False)),
    "all": ("Everyone", Q()),
}


def _admin(request: HttpRequest) -> User:
    if not access.may_manage_staff(request.user):
        raise PermissionDenied("Only agency admins manage staff.")
    return request.user  # type: ignore[return-value]


def _agency(user: User) -> Agency:
    agency = user.agency
    assert agency is not None  # may_manage_staff refuses anyone without an agency
    return agency


def _member_or_404(user: User, user_id: int) -> User:
    member: User = get_object_or_404(access.staff_in_agency(user), pk=user_id)
    return member


def _teams(user: User) -> QuerySet[Team]:
    return Team.objects.filter(agency_id=access.agency_id_of(user))


def _programs(user: User) -> QuerySet[Program]:
    return Program.objects.filter(agency_id=access.agency_id_of(user))


# ---------------------------------------------------------------------------- credential status


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


def _role_labels(member: User) -> list[str]:
    return [Role(row.role).label for row in member.role_rows.all()]


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    agency = _agency(user)
    status = request.GET.get("status", "active")
    if status not in STATUS_FILTERS:
        status = "active"
    staff = (
        access.staff_in_agency(user)
        .filter(STATUS_FILTERS[status][1])
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
    rows = [
        StaffRow(
            member=member,
            roles=_role_labels(member),
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
    return render(
        request,
        "core/staff_list.html",
        {
            "rows": rows,
            "status": status,
            "filters": [(key, label) for key, (label, _) in STATUS_FILTERS.items()],
            "tab": "staff",
        },
    )


# ---------------------------------------------------------------------------- invite, view, edit


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _send_invitation(request: HttpRequest, *, member: User, by: User) -> bool:
    try:
        services.staff_invitation_send(user=member, by=by, site_url=_site_url(request))
    except services.StaffError as error:
        messages.error(request, str(error))
        return False
    except (smtplib.SMTPException, OSError):
        messages.error(
            request,
            f"The invitation email to {member.email} could not be sent. Check the address, "
            "then use “Send the invitation again”.",
        )
        return False
    return True


@login_required
def staff_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    agency = _agency(user)
    form = StaffInviteForm(request.POST or None, teams=_teams(user).filter(is_active=True))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation = services.staff_invite(
                agency=agency,
                by=user,
                submission_key=data["submission_key"],
                roles=data["roles"],
                teams=data["teams"],
                supervised_teams=data["supervised_teams"],
                **{name: data[name] for name in STAFF_FIELDS},
            )
        except services.EmailTaken as error:
            form.add_error("email", str(error))
        except services.StaffError as error:
            form.add_error(None, str(error))
        else:
            member = invitation.user
            if not invitation.created:
                messages.info(request, f"{member.full_name} was already added.")
            elif _send_invitation(request, member=member, by=user):
                messages.success(
                    request,
                    f"{member.full_name} is added. We emailed {member.email} a link to choose "
                    "a password.",
                )
            return redirect("staff_detail", member.pk)
    return render(request, "core/staff_new.html", {"form": form, "tab": "staff"})


def _sign_in_locked(member: User) -> bool:
    """Whether django-axes currently refuses this person's sign-in after too many failures."""
    attempts = AccessAttempt.objects.filter(
        username__iexact=member.email, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.exists()


@login_required
def staff_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    agency = _agency(user)
    member = _member_or_404(user, user_id)
    today = agency.today()
    credentials = [
        (
            credential,
            credential_flags(credential, today=today, warning_days=agency.credential_warning_days),
        )
        for credential in member.credentials.select_related("attested_by")
    ]
    memberships = TeamMembership.objects.filter(user=member).select_related("team")
    return render(
        request,
        "core/staff_detail.html",
        {
            "member": member,
            "roles": _role_labels(member),
            "memberships": memberships.order_by("team__name"),
            "credentials": credentials,
            "two_factor_on": TOTPDevice.objects.filter(user=member, confirmed=True).exists(),
            "sign_in_locked": _sign_in_locked(member),
            "invitation_pending": not member.has_usable_password(),
            "is_me": member.pk == user.pk,
            "tab": "staff",
        },
    )


@login_required
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    memberships = list(TeamMembership.objects.filter(user=member))
    teams = _teams(user).filter(Q(is_active=True) | Q(memberships__user=member)).distinct()
    initial: dict[str, Any] = {name: getattr(member, name) for name in STAFF_FIELDS}
    initial["roles"] = sorted(member.roles)
    initial["teams"] = [m.team_id for m in memberships if m.kind == TeamMembership.Kind.MEMBER]
    initial["supervised_teams"] = [
        m.team_id for m in memberships if m.kind == TeamMembership.Kind.SUPERVISOR
    ]
    form = StaffForm(request.POST or None, initial=initial, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.staff_update(
                user=member,
                by=user,
                roles=data["roles"],
                teams=data["teams"],
                supervised_teams=data["supervised_teams"],
                **{name: data[name] for name in STAFF_FIELDS},
            )
        except services.EmailTaken as error:
            form.add_error("email", str(error))
        except services.StaffError as error:
            form.add_error("roles" if "role" in str(error) else None, str(error))
        else:
            messages.success(
                request, f"Saved the changes to {data['first_name']} {data['last_name']}."
            )
            return redirect("staff_detail", member.pk)
    return render(request, "core/staff_edit.html", {"form": form, "member": member, "tab": "staff"})


@login_required
@require_POST
def staff_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    try:
        services.staff_deactivate(user=member, by=user)
    except services.StaffError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{member.full_name} is deactivated and signed out everywhere. "
            "Everything they wrote stays, under their name.",
        )
    return redirect("staff_detail", member.pk)


@login_required
@require_POST
def staff_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    services.staff_reactivate(user=member, by=user)
    messages.success(request, f"{member.full_name} can sign in again.")
    return redirect("staff_detail", member.pk)


@login_required
@require_POST
def staff_two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    services.two_factor_reset(user=member, by=user)
    messages.success(
        request,
        f"{member.full_name}'s authenticator is removed. They set up a new one when they next "
        "sign in.",
    )
    return redirect("staff_detail", member.pk)


@login_required
@require_POST
def staff_unlock(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    services.staff_unlock_sign_in(user=member, by=user)
    messages.success(request, f"{member.full_name} can try to sign in again now.")
    return redirect("staff_detail", member.pk)


@login_required
@require_POST
def staff_invitation_resend(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    if _send_invitation(request, member=member, by=user):
        messages.success(request, f"We emailed {member.email} a new link to choose a password.")
    return redirect("staff_detail", member.pk)


# ---------------------------------------------------------------------------- credentials


def _credential_or_404(member: User, credential_id: int) -> Credential:
    credential: Credential = get_object_or_404(member.credentials.all(), pk=credential_id)
    return credential


def _credential_form(
    request: HttpRequest, *, user: User, member: User, credential: Credential
) -> HttpResponse:
    form = CredentialForm(request.POST or None, instance=credential)
    if request.method == "POST" and form.is_valid():
        try:
            services.credential_save(credential=form.save(commit=False), by=user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved {member.full_name}'s credential.")
            return redirect("staff_detail", member.pk)
    return render(
        request,
        "core/staff_credential_form.html",
        {"form": form, "member": member, "credential": credential, "tab": "staff"},
    )


@login_required
def credential_new(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    credential = Credential(agency_id=access.agency_id_of(user), user=member)
    return _credential_form(request, user=user, member=member, credential=credential)


@login_required
def credential_edit(request: HttpRequest, user_id: int, credential_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    credential = _credential_or_404(member, credential_id)
    return _credential_form(request, user=user, member=member, credential=credential)


@login_required
@require_POST
def credential_attest(request: HttpRequest, user_id: int, credential_id: int) -> HttpResponse:
    user = _admin(request)
    member = _member_or_404(user, user_id)
    credential = _credential_or_404(member, credential_id)
    services.credential_attest(credential=credential, by=user, on=_agency(user).today())
    messages.success(
        request, f"You attested that {member.full_name} holds {credential} at this agency."
    )
    return redirect("staff_detail", member.pk)


# ---------------------------------------------------------------------------- programs


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    programs = _programs(user).annotate(team_count=Count("teams")).order_by("-is_active", "name")
    return render(request, "core/program_list.html", {"programs": programs, "tab": "programs"})


def _program_or_404(user: User, program_id: int) -> Program:
    program: Program = get_object_or_404(_programs(user), pk=program_id)
    return program


@login_required
def program_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_create(
                agency=_agency(user),
                by=user,
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                description=form.cleaned_data["description"],
            )
        except services.AgencySetupError as error:
            form.add_error("name", str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Added the program {program.name}.")
            return redirect("program_list")
    return render(request, "core/program_form.html", {"form": form, "tab": "programs"})


@login_required
def program_edit(request: HttpRequest, program_id: int) -> HttpResponse:
    user = _admin(request)
    program = _program_or_404(user, program_id)
    form = ProgramForm(request.POST or None, instance=Program.objects.get(pk=program.pk))
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_update(
                program=program,
                by=user,
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                description=form.cleaned_data["description"],
            )
        except services.AgencySetupError as error:
            form.add_error("name", str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved the program {program.name}.")
            return redirect("program_list")
    return render(
        request, "core/program_form.html", {"form": form, "program": program, "tab": "programs"}
    )


@login_required
@require_POST
def program_set_active(request: HttpRequest, program_id: int) -> HttpResponse:
    user = _admin(request)
    program = _program_or_404(user, program_id)
    active = request.POST.get("active") == "1"
    services.program_set_active(program=program, by=user, active=active)
    messages.success(
        request, f"{program.name} is {'open again' if active else 'closed to new work'}."
    )
    return redirect("program_list")


# ---------------------------------------------------------------------------- teams


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    teams = (
        _teams(user)
        .select_related("program")
        .annotate(
            member_count=Count(
                "memberships", filter=Q(memberships__kind=TeamMembership.Kind.MEMBER)
            ),
            supervisor_count=Count(
                "memberships", filter=Q(memberships__kind=TeamMembership.Kind.SUPERVISOR)
            ),
        )
        .order_by("-is_active", "name")
    )
    return render(request, "core/team_list.html", {"teams": teams, "tab": "teams"})


def _team_or_404(user: User, team_id: int) -> Team:
    team: Team = get_object_or_404(_teams(user).select_related("program"), pk=team_id)
    return team


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    user = _admin(request)
    team = _team_or_404(user, team_id)
    memberships = (
        TeamMembership.objects.filter(team=team)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    return render(
        request,
        "core/team_detail.html",
        {
            "team": team,
            "supervisors": [
                m.user for m in memberships if m.kind == TeamMembership.Kind.SUPERVISOR
            ],
            "members": [m.user for m in memberships if m.kind == TeamMembership.Kind.MEMBER],
            "tab": "teams",
        },
    )


def _team_programs(user: User, team: Team | None) -> QuerySet[Program]:
    keep = Q(pk=team.program_id) if team is not None and team.program_id else Q(pk__in=[])
    return _programs(user).filter(Q(is_active=True) | keep)


@login_required
def team_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    form = TeamForm(request.POST or None, programs=_team_programs(user, None))
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(
                agency=_agency(user),
                by=user,
                name=form.cleaned_data["name"],
                program=form.cleaned_data["program"],
            )
        except services.AgencySetupError as error:
            form.add_error("name", str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Added the team {team.name}. Add people to it from each person's staff page.",
            )
            return redirect("team_detail", team.pk)
    return render(request, "core/team_form.html", {"form": form, "tab": "teams"})


@login_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    user = _admin(request)
    team = _team_or_404(user, team_id)
    form = TeamForm(
        request.POST or None,
        instance=Team.objects.get(pk=team.pk),
        programs=_team_programs(user, team),
    )
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_update(
                team=team,
                by=user,
                name=form.cleaned_data["name"],
                program=form.cleaned_data["program"],
            )
        except services.AgencySetupError as error:
            form.add_error("name", str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved the team {team.name}.")
            return redirect("team_detail", team.pk)
    return render(request, "core/team_form.html", {"form": form, "team": team, "tab": "teams"})


@login_required
@require_POST
def team_set_active(request: HttpRequest, team_id: int) -> HttpResponse:
    user = _admin(request)
    team = _team_or_404(user, team_id)
    active = request.POST.get("active") == "1"
    services.team_set_active(team=team, by=user, active=active)
    messages.success(
        request,
        f"{team.name} is active again."
        if active
        else f"{team.name} is deactivated; its members no longer share clients through it.",
    )
    return redirect("team_detail", team.pk)


# ---------------------------------------------------------------------------- agency settings


@login_required
def agency_settings(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    # A separate copy: a half-valid form must not change the agency this request runs under.
    agency = Agency.objects.get(pk=access.agency_id_of(user))
    form = AgencySettingsForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_update(
                agency=agency,
                by=user,
                **{name: form.cleaned_data[name] for name in services.AGENCY_SETTINGS_FIELDS},
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Saved the agency settings.")
            return redirect("agency_settings")
    return render(request, "core/agency_settings.html", {"form": form, "tab": "agency"})
