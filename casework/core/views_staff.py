"""Agency-admin screens: staff, their credentials, programs, teams and the agency's settings.

Only agency admins reach them (403 for everyone else). Every lookup starts from the admin's own
agency, so the id of another agency's person, team or program gives 404.
"""

from __future__ import annotations

import smtplib
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework.core import access, selectors, services
from casework.core.forms_staff import (
    CredentialForm,
    StaffForm,
    StaffInviteForm,
)
from casework.core.models import Agency, Credential, TeamMembership, User

STAFF_FIELDS = ("first_name", "last_name", "email", "title", "phone", "npi")
STATUS_FILTERS = {
    "active": ("Active", Q(is_active=True)),
    "deactivated": ("Deactivated", Q(is_active=False)),
    "all": ("Everyone", Q()),
}


def admin_user(request: HttpRequest) -> User:
    if not access.may_manage_staff(request.user):
        raise PermissionDenied("Only agency admins manage staff.")
    return request.user  # type: ignore[return-value]


def admin_agency(user: User) -> Agency:
    agency = user.agency
    assert agency is not None  # may_manage_staff refuses anyone without an agency
    return agency


def _member_or_404(user: User, user_id: int) -> User:
    member: User = get_object_or_404(access.staff_in_agency(user), pk=user_id)
    return member


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    user = admin_user(request)
    status = request.GET.get("status", "active")
    if status not in STATUS_FILTERS:
        status = "active"
    rows = selectors.staff_rows(user=user, status_filter=STATUS_FILTERS[status][1])
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
    user = admin_user(request)
    agency = admin_agency(user)
    form = StaffInviteForm(
        request.POST or None, teams=access.teams_in_agency(user).filter(is_active=True)
    )
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
        except services.StaffError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
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
    user = admin_user(request)
    agency = admin_agency(user)
    member = _member_or_404(user, user_id)
    today = agency.today()
    credentials = [
        (
            credential,
            selectors.credential_flags(
                credential, today=today, warning_days=agency.credential_warning_days
            ),
        )
        for credential in member.credentials.select_related("attested_by")
    ]
    memberships = TeamMembership.objects.filter(user=member).select_related("team")
    return render(
        request,
        "core/staff_detail.html",
        {
            "member": member,
            "roles": selectors.role_labels(member),
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
    user = admin_user(request)
    member = _member_or_404(user, user_id)
    memberships = list(TeamMembership.objects.filter(user=member))
    teams = (
        access.teams_in_agency(user)
        .filter(Q(is_active=True) | Q(memberships__user=member))
        .distinct()
    )
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
        except services.StaffError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request, f"Saved the changes to {data['first_name']} {data['last_name']}."
            )
            return redirect("staff_detail", member.pk)
    return render(request, "core/staff_edit.html", {"form": form, "member": member, "tab": "staff"})


@login_required
@require_POST
def staff_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    user = admin_user(request)
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
    user = admin_user(request)
    member = _member_or_404(user, user_id)
    services.staff_reactivate(user=member, by=user)
    messages.success(request, f"{member.full_name} can sign in again.")
    return redirect("staff_detail", member.pk)


@login_required
@require_POST
def staff_two_factor_reset(request: HttpRequest, user_id: int) -> HttpResponse:
    user = admin_user(request)
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
    user = admin_user(request)
    member = _member_or_404(user, user_id)
    services.staff_unlock_sign_in(user=member, by=user)
    messages.success(request, f"{member.full_name} can try to sign in again now.")
    return redirect("staff_detail", member.pk)


@login_required
@require_POST
def staff_invitation_resend(request: HttpRequest, user_id: int) -> HttpResponse:
    user = admin_user(request)
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
    user = admin_user(request)
    member = _member_or_404(user, user_id)
    credential = Credential(agency_id=access.agency_id_of(user), user=member)
    return _credential_form(request, user=user, member=member, credential=credential)


@login_required
def credential_edit(request: HttpRequest, user_id: int, credential_id: int) -> HttpResponse:
    user = admin_user(request)
    member = _member_or_404(user, user_id)
    credential = _credential_or_404(member, credential_id)
    return _credential_form(request, user=user, member=member, credential=credential)


@login_required
@require_POST
def credential_attest(request: HttpRequest, user_id: int, credential_id: int) -> HttpResponse:
    user = admin_user(request)
    member = _member_or_404(user, user_id)
    credential = _credential_or_404(member, credential_id)
    services.credential_attest(credential=credential, by=user, on=admin_agency(user).today())
    messages.success(
        request, f"You attested that {member.full_name} holds {credential} at this agency."
    )
    return redirect("staff_detail", member.pk)
