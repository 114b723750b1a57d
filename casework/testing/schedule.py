"""Appointments for tests, made through the services (so they are checked and audited)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from casework.clients.models import Client
from casework.core.models import Agency, User
from casework.schedule import services
from casework.schedule.models import Appointment, AppointmentKind, PlaceType, Resource
from casework.testing.personas import Cast

PLACE_FOR_KIND = {
    AppointmentKind.HOME_VISIT: PlaceType.CLIENT_HOME,
    AppointmentKind.OFFICE: PlaceType.OFFICE,
    AppointmentKind.TRANSPORT: PlaceType.CLINIC,
    AppointmentKind.ERRAND: PlaceType.COMMUNITY,
    AppointmentKind.PHONE_VIDEO: PlaceType.REMOTE,
    AppointmentKind.GROUP: PlaceType.OFFICE,
    AppointmentKind.PROVIDER_MEETING: PlaceType.CLINIC,
}


def local(agency: Agency, day: datetime.date, clock: str = "10:00") -> datetime.datetime:
    """A wall-clock time in the agency's zone, as an aware datetime ("10:00" on `day`)."""
    hour, minute = (int(part) for part in clock.split(":"))
    naive = datetime.datetime.combine(day, datetime.time(hour, minute))
    return naive.replace(tzinfo=agency.tzinfo)


def days_from_today(agency: Agency, days: int, clock: str = "10:00") -> datetime.datetime:
    """`clock` local time, `days` days from the agency's today (negative for the past)."""
    return local(agency, agency.today() + datetime.timedelta(days=days), clock)


def two_hours_ago() -> datetime.datetime:
    return (timezone.now() - datetime.timedelta(hours=2)).replace(second=0, microsecond=0)


def appointment_input(
    cast: Cast,
    *,
    start: datetime.datetime | None = None,
    minutes: int = 60,
    kind: str = AppointmentKind.HOME_VISIT,
    staff: User | None = None,
    clients: list[Client] | None = None,
    **fields: Any,
) -> services.AppointmentInput:
    """A one-hour appointment of the cast's case manager with their client, tomorrow at 10:00
    unless told otherwise; the place, by default, fits the kind (a typed address for visits)."""
    start = start or days_from_today(cast.agency, 1)
    fields.setdefault("place_type", PLACE_FOR_KIND[AppointmentKind(kind)])
    if kind == AppointmentKind.HOME_VISIT:
        fields.setdefault("place", "12 Elm St")
    return services.AppointmentInput(
        kind=kind,
        staff=staff or cast.case_manager,
        clients=[cast.client] if clients is None else clients,
        start_at=start,
        end_at=start + datetime.timedelta(minutes=minutes),
        **fields,
    )


def appointment_for(
    cast: Cast,
    *,
    start: datetime.datetime | None = None,
    minutes: int = 60,
    kind: str = AppointmentKind.HOME_VISIT,
    by: User | None = None,
    rule: str = "",
    confirm_conflicts: bool = True,
    **fields: Any,
) -> Appointment:
    """An appointment booked through `appointment_create` (conflicts confirmed by default)."""
    data = appointment_input(cast, start=start, minutes=minutes, kind=kind, **fields)
    return services.appointment_create(
        data=data,
        by=by or data.staff,
        rule=rule,
        confirm_conflicts=confirm_conflicts,
    )


def past_appointment_for(cast: Cast, **fields: Any) -> Appointment:
    """A one-hour appointment that started two hours ago (ready for an outcome)."""
    fields.setdefault("start", two_hours_ago())
    return appointment_for(cast, **fields)


def input_of(appointment: Appointment) -> services.AppointmentInput:
    """The appointment as the form would send it back unchanged (for update tests)."""
    legs = [(leg.purpose, leg.miles) for leg in appointment.legs.all()]
    return services.AppointmentInput(
        kind=appointment.kind,
        staff=appointment.staff,
        clients=list(appointment.clients.order_by("id")),
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
        legs=legs,
    )


def vehicle(agency: Agency, name: str = "Blue Corolla") -> Resource:
    return Resource.objects.create(agency=agency, kind=Resource.Kind.VEHICLE, name=name)
