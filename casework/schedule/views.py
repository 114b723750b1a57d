"""Booking pages: a new appointment, its page with the outcome buttons, changing it.

The calendars are in `views_calendar.py`; cars, rooms, holidays and the feed in `views_setup.py`.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from casework.clients.models import CareTeamMember, Client
from casework.core import access
from casework.core.models import Role, User
from casework.notes.selectors import notes_visible
from casework.schedule import outcomes, selectors, services
from casework.schedule.forms import (
    AppointmentForm,
    ConfirmForm,
    EditScopeForm,
    OutcomeForm,
    RepeatForm,
)
from casework.schedule.models import Appointment, Resource
from casework.schedule.recurrence import rule_described, rule_from_choices
from casework.schedule.views_calendar import Entry, agency_tz, entries_for, scheduler
from casework.worklist.models import Task

# A service's field name → the form field where its message belongs.
FIELD_OF = {
    "start_at": "start_time",
    "end_at": "end_time",
    "external_start_at": "external_start_time",
    "external_end_at": "external_end_time",
    "legs": "leg1_miles",
    "rule": "repeat",
    "frequency": "repeat",
    "interval": "repeat",
    "expected_version": "version",
}
REPEAT_RULES = {
    # repeat choice → (frequency, interval) for recurrence.rule_from_choices
    "weekdays": ("weekdays", 1),
    "weekly": ("weekly", 1),
    "biweekly": ("weekly", 2),
    "monthly": ("monthly", 1),
}


# ---------------------------------------------------------------------------- booking


def _staff_choices(user: User) -> QuerySet[User]:
    """Whom the user may book: themselves; a supervisor also the team; an admin, caseload staff."""
    staff = access.staff_in_agency(user).filter(is_active=True)
    if user.has_role(Role.AGENCY_ADMIN):
        mine = Q(role_rows__role__in=[Role.CASE_MANAGER, Role.SUPERVISOR]) | Q(pk=user.pk)
    else:
        mine = Q(pk=user.pk) | Q(pk__in=access.supervised_staff_ids(user))
    return staff.filter(mine).distinct().order_by("last_name", "first_name")


def _client_choices(user: User, selected: Iterable[Any]) -> QuerySet[Client]:
    """The boxes offered: the user's own caseload, plus any client already chosen."""
    assert user.agency is not None
    caseload = CareTeamMember.objects.filter(
        CareTeamMember.active_on(user.agency.today()), staff=user, agency=user.agency
    ).values("client_id")
    ids = [int(pk) for pk in selected if str(pk).isdigit()]
    return (
        access.visible_clients(user)
        .filter(Q(pk__in=caseload) | Q(pk__in=ids))
        .order_by("legal_last_name", "legal_first_name")
    )


def _appointment_form(
    user: User, data: QueryDict | None, initial: dict[str, Any], **kwargs: Any
) -> AppointmentForm:
    selected = data.getlist("clients") if data is not None else initial.get("clients", [])
    assert user.agency is not None
    return AppointmentForm(
        data,
        initial=initial,
        clients=access.visible_clients(user),
        client_choices=_client_choices(user, selected),
        staff=_staff_choices(user),
        resources=Resource.objects.filter(agency=user.agency, is_active=True),
        **kwargs,
    )


def _local(day: datetime.date, time: datetime.time | None, tz: Any) -> datetime.datetime | None:
    if time is None:
        return None
    return datetime.datetime.combine(day, time, tzinfo=tz).astimezone(datetime.UTC)


def _input(form: AppointmentForm, user: User) -> services.AppointmentInput:
    data, tz = form.cleaned_data, agency_tz(user)
    day = data["day"]
    start_at, end_at = _local(day, data["start_time"], tz), _local(day, data["end_time"], tz)
    assert start_at is not None and end_at is not None
    return services.AppointmentInput(
        kind=data["kind"],
        staff=data["staff"],
        clients=list(data["clients"]),
        start_at=start_at,
        end_at=end_at,
        place_type=data["place_type"],
        place=data["place"],
        purpose=data["purpose"],
        resource=data["resource"],
        external_with=data["external_with"],
        external_place=data["external_place"],
        external_start_at=_local(day, data["external_start_time"], tz),
        external_end_at=_local(day, data["external_end_time"], tz),
        legs=form.legs(),
    )


