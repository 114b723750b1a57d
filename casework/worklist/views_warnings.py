"""Early-warning pages: the agency's rules (agency admins) and acknowledging a warning with a plan.

Warnings are raised in the background (casework.worklist.tasks), never by opening a page.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casework.clients.models import CareTeamMember, Client
from casework.clients.services import audit_chart_read
from casework.core import access
from casework.core.models import Role, TeamMembership, User
from casework.worklist import warnings
from casework.worklist.forms_warnings import AcknowledgeForm, WarningRulesForm
from casework.worklist.models import ClientWarning, WarningRule


def _admin(request: HttpRequest) -> User:
    if not access.may_manage_staff(request.user):
        raise PermissionDenied("Only agency admins change the early-warning rules.")
    return request.user  # type: ignore[return-value]


def _writer(request: HttpRequest) -> User:
    if not access.may_write_notes(request.user):
        raise PermissionDenied("Your role does not act on early warnings.")
    return request.user  # type: ignore[return-value]


@login_required
def warning_rules(request: HttpRequest) -> HttpResponse:
    """Every early-warning rule of the agency: on or off, and its threshold."""
    user = _admin(request)
    assert user.agency is not None
    explicit = dict(
        WarningRule.objects.filter(agency_id=access.agency_id_of(user)).values_list(
            "kind", "threshold"
        )
    )
    form = WarningRulesForm(
        request.POST or None, rules=warnings.rules_for(user.agency), explicit=explicit
    )
    if request.method == "POST" and form.is_valid():
        try:
            warnings.warning_rules_save(agency=user.agency, by=user, wanted=form.wanted())
        except warnings.WarningError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request,
                "Saved the early-warning rules. They apply from the next run (tonight, or the "
                "next note, assessment or appointment outcome).",
            )
            return redirect("warning_rules")
    return render(
        request,
        "worklist/warnings/rules.html",
        {"form": form, "tab": "agency"},
        status=400 if form.errors else 200,
    )


def _staff(user: User, client: Client) -> QuerySet[User]:
    """Who a plan may be given to: active staff who work with this client (on a team of its
    care team), or admins."""
    on_care_team = CareTeamMember.objects.filter(
        CareTeamMember.active_on(user.agency.today()),  # type: ignore[union-attr]
        client=client,
    ).values("staff_id")
    teams = TeamMembership.objects.filter(user_id__in=on_care_team).values("team_id")
    return (
        access.staff_in_agency(user)
        .filter(
            is_active=True,
            role_rows__role__in=(Role.CASE_MANAGER, Role.SUPERVISOR, Role.AGENCY_ADMIN),
        )
        .filter(
            Q(pk__in=on_care_team)
            | Q(team_memberships__team_id__in=teams)
            | Q(role_rows__role=Role.AGENCY_ADMIN)
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


def _page(
    request: HttpRequest, warning: ClientWarning, form: AcknowledgeForm | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "worklist/warnings/acknowledge.html",
        {"warning": warning, "client": warning.client, "form": form},
        status=status,
    )


@login_required
def warning_acknowledge(request: HttpRequest, warning_id: int) -> HttpResponse:
    """The warning with its evidence, and the form that answers it with a plan (a task)."""
    user = _writer(request)
    warning = warnings.warning_or_404(user=user, warning_id=warning_id)
    if warning.acknowledged_at is not None:
        if request.method == "POST":
            messages.info(request, "This warning was already acknowledged.")
            return redirect("warning_acknowledge", warning.pk)
        audit_chart_read(user=user, client=warning.client, what="warning")
        return _page(request, warning, None)
    assert user.agency is not None
    form = AcknowledgeForm(
        request.POST or None,
        staff=_staff(user, warning.client),
        initial={"due_on": user.agency.today() + datetime.timedelta(days=1), "assignee": user},
    )
    if request.method != "POST":
        audit_chart_read(user=user, client=warning.client, what="warning")
        return _page(request, warning, form)
    if not form.is_valid():
        return _page(request, warning, form, status=400)
    try:
        warnings.warning_acknowledge(
            warning=warning,
            by=user,
            plan=form.cleaned_data["plan"],
            due_on=form.cleaned_data["due_on"],
            assignee=form.cleaned_data["assignee"],
        )
    except warnings.WarningError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return _page(request, warning, form, status=400)
    messages.success(request, "Acknowledged. The plan is a task on My day.")
    return redirect("client_chart", warning.client_id)
