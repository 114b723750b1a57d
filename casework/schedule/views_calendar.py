"""Calendar pages: my week or day, a team's (a row for each member), a client's.

Each shows times in the agency's zone, names only the clients the viewer may see, audits a
read of each one named, and costs the same number of queries however full the week.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from casework.clients.models import Client
from casework.clients.selectors import client_flags
from casework.clients.services import audit_chart_read
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.models import Role, TeamMembership, User
from casework.schedule import selectors
from casework.schedule.models import Appointment


def scheduler(request: HttpRequest) -> User:
    """Case managers, supervisors and admins keep schedules; billing and auditors do not."""
    if not access.may_write_notes(request.user):
        raise PermissionDenied("Your role does not keep a schedule.")
    return request.user  # type: ignore[return-value]


def agency_tz(user: User) -> datetime.tzinfo:
    assert user.agency is not None  # scheduler refuses anyone without an agency
    return user.agency.tzinfo


@dataclass
class Entry:
    """One appointment as a calendar shows it: only the clients the viewer may see are named."""

    appointment: Appointment
    clients: list[Client]
    other_clients: int


@dataclass
class Day:
    day: datetime.date
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Period:
    """The days a calendar page shows, with its previous/next/today links."""

    view: str
    days: list[datetime.date]
    previous: datetime.date
    next: datetime.date
    today: datetime.date

    @property
    def first(self) -> datetime.date:
        return self.days[0]

    @property
    def last(self) -> datetime.date:
        return self.days[-1]


FARTHEST_DAYS = 3 * 366


def _period(request: HttpRequest, user: User) -> Period:
    assert user.agency is not None
    today = user.agency.today()
    view = "day" if request.GET.get("view") == "day" else "week"
    try:
        anchor = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        anchor = today
    if abs((anchor - today).days) > FARTHEST_DAYS:  # and no arithmetic past year 9999
        anchor = today
    if view == "day":
        days, step = [anchor], datetime.timedelta(days=1)
    else:
        monday = anchor - datetime.timedelta(days=anchor.weekday())
        days, step = [monday + datetime.timedelta(days=n) for n in range(7)], datetime.timedelta(7)
    return Period(view, days, days[0] - step, days[0] + step, today)


def entries_for(
    user: User, appointments: Iterable[Appointment], audited: frozenset[int] = frozenset()
) -> list[Entry]:
    """Wrap appointments for display and audit the reading of every client named (unless
    `audited` already), in a fixed number of queries."""
    entries = appointment_entries(user, appointments)
    named = {client.pk for entry in entries for client in entry.clients}
    audit_reads(actor=user, client_ids=sorted(named - audited), section="schedule")
    return entries


def appointment_entries(user: User, appointments: Iterable[Appointment]) -> list[Entry]:
    """Appointments for display, naming only the clients the user may see (one query); the
    caller audits the names shown."""
    appointments = list(appointments)
    all_ids = {c.pk for a in appointments for c in a.clients.all()}
    visible = (
        set(access.visible_clients(user).filter(pk__in=all_ids).values_list("pk", flat=True))
        if all_ids
        else set()
    )
    entries = []
    for a in appointments:
        shown = [c for c in a.clients.all() if c.pk in visible]
        entries.append(Entry(a, shown, len(a.clients.all()) - len(shown)))
    return entries


def _by_day(period: Period, entries: list[Entry], tz: datetime.tzinfo) -> list[Day]:
    days = {d: Day(d) for d in period.days}
    for entry in entries:
        local = entry.appointment.start_at.astimezone(tz).date()
        if local in days:
            days[local].entries.append(entry)
    return list(days.values())


def _links(request: HttpRequest, period: Period) -> dict[str, str]:
    def url(day: datetime.date, view: str = period.view) -> str:
        return "?" + urlencode({"view": view, "date": day.isoformat()})

    return {
        "previous": url(period.previous),
        "next": url(period.next),
        "today": url(period.today),
        "day_view": url(period.first if period.view == "day" else period.today, "day"),
        "week_view": url(period.first, "week"),
    }


def _calendar(
    request: HttpRequest,
    user: User,
    period: Period,
    appointments: Iterable[Appointment],
    audited: frozenset[int] = frozenset(),
) -> dict[str, Any]:
    entries = entries_for(user, appointments, audited)
    return {
        "period": period,
        "days": _by_day(period, entries, agency_tz(user)),
        "entries": entries,
        "links": _links(request, period),
    }


@login_required
def my_schedule(request: HttpRequest) -> HttpResponse:
    user = scheduler(request)
    period = _period(request, user)
    appointments = selectors.appointments_for_staff(
        user=user, staff_ids=[user.pk], start=period.first, end=period.last
    )
    context = _calendar(request, user, period, appointments)
    context["teams"] = _supervised_teams(user)
    return render(request, "schedule/calendar.html", context)


def _supervised_teams(user: User) -> QuerySet[Any]:
    teams = access.teams_in_agency(user).filter(is_active=True).order_by("name")
    if user.has_role(Role.AGENCY_ADMIN):
        return teams
    return teams.filter(
        memberships__user=user, memberships__kind=TeamMembership.Kind.SUPERVISOR
    ).distinct()


@login_required
def team_schedule(request: HttpRequest, team_id: int) -> HttpResponse:
    """A supervisor's view of the team: one row for each member."""
    user = scheduler(request)
    team = get_object_or_404(access.teams_in_agency(user), pk=team_id)
    if not _supervised_teams(user).filter(pk=team.pk).exists():
        raise PermissionDenied("Only the team's supervisors and agency admins see its schedule.")
    members = list(
        User.objects.filter(team_memberships__team=team, is_active=True)
        .distinct()
        .order_by("last_name", "first_name")
    )
    period = _period(request, user)
    appointments = selectors.appointments_for_staff(
        user=user, staff_ids=[m.pk for m in members], start=period.first, end=period.last
    )
    context = _calendar(request, user, period, appointments)
    rows = {m.pk: {d: Day(d) for d in period.days} for m in members}
    tz = agency_tz(user)
    for entry in context["entries"]:
        local = entry.appointment.start_at.astimezone(tz).date()
        if entry.appointment.staff_id in rows and local in rows[entry.appointment.staff_id]:
            rows[entry.appointment.staff_id][local].entries.append(entry)
    context |= {
        "team": team,
        "rows": [(m, list(rows[m.pk].values())) for m in members],
    }
    return render(request, "schedule/team.html", context)


@login_required
def client_schedule(request: HttpRequest, client_id: int) -> HttpResponse:
    user = scheduler(request)
    client = access.client_or_404(user, client_id)
    period = _period(request, user)
    appointments = selectors.appointments_for_client(
        user=user, client=client, start=period.first, end=period.last
    )
    audit_chart_read(user=user, client=client, what="appointments")
    context = _calendar(request, user, period, appointments, audited=frozenset([client.pk]))
    context |= {"client": client, "flags": client_flags(client=client)}
    return render(request, "schedule/client.html", context)