def _rule(repeat: RepeatForm) -> str:
    data = repeat.cleaned_data
    if data["repeat"] == "none":
        return ""
    frequency, interval = REPEAT_RULES[data["repeat"]]
    return rule_from_choices(
        frequency=frequency,
        weekdays=list(data["weekdays"]) if frequency == "weekly" else [],
        interval=interval,
        until=data["until"] if data["ends"] == "until" else None,
        count=data["count"] if data["ends"] == "count" else None,
    )


def _add_error(error: services.ScheduleError, form: Any, *others: Any) -> None:
    """Put the service's message on the field it names, in whichever form has that field."""
    name = FIELD_OF.get(error.field or "", error.field or "")
    for candidate in (form, *others):
        if candidate is not None and name in candidate.fields:
            candidate.add_error(name, str(error))
            return
    form.add_error(None, str(error))


def _warnings(form: AppointmentForm, user: User) -> list[str]:
    if not form.is_valid():
        return []
    return list(services.appointment_warnings(data=_input(form, user)))


@login_required
def appointment_new(request: HttpRequest) -> HttpResponse:
    user = scheduler(request)
    assert user.agency is not None
    initial: dict[str, Any] = {
        "submission_key": uuid.uuid4().hex,
        "staff": user.pk,
        "day": user.agency.today(),
        "place_type": "client_home",
    }
    with contextlib.suppress(ValueError):
        initial["day"] = datetime.date.fromisoformat(request.GET.get("date", ""))
    prefill = request.GET.get("client", "")
    if prefill:
        initial["clients"] = [access.client_or_404(user, prefill).pk]
    data = request.POST if request.method == "POST" else None
    form = _appointment_form(user, data, initial)
    repeat = RepeatForm(data)
    confirm = ConfirmForm(data)
    conflicts: list[Any] = []
    if data is not None and form.is_valid() and repeat.is_valid() and confirm.is_valid():
        try:
            appointment = services.appointment_create(
                data=_input(form, user),
                by=user,
                rule=_rule(repeat),
                skip_holidays=repeat.cleaned_data["skip_holidays"],
                confirm_conflicts=confirm.cleaned_data["confirm_conflicts"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except services.ScheduleConflict as clash:
            conflicts = list(clash.conflicts)
        except services.ScheduleError as error:
            _add_error(error, form, repeat)
        else:
            for warning in _warnings(form, user):
                messages.warning(request, warning)
            messages.success(request, "Appointment booked.")
            return redirect("appointment_detail", appointment.pk)
    context = {
        "form": form,
        "repeat_form": repeat,
        "confirm_form": confirm,
        "conflicts": _conflict_rows(user, conflicts),
        "warnings": _warnings(form, user) if data is not None else [],
    }
    failed = data is not None
    return render(request, "schedule/form.html", context, status=400 if failed else 200)


def _conflict_rows(user: User, conflicts: list[Any]) -> list[tuple[Entry, str]]:
    """The clashing appointments, named only as far as the user may see their clients."""
    if not conflicts:
        return []
    entries = entries_for(user, [c.appointment for c in conflicts])
    return [(entry, c.reason) for entry, c in zip(entries, conflicts, strict=True)]


# ---------------------------------------------------------------------------- one appointment


def _input_of(appointment: Appointment) -> services.AppointmentInput:
    return services.AppointmentInput(
        kind=appointment.kind,
        staff=appointment.staff,
        clients=list(appointment.clients.all()),
        start_at=appointment.start_at,
        end_at=appointment.end_at,
        place_type=appointment.place_type,
        place=appointment.place,
        purpose=appointment.purpose,
        resource=appointment.resource,
        external_with=appointment.external_with,
        external_place=appointment.external_place,
        external_start_at=appointment.external_start_at,
        external_end_at=appointment.external_end_at,
        legs=[(leg.purpose, leg.miles) for leg in appointment.legs.all()],
    )


@login_required
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = scheduler(request)
    appointment = selectors.appointment_or_404(user, appointment_id)
    entry = entries_for(user, [appointment])[0]
    legs = list(appointment.legs.all())
    # Only what is about clients the viewer may see: a group can hold others' clients.
    shown = _input_of(appointment)
    shown.clients = entry.clients
    context = {
        "a": appointment,
        "entry": entry,
        "legs": legs,
        "total_miles": sum((leg.miles for leg in legs), start=Decimal("0")),
        "tasks": Task.objects.filter(appointment=appointment, agency_id=appointment.agency_id)
        .filter(Q(client__isnull=True) | Q(client__in=access.visible_clients(user)))
        .select_related("assignee"),
        "notes": notes_visible(user).filter(appointment=appointment).select_related("client"),
        "warnings": (
            services.appointment_warnings(data=shown)
            if appointment.status == Appointment.Status.SCHEDULED
            else []
        ),
        "outcome_form": OutcomeForm(),
        "repeats": rule_described(
            appointment.series.rule,
            appointment.series.first_start.astimezone(agency_tz(user)).date(),
        )
        if appointment.series
        else "",
    }
    return render(request, "schedule/detail.html", context)


@login_required
@require_POST
def appointment_outcome(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = scheduler(request)
    appointment = selectors.appointment_or_404(user, appointment_id)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what happened: attended, no-show or cancelled (by whom).")
        return redirect("appointment_detail", appointment.pk)
    data = form.cleaned_data
    try:
        outcomes.appointment_outcome(
            appointment=appointment,
            by=user,
            status=data["status"],
            cancelled_by=data["cancelled_by"],
            reason=data["reason"],
        )
    except services.ScheduleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            {
                Appointment.Status.ATTENDED: "Marked attended. Write the note while it is fresh.",
                Appointment.Status.NO_SHOW: "Marked as a no-show; a follow-up task is on your day.",
                Appointment.Status.CANCELLED: "Marked cancelled.",
            }[data["status"]],
        )
    return redirect("appointment_detail", appointment.pk)


@login_required
def appointment_edit(request: HttpRequest, appointment_id: int) -> HttpResponse:
    user = scheduler(request)
    appointment = selectors.appointment_or_404(user, appointment_id)
    data = request.POST if request.method == "POST" else None
    form = _appointment_form(user, data, AppointmentForm.initial_for(appointment, agency_tz(user)))
    del form.fields["submission_key"]
    scope = EditScopeForm(data) if appointment.series_id else None
    confirm = ConfirmForm(data)
    conflicts: list[Any] = []
    stale = False
    if request.method == "GET":
        entries_for(user, [appointment])  # the form names the clients: a chart read
    if data is not None and form.is_valid() and confirm.is_valid():
        if form.cleaned_data["version"] != appointment.version:
            # Someone saved in between: keep what was typed, and let a second save, made
            # having seen the news, go through.
            stale = True
            typed = request.POST.copy()
            typed["version"] = str(appointment.version)
            form.data = typed
        elif scope is None or scope.is_valid():
            try:
                services.appointment_update(
                    appointment=appointment,
                    data=_input(form, user),
                    by=user,
                    expected_version=form.cleaned_data["version"],
                    scope=scope.cleaned_data["scope"] if scope is not None else "this",
                    confirm_conflicts=confirm.cleaned_data["confirm_conflicts"],
                )
            except services.ScheduleConflict as clash:
                conflicts = list(clash.conflicts)
            except services.ScheduleError as error:
                _add_error(error, form, scope)
            else:
                for warning in _warnings(form, user):
                    messages.warning(request, warning)
                messages.success(request, "Appointment changed.")
                return redirect("appointment_detail", appointment.pk)
    context = {
        "a": appointment,
        "form": form,
        "scope_form": scope,
        "confirm_form": confirm,
        "conflicts": _conflict_rows(user, conflicts),
        "warnings": _warnings(form, user) if data is not None else [],
        "stale": stale,
    }
    return render(request, "schedule/form.html", context, status=400 if data is not None else 200)
