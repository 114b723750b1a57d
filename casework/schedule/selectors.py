"""Reads of the schedule, always scoped by the access layer.

A person sees their own appointments; a supervisor those of the teams they supervise; an agency
admin everyone's. Any appointment with a client the person may see is visible too (the client's
schedule on the chart). Each read is a fixed number of queries, however full the calendar.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from casework.clients.models import Client
from casework.core import access
from casework.core.models import User
from casework.schedule.models import Appointment, AppointmentClient


def _tz(user: User) -> ZoneInfo:
    return user.agency.tzinfo if user.agency is not None else ZoneInfo("UTC")


def _local_range(
    tz: ZoneInfo, start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """From local midnight of `start` to local midnight after `end` (both dates included)."""
    first = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    after = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return first, after


def with_details(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """Everything a calendar shows about an appointment, in a fixed number of queries."""
    return appointments.select_related("staff", "resource", "series").prefetch_related(
        Prefetch("clients", queryset=Client.objects.order_by("legal_last_name", "id")),
        "legs",
    )


def staff_scope(user: User) -> Q:
    """Whose appointments the user sees by staff member: their own, their teams', or all."""
    if access.may_manage_staff(user):
        return Q()
    return Q(staff_id=user.pk) | Q(staff_id__in=access.supervised_staff_ids(user))


def appointments_visible(user: User) -> QuerySet[Appointment]:
    """Appointments of staff in the user's scope, or with a client the user may see."""
    agency_id = access.agency_id_of(user)
    if not user.is_active:
        return Appointment.objects.none()
    if access.may_manage_staff(user):
        return Appointment.objects.filter(agency_id=agency_id)
    with_my_clients = AppointmentClient.objects.filter(
        agency_id=agency_id, client__in=access.visible_clients(user)
    ).values("appointment_id")
    return Appointment.objects.filter(agency_id=agency_id).filter(
        staff_scope(user) | Q(id__in=with_my_clients)
    )


def appointments_for_staff(
    *, user: User, staff_ids: Iterable[int], start: datetime.date, end: datetime.date
) -> QuerySet[Appointment]:
    """The staff members' appointments starting on local dates `start`..`end` (inclusive).

    Staff outside the user's scope (not themselves, not supervised, user not an admin) are
    left out silently. Clients, staff, resource and legs come prefetched.
    """
    agency_id = access.agency_id_of(user)
    first, after = _local_range(_tz(user), start, end)
    return with_details(
        Appointment.objects.filter(
            staff_scope(user),
            agency_id=agency_id,
            staff_id__in=list(staff_ids),
            start_at__gte=first,
            start_at__lt=after,
        ).order_by("start_at", "id")
    )


def appointments_for_client(
    *, user: User, client: Client, start: datetime.date, end: datetime.date
) -> QuerySet[Appointment]:
    """The client's appointments on local dates `start`..`end`; none if the user may not see them."""
    agency_id = access.agency_id_of(user)
    first, after = _local_range(_tz(user), start, end)
    visible = AppointmentClient.objects.filter(
        agency_id=agency_id,
        client_id=client.pk,
        client__in=access.visible_clients(user),
    ).values("appointment_id")
    return with_details(
        Appointment.objects.filter(
            agency_id=agency_id, id__in=visible, start_at__gte=first, start_at__lt=after
        ).order_by("start_at", "id")
    )


def appointment_or_404(user: User, appointment_id: int | str) -> Appointment:
    """The appointment if the user may see it (its staff or one of its clients); else 404."""
    try:
        return with_details(appointments_visible(user)).get(pk=int(appointment_id))
    except (ValueError, TypeError, Appointment.DoesNotExist):
        raise Http404("No such appointment.") from None


def todays_appointments(*, user: User, today: datetime.date | None = None) -> list[Appointment]:
    """My day: the user's own appointments today (local), any status (two queries)."""
    if user.agency is None:
        return []
    today = today or user.agency.today()
    first, after = _local_range(_tz(user), today, today)
    return list(
        Appointment.objects.filter(
            agency_id=user.agency.pk, staff=user, start_at__gte=first, start_at__lt=after
        )
        .select_related("resource")
        .prefetch_related(
            Prefetch("clients", queryset=Client.objects.order_by("legal_last_name", "id"))
        )
        .order_by("start_at", "id")
    )


@dataclass
class DayColumn:
    """One local date of a calendar, with its appointments in start order."""

    day: datetime.date
    appointments: list[Appointment] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.appointments


def day_columns(
    appointments: Iterable[Appointment], *, tz: ZoneInfo, start: datetime.date, days: int = 7
) -> list[DayColumn]:
    """Group appointments by the local date they start on, one column per day from `start`.

    Appointments outside the days are left out. Pure: no queries beyond iterating the input.
    """
    columns = [DayColumn(start + datetime.timedelta(days=offset)) for offset in range(days)]
    by_day: dict[datetime.date, DayColumn] = {column.day: column for column in columns}
    for appointment in sorted(appointments, key=_start_order):
        column = by_day.get(appointment.start_at.astimezone(tz).date())
        if column is not None:
            column.appointments.append(appointment)
    return columns


def _start_order(appointment: Appointment) -> Any:
    return (appointment.start_at, appointment.pk or 0)


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of the week `day` is in."""
    return day - datetime.timedelta(days=day.weekday())


@dataclass
class ClientAppointmentCard:
    """The chart's appointments section: the next few and the last one the client missed."""

    upcoming: list[Appointment]
    last_missed: Appointment | None


def client_appointment_card(*, user: User, client: Client, limit: int = 5) -> ClientAppointmentCard:
    """Three queries, however many appointments the client has had."""
    agency_id = access.agency_id_of(user)
    mine = AppointmentClient.objects.filter(agency_id=agency_id, client_id=client.pk).values(
        "appointment_id"
    )
    appointments = Appointment.objects.filter(agency_id=agency_id, id__in=mine)
    upcoming = list(
        appointments.filter(start_at__gte=timezone.now(), status=Appointment.Status.SCHEDULED)
        .select_related("staff")
        .order_by("start_at", "id")[:limit]
    )
    # Read from the client's side: ordered on the appointment, PostgreSQL would walk the whole
    # agency's appointments backwards (200 ms for a chart of 1,000 visits; docs/PERFORMANCE.md).
    missed_row = (
        AppointmentClient.objects.filter(agency_id=agency_id, client_id=client.pk)
        .filter(
            Q(appointment__status=Appointment.Status.NO_SHOW)
            | Q(
                appointment__status=Appointment.Status.CANCELLED,
                appointment__cancelled_by=Appointment.CancelledBy.CLIENT,
            )
        )
        .select_related("appointment")
        .order_by("-appointment__start_at", "-appointment_id")
        .first()
    )
    missed = missed_row.appointment if missed_row else None
    return ClientAppointmentCard(upcoming, missed)
