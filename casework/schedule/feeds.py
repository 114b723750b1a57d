"""The private iCalendar feed a staff member's phone subscribes to.

A phone calendar is not a secure place, so the feed says as little as it can: the kind of
appointment and the clients' initials (e.g. "Home visit, J.R."), the kind of place, never the
address, no description. The address carries a random token whose SHA-256 alone is stored; it
stops working when revoked, when the person is deactivated, or when the agency turns feeds off.
"""

from __future__ import annotations

import datetime

from django.db.models import Prefetch
from django.utils import timezone
from icalendar import Calendar, Event

from casework.clients.models import Client
from casework.schedule.models import Appointment, CalendarFeed
from casework.schedule.recurrence import HORIZON_DAYS
from casework.schedule.services_setup import token_hash

DAYS_BACK = 30
PRODID = "-//Casework//Schedule//EN"
EN_DASH = "\u2013"


def initials(client: Client) -> str:
    """ "J.R." from the name people use (preferred first name, last name)."""
    first = (client.preferred_name or client.legal_first_name).strip()
    last = client.legal_last_name.strip()
    return "".join(f"{part[0].upper()}." for part in (first, last) if part)


def summary(appointment: Appointment) -> str:
    kind = appointment.get_kind_display()
    people = ", ".join(initials(c) for c in appointment.clients.all())
    return f"{kind} {EN_DASH} {people}" if people else kind


def feed_calendar(*, token: str) -> bytes | None:
    """The iCalendar of the token's owner, 30 days back to the horizon; None if it is not live."""
    if not token or len(token) > 200:
        return None
    feed = (
        CalendarFeed.objects.select_related("user", "agency")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    user, agency = feed.user, feed.agency
    if not user.is_active or user.agency_id != agency.pk or not agency.calendar_feeds_enabled:
        return None
    now = timezone.now()
    appointments = (
        Appointment.objects.filter(
            agency=agency,
            staff=user,
            start_at__gte=now - datetime.timedelta(days=DAYS_BACK),
            start_at__lte=now + datetime.timedelta(days=HORIZON_DAYS + 1),
        )
        .only("id", "kind", "start_at", "end_at", "place_type", "status", "version", "updated_at")
        .prefetch_related(
            Prefetch(
                "clients",
                queryset=Client.objects.only(
                    "id", "preferred_name", "legal_first_name", "legal_last_name"
                ),
            )
        )
        .order_by("start_at", "id")
    )
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Casework")
    for appointment in appointments:
        calendar.add_component(_event(appointment, agency.pk))
    return bytes(calendar.to_ical())


def _event(appointment: Appointment, agency_id: int) -> Event:
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}-{agency_id}@casework")
    event.add("dtstamp", appointment.updated_at.astimezone(datetime.UTC))
    event.add("dtstart", appointment.start_at.astimezone(datetime.UTC))
    event.add("dtend", appointment.end_at.astimezone(datetime.UTC))
    event.add("summary", summary(appointment))
    event.add("location", appointment.get_place_type_display())
    event.add("sequence", appointment.version)
    cancelled = appointment.status == Appointment.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event
