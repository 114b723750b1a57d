"""My day and its actions: tasks made, done, snoozed and reassigned; derived items snoozed."""

from __future__ import annotations

import datetime
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from casework.coordination import selectors_collaboration as collaboration
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.models import Role, User
from casework.core.selectors import agency_credentials_expiring
from casework.schedule.views_calendar import Entry, appointment_entries
from casework.worklist import board, selectors, services
from casework.worklist.forms import ReassignForm, SnoozeForm, TaskForm
from casework.worklist.models import Snooze
from casework.worklist.priority import WorkItem

FIRST_ITEMS = 30  # the rest is one click away: a page of 100 items helps no one decide


def _member(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.agency is None:
        raise PermissionDenied("You are not a member of an agency.")
    return user


def _changer(request: HttpRequest) -> User:
    """Someone who may change their My day: everyone but auditors, who read and never act."""
    user = _member(request)
    if not access.may_change_records(user):
        raise PermissionDenied("Your role reads; it does not change tasks or My day.")
    return user


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("home")


def _task_form(request: HttpRequest, user: User, data: object = None) -> TaskForm:
    """The team's clients to choose from (a whole agency would be thousands), plus the one the
    form was opened for from a chart."""
    chosen = (data or request.GET).get("client", "")  # type: ignore[attr-defined]
    clients = access.visible_clients(user).filter(
        Q(id__in=access.clients_in_scope(user).values("id"))
        if user.has_role(*access.CASELOAD_ROLES)
        else Q(pk__in=[])
    )
    if str(chosen).isdigit():
        clients = clients | access.visible_clients(user).filter(pk=int(chosen))
    return TaskForm(
        data,
        clients=clients.order_by("legal_last_name", "legal_first_name"),
        assignees=selectors.task_assignees(user),
        initial={"assignee": user.pk, "submission_key": uuid.uuid4().hex, "client": chosen},
    )


@login_required
@require_safe
def my_day(request: HttpRequest) -> HttpResponse:
    """The page that opens on sign-in: today's appointments, then everything else, ranked.
    The day of a colleague the user covers for follows on its own request (`my_day_cover`),
    so that the user's own day is on screen first."""
    user = _member(request)
    day = selectors.my_day(
        user=user, everything=request.GET.get("show") == "all", limit=FIRST_ITEMS
    )
    # A group may hold clients the user may not see: name only the visible ones.
    appointments = appointment_entries(user, day.appointments)
    _audit_shown(user, day.items, appointments, "my_day")
    assert user.agency is not None
    covering = [
        {"coverage": coverage, "until": collaboration.last_day(coverage, user.agency.tzinfo)}
        for coverage in collaboration.covering_now(user=user)
    ]
    return render(
        request,
        "worklist/my_day.html",
        {
            "day": day,
            "appointments": appointments,
            "covering": covering,
            "today": day.today,
            "may_add_tasks": access.may_write_notes(user),
            "snooze_default": day.today + datetime.timedelta(days=1),
            "my_clients": day.caseload,
            "agency_credentials": agency_credentials_expiring(user=user, today=day.today),
            "supervises": user.has_role(Role.SUPERVISOR, Role.AGENCY_ADMIN),
        },
    )


def _audit_shown(
    user: User, items: list[WorkItem], appointments: list[Entry], section: str
) -> None:
    """One audit entry per client the page names, in one write."""
    named = {item.client.pk for item in items if item.client is not None}
    named |= {client.pk for entry in appointments for client in entry.clients}
    audit_reads(actor=user, client_ids=sorted(named), section=section)


@login_required
@require_safe
@vary_on_headers("HX-Request")  # the fragment and the page share the address
def my_day_cover(request: HttpRequest, coverage_id: int) -> HttpResponse:
    """The day of a colleague the user covers for: their appointments and what needs doing
    for their clients. My day loads it into its section; on its own it is a page."""
    user = _member(request)
    now = timezone.now()
    coverage = selectors.cover_or_404(user, coverage_id, now)
    section = selectors.cover_section(user, coverage, now, limit=FIRST_ITEMS)
    appointments = appointment_entries(user, section.appointments)
    _audit_shown(user, section.items, appointments, "my_day_cover")
    template = "worklist/_cover_day.html" if request.htmx else "worklist/cover_day.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {
            "section": section,
            "appointments": appointments,
            "today": now.astimezone(user.agency.tzinfo).date(),  # type: ignore[union-attr]
        },
    )


