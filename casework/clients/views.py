"""Client registry pages: list and search, registration with a duplicate check, chart, edits."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from casework.assessments.selectors import assessments_due, client_assessments
from casework.clients import selectors, services
from casework.clients.forms import (
    AGENCY_FORMS,
    SECTION_FORMS,
    BreakGlassForm,
    CareTeamForm,
    ClientCreateForm,
    ClientForm,
    MergeForm,
    ReassignForm,
)
from casework.clients.models import BreakGlassAccess, CareTeamMember, Client, SafetyFlag
from casework.coordination.selectors import coordination_card
from casework.coordination.selectors_collaboration import chart_comments
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_result
from casework.core.models import User
from casework.notes.selectors import client_notes
from casework.plans.selectors import client_plan_card
from casework.processes.selectors import client_process_card
from casework.schedule.selectors import client_appointment_card
from casework.worklist.warnings import client_warnings

CHART_NOTES = 20  # the most recent; the rest are a click away


def _user(request: HttpRequest) -> User:
    user = request.user
    if not access.may_use_client_registry(user):
        raise PermissionDenied("Your role does not include client records.")
    return user  # type: ignore[return-value]


def _editor(request: HttpRequest) -> User:
    user = _user(request)
    if not access.may_edit_chart(user):
        raise PermissionDenied("Your role can read charts but not change them.")
    return user


def _assignable_staff(user: User) -> Any:
    return (
        access.staff_in_agency(user)
        .filter(is_active=True, role_rows__role__in=["case_manager", "supervisor"])
        .distinct()
    )


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = request.GET.get("q", "")
    include_inactive = request.GET.get("all") == "1"
    result = selectors.client_search(user=user, query=query, include_inactive=include_inactive)
    if query:
        audit_record(
            actor=user,
            action=Action.SEARCH,
            object_type="clients.client",
            detail={"results": len(result.clients)},
        )
    context = {
        "result": result,
        "query": query,
        "include_inactive": include_inactive,
        "may_create": access.may_create_clients(user),
    }
    template = "clients/_results.html" if request.htmx else "clients/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def client_new(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    agency = user.agency
    assert agency is not None
    form = ClientCreateForm(request.POST or None, agency=agency, staff=_assignable_staff(user))
    key = request.POST.get("submission_key", "")
    earlier = submission_result(agency=agency, by=user, purpose=services.CLIENT_CREATE, key=key)
    if request.method == "POST" and earlier is not None:
        return redirect("client_chart", earlier)
    duplicates: list[Client] = []
    if request.method == "POST" and form.is_valid():
        data, identifiers = _registration_from(form)
        duplicates = selectors.find_possible_duplicates(
            agency_id=agency.pk,
            first_name=data["legal_first_name"],
            last_name=data["legal_last_name"],
            date_of_birth=data["date_of_birth"],
            identifiers=[(i.kind, i.value) for i in identifiers if i.value],
        )
        if not duplicates or form.cleaned_data["confirm_not_duplicate"]:
            try:
                client = services.client_create(
                    by=user,
                    data=data,
                    identifiers=identifiers,
                    primary_case_manager=form.cleaned_data["primary_case_manager"],
                    submission_key=form.cleaned_data["submission_key"],
                ).client
            except (ValidationError, services.ClientError) as error:
                form.add_error(None, error if isinstance(error, ValidationError) else str(error))
            else:
                return _after_registration(request, user, client)
    visible_ids = set(
        access.visible_clients(user)
        .filter(pk__in=[d.pk for d in duplicates])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "clients/new.html",
        {"form": form, "duplicates": duplicates, "visible_ids": visible_ids},
    )


def _registration_from(
    form: ClientCreateForm,
) -> tuple[dict[str, Any], list[services.NewIdentifier]]:
    data = {name: form.cleaned_data[name] for name in ClientForm.Meta.fields}
    identifiers = [
        services.NewIdentifier("providerone", form.cleaned_data["providerone_id"]),
        services.NewIdentifier("medicare_mbi", form.cleaned_data["medicare_mbi"]),
    ]
    return data, identifiers


def _after_registration(request: HttpRequest, user: User, client: Client) -> HttpResponse:
    messages.success(request, f"{client.display_name} is registered as {client.record_number}.")
    if not access.visible_clients(user).filter(pk=client.pk).exists():
        return redirect("client_list")  # assigned to a caseload outside the registrar's teams
    return redirect("client_chart", client.pk)


@login_required
def client_chart(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _user(request)
    try:
        chart = selectors.client_chart(user=user, client_id=client_id)
    except Http404:
        client = _break_glass_target(user, client_id)
        if client is None:
            raise
        return render(
            request,
            "clients/break_glass.html",
            {"client": client, "form": BreakGlassForm()},
            status=403,
        )
    services.audit_chart_read(user=user, client=chart.client)
    appointments = client_appointment_card(user=user, client=chart.client)
    return render(
        request,
        "clients/chart.html",
        {
            "chart": chart,
            "client": chart.client,
            "flags": chart.flags,
            "age": chart.client.age_on(chart.today),
            "may_edit": access.may_edit_chart(user),
            "may_merge": access.may_merge_clients(user),
            "may_read_audit": access.may_read_audit(user),
            "may_write_notes": access.may_write_notes(user),
            "notes": client_notes(user=user, client_id=chart.client.pk, limit=CHART_NOTES),
            "assessments": client_assessments(
                user=user, client_id=chart.client.pk, limit=CHART_NOTES
            )
            if access.may_read_narratives(user)
            else [],
            "assessments_due": assessments_due(user=user, client_id=chart.client.pk)
            if access.may_read_narratives(user)
            else [],
            "plan_card": client_plan_card(user=user, client=chart.client)
            if access.may_read_narratives(user)
            else None,
            "upcoming_appointments": appointments.upcoming,
            "last_missed_appointment": appointments.last_missed,
            "coordination": coordination_card(user=user, client=chart.client),
            "process_card": client_process_card(user=user, client=chart.client),
            "comments_card": chart_comments(user=user, client=chart.client),
            "client_warnings": client_warnings(client=chart.client)
            if access.may_read_narratives(user)
            else [],
            "submission_key": uuid.uuid4().hex,
        },
    )


def _break_glass_target(user: User, client_id: int) -> Client | None:
    try:
        client = access.break_glass_candidate(user, client_id)
    except Http404:
        return None
    return client if access.may_break_glass(user, client) else None


@login_required
@require_POST
def break_glass(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _user(request)
    client = access.break_glass_candidate(user, client_id)
    form = BreakGlassForm(request.POST)
    back_to = _page_of_this_site(request, request.POST.get("next", ""))
    if form.is_valid():
        try:
            grant = services.break_glass_open(
                client=client, by=user, reason=form.cleaned_data["reason"]
            )
        except services.ClientError as error:
            form.add_error("reason", str(error))
        else:
            messages.warning(
                request,
                f"Emergency access until {timezone.localtime(grant.expires_at):%H:%M}. Your supervisor is told.",
            )
            return redirect(back_to or reverse("client_chart", args=[client.pk]))
    return render(
        request,
        "clients/break_glass.html",
        {"client": client, "form": form, "next": back_to},
        status=400,
    )


def _page_of_this_site(request: HttpRequest, url: str) -> str:
    """`url` if it is a page of this site (a withheld Part 2 record asking for a grant), else ""."""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe and url.startswith("/") else ""


def _chart_page(
    request: HttpRequest, template: str, client: Client, context: dict[str, Any]
) -> HttpResponse:
    """Render a chart sub-page with the header every chart page shares."""
    return render(
        request,
        template,
        {"client": client, "flags": selectors.client_flags(client=client), **context},
    )


@login_required
def client_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _editor(request)
    client = access.client_or_404(user, client_id)
    if request.method == "GET":
        services.audit_chart_read(user=user, client=client, what="edit")
    version = request.POST.get("version") or services.client_version(client)
    editable = Client.objects.get(
        pk=client.pk
    )  # the form writes onto its own copy, not the header's
    form = ClientForm(request.POST or None, instance=editable, agency=client.agency)
    stale: services.StaleEdit | None = None
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ClientForm.Meta.fields}
        stored = Client.objects.get(pk=client.pk)  # the form wrote onto its instance
        try:
            services.client_update(client=stored, by=user, data=data, expected_version=version)
        except services.StaleEdit as error:
            stale, version = error, services.client_version(error.client)
            form.add_error(None, str(error))
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Saved.")
            return redirect("client_chart", client.pk)
    return _chart_page(
        request, "clients/edit.html", client, {"form": form, "version": version, "stale": stale}
    )


@login_required
def chart_record_add(request: HttpRequest, client_id: int, section: str) -> HttpResponse:
    user = _editor(request)
    client = access.client_or_404(user, client_id)
    if request.method == "GET":
        services.audit_chart_read(user=user, client=client, what="record form")
    if section not in SECTION_FORMS:
        raise Http404("No such section.")
    form_class, label = SECTION_FORMS[section]
    kwargs: dict[str, Any] = {"agency": client.agency} if form_class in AGENCY_FORMS else {}
    form = form_class(request.POST or None, **kwargs)
    submission_key = request.POST.get("submission_key") or uuid.uuid4().hex
    if request.method == "POST" and form.is_valid():
        record = form.save(commit=False)
        try:
            services.chart_record_save(
                client=client,
                record=record,
                by=user,
                summary=f"{label} added",
                submission_key=submission_key,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{label} added.")
            return redirect("client_chart", client.pk)
    context = {"form": form, "label": label, "submission_key": submission_key}
    return _chart_page(request, "clients/record_form.html", client, context)


@login_required
@require_POST
def flag_resolve(request: HttpRequest, client_id: int, flag_id: int) -> HttpResponse:
    user = _editor(request)
    client = access.client_or_404(user, client_id)
    flag = get_object_or_404(SafetyFlag, pk=flag_id, client=client)
    services.safety_flag_resolve(flag=flag, by=user)
    messages.success(request, "Flag removed. It stays in the chart's history.")
    return redirect("client_chart", client.pk)


@login_required
def care_team(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _editor(request)
    client = access.client_or_404(user, client_id)
    if request.method == "GET":
        services.audit_chart_read(user=user, client=client, what="care team")
    staff = _assignable_staff(user)
    today = client.agency.today()
    reassign = ReassignForm(
        request.POST if "reassign" in request.POST else None,
        staff=staff,
        initial={"effective": today},
    )
    add = CareTeamForm(
        request.POST if "add" in request.POST else None,
        staff=access.staff_in_agency(user).filter(is_active=True),
        initial={"start_on": today},
    )
    if request.method == "POST":
        try:
            if "reassign" in request.POST and reassign.is_valid():
                services.caseload_reassign(
                    client=client,
                    to=reassign.cleaned_data["to"],
                    effective=reassign.cleaned_data["effective"],
                    by=user,
                    reason=reassign.cleaned_data["reason"],
                )
                messages.success(request, "Reassigned.")
                return redirect("client_chart", client.pk)
            if "add" in request.POST and add.is_valid():
                services.care_team_add(
                    client=client,
                    staff=add.cleaned_data["staff"],
                    role=add.cleaned_data["role"],
                    start_on=add.cleaned_data["start_on"],
                    by=user,
                )
                messages.success(request, "Added to the care team.")
                return redirect("client_chart", client.pk)
        except (services.ClientError, ValidationError) as error:
            messages.error(
                request, str(error.messages[0] if isinstance(error, ValidationError) else error)
            )
    context = {
        "reassign": reassign,
        "add": add,
        "history": selectors.care_team_history(client=client),
    }
    return _chart_page(request, "clients/care_team.html", client, context)


@login_required
@require_POST
def care_team_leave(request: HttpRequest, client_id: int, member_id: int) -> HttpResponse:
    user = _editor(request)
    client = access.client_or_404(user, client_id)
    member = get_object_or_404(
        CareTeamMember.objects.select_related("staff", "client"), pk=member_id, client=client
    )
    try:
        services.care_team_end(member=member, end_on=client.agency.today(), by=user)
    except services.ClientError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{member.staff.full_name} is off the care team from today.")
    return redirect("client_care_team", client.pk)


@login_required
@require_POST
def break_glass_reviewed(request: HttpRequest, grant_id: int) -> HttpResponse:
    user = _user(request)
    grant = get_object_or_404(BreakGlassAccess, pk=grant_id, agency_id=access.agency_id_of(user))
    try:
        services.break_glass_review(grant=grant, by=user)
    except services.ClientError as error:
        messages.error(request, str(error))
    return redirect("home")


@login_required
def client_merge(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.may_merge_clients(user):
        raise PermissionDenied("Only agency admins can merge records.")
    form = MergeForm(request.POST or None, initial=request.GET)
    if request.method == "POST" and form.is_valid():
        visible = access.visible_clients(user)  # type: ignore[arg-type]
        survivor = visible.filter(
            record_number__iexact=form.cleaned_data["survivor"].strip()
        ).first()
        duplicate = visible.filter(
            record_number__iexact=form.cleaned_data["duplicate"].strip()
        ).first()
        if survivor is None:
            form.add_error("survivor", "No record with that number in your agency.")
        if duplicate is None:
            form.add_error("duplicate", "No record with that number in your agency.")
        if survivor and duplicate:
            try:
                services.client_merge(survivor=survivor, duplicate=duplicate, by=user)  # type: ignore[arg-type]
            except services.ClientError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, f"{duplicate.record_number} was merged into {survivor.record_number}."
                )
                return redirect("client_chart", survivor.pk)
    return render(request, "clients/merge.html", {"form": form})
