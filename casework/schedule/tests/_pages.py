"""Helpers for the schedule page tests: appointments put straight in the database, form data."""

from __future__ import annotations

import datetime
from typing import Any

from casework.clients.models import Client
from casework.core.models import User
from casework.schedule.models import Appointment, AppointmentClient


def at(user: User, day: datetime.date, clock: str) -> datetime.datetime:
    """A local wall-clock time in the user's agency, as an aware datetime."""
    assert user.agency is not None
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=user.agency.tzinfo)


def book(
    *,
    staff: User,
    clients: list[Client],
    day: datetime.date,
    start: str = "10:00",
    minutes: int = 60,
    **fields: Any,
) -> Appointment:
    start_at = at(staff, day, start)
    appointment = Appointment.objects.create(
        agency_id=staff.agency_id,
        kind=fields.pop("kind", "home_visit"),
        staff=staff,
        start_at=start_at,
        end_at=start_at + datetime.timedelta(minutes=minutes),
        place_type=fields.pop("place_type", "client_home"),
        created_by=staff,
        **fields,
    )
    for client in clients:
        AppointmentClient.objects.create(
            agency_id=staff.agency_id, appointment=appointment, client=client
        )
    return appointment


def form_data(
    *, staff: User, clients: list[Client], day: datetime.date, **overrides: Any
) -> dict[str, Any]:
    """What the new-appointment form posts for a plain one-hour home visit at 10:00."""
    data: dict[str, Any] = {
        "submission_key": "k-" + day.isoformat(),
        "kind": "home_visit",
        "clients": [c.pk for c in clients],
        "staff": staff.pk,
        "day": day.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "place_type": "client_home",
        "place": "",
        "purpose": "Check in",
        "resource": "",
        "external_with": "",
        "external_place": "",
        "external_start_time": "",
        "external_end_time": "",
        "repeat": "none",
        "ends": "never",
        "skip_holidays": "on",
    }
    for n in range(1, 5):
        data[f"leg{n}_purpose"] = ""
        data[f"leg{n}_miles"] = ""
    data.update(overrides)
    return data