@login_required
def task_new(request: HttpRequest) -> HttpResponse:
    user = _member(request)
    if not access.may_write_notes(user):
        raise PermissionDenied("Your role does not take client work.")
    if request.method != "POST":
        form = _task_form(request, user)
        return render(request, "worklist/task_new.html", {"form": form})
    form = _task_form(request, user, request.POST)
    if form.is_valid():
        try:
            services.task_create(
                assignee=form.cleaned_data["assignee"],
                title=form.cleaned_data["title"],
                by=user,
                client=form.cleaned_data["client"],
                reason=form.cleaned_data["reason"],
                due_on=form.cleaned_data["due_on"],
                urgent=form.cleaned_data["urgent"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except services.TaskError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, "Task added.")
            return _back(request)
    return render(request, "worklist/task_new.html", {"form": form}, status=400)


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """A task with its whole history: who made it, snoozed it, gave it on, finished it."""
    user = _member(request)
    task = selectors.task_or_404(user, task_id)
    if task.client_id:
        audit_reads(actor=user, client_ids=[task.client_id], section="task")
    return render(
        request,
        "worklist/task_detail.html",
        {
            "task": task,
            "events": task.events.select_related("by"),
            "reassign_form": ReassignForm(assignees=selectors.task_assignees(user)),
            "snooze_form": SnoozeForm(),
            "today": user.agency.today() if user.agency else None,
        },
    )


def _task_action(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    user = _changer(request)
    task = selectors.task_or_404(user, task_id)
    try:
        if action == "done":
            services.task_done(task=task, by=user)
            messages.success(request, f"Done: {task.title}")
        elif action == "reopen":
            services.task_reopen(task=task, by=user)
        elif action == "snooze":
            form = SnoozeForm(request.POST)
            if not form.is_valid():
                raise services.TaskError("Choose the day it should come back.")
            services.task_snooze(task=task, by=user, until=form.cleaned_data["until"])
            messages.success(request, f"Snoozed until {form.cleaned_data['until']:%-d %b}.")
        else:
            reassign = ReassignForm(request.POST, assignees=selectors.task_assignees(user))
            if not reassign.is_valid():
                raise services.TaskError("Choose someone on your team.")
            services.task_reassign(task=task, by=user, to=reassign.cleaned_data["to"])
            messages.success(request, f"Given to {reassign.cleaned_data['to'].full_name}.")
    except services.TaskError as error:
        messages.error(request, str(error))
    return _back(request)


@login_required
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(request, task_id, "done")


@login_required
@require_POST
def task_reopen(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(request, task_id, "reopen")


@login_required
@require_POST
def task_snooze(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(request, task_id, "snooze")


@login_required
@require_POST
def task_reassign(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_action(request, task_id, "reassign")


@login_required
@require_POST
def item_snooze(request: HttpRequest) -> HttpResponse:
    """Snooze a derived item (a note to sign, a plan due…) by its key."""
    user = _changer(request)
    form = SnoozeForm(request.POST)
    if form.is_valid() and form.cleaned_data["item_key"]:
        try:
            services.item_snooze(
                user=user,
                item_key=form.cleaned_data["item_key"],
                until=form.cleaned_data["until"],
                label=form.cleaned_data["label"],
            )
        except services.TaskError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Snoozed until {form.cleaned_data['until']:%-d %b}.")
    else:
        messages.error(request, "Choose the day it should come back.")
    return _back(request)


@login_required
@require_safe
def put_aside(request: HttpRequest) -> HttpResponse:
    """What the user snoozed or finished lately: nothing leaves My day without a trace."""
    user = _member(request)
    aside = selectors.put_aside(user=user)
    client_ids = sorted({t.client_id for t in aside.tasks if t.client_id})
    audit_reads(actor=user, client_ids=client_ids, section="my_day_put_aside")
    return render(request, "worklist/put_aside.html", {"aside": aside})


@login_required
@require_POST
def item_bring_back(request: HttpRequest, snooze_id: int) -> HttpResponse:
    user = _changer(request)
    snooze = get_object_or_404(Snooze, pk=snooze_id, user=user)
    services.item_bring_back(user=user, snooze=snooze)
    messages.success(request, "It is back on My day.")
    return redirect("put_aside")


@login_required
def team_board(request: HttpRequest) -> HttpResponse:
    """The supervisor's board: each team member's day, overdue work and caseload load."""
    user = _member(request)
    rows = board.team_board(user=user)
    if rows is None:
        raise PermissionDenied("The team board is for supervisors and admins.")
    named = {t.client_id for row in rows for t in row.overdue_tasks if t.client_id}
    audit_reads(actor=user, client_ids=sorted(named), section="team_board")
    return render(
        request,
        "worklist/team_board.html",
        {
            "rows": rows,
            "assignees": selectors.task_assignees(user),
            "any_overdue": any(row.overdue_tasks for row in rows),
        },
    )
