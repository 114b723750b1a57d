"""Appointment reminders to clients who asked for them, by text or email, sent at most once.

Every hour: each scheduled appointment starting in the next 24 hours, for each of its clients
whose reminder preference is SMS or email. The outbox row (`ClientReminder`, unique per
appointment, client, channel and start time) is claimed in its own transaction before anything
is sent, so a retried job or a second worker finds it and sends nothing; then the message goes
out and the row is marked sent (with the provider's id) or failed (with why, without PHI). A
worker killed between the claim and the send leaves the row "sending": that reminder is lost
rather than sent twice. Nothing is sent in the quiet hours of the agency's evening and night.

The text names the agency, the local date and time, and how to reach the agency; never the
purpose, the staff member, the place or anything clinical: a phone's lock screen shows it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.automation.messaging import MessageBackend, MessageError, backend_for, to_e164
from casework.automation.models import Channel, ClientReminder, ReminderPreference
from casework.clients.models import Client
from casework.core.audit import Action, audit_record
from casework.core.models import Agency
from casework.schedule.models import Appointment, AppointmentClient

WINDOW = datetime.timedelta(hours=24)
DAY_STARTS, DAY_ENDS = datetime.time(8, 0), datetime.time(21, 0)


@dataclass(frozen=True)
class Due:
    """One reminder owed: to whom (the address), about which appointment and start time."""

    agency: Agency
    appointment_id: int
    client_id: int
    channel: str
    to: str
    starts_at: datetime.datetime


def reminder_text(*, agency: Agency, starts_at: datetime.datetime) -> str:
    local = starts_at.astimezone(agency.tzinfo)
    when = f"{local:%A} {local.day} {local:%B} at {local:%I:%M %p}".replace(" 0", " ")
    contact = f"reply or call {agency.phone}" if agency.phone else "reply to this message"
    return f"{agency.name}: a reminder of your appointment on {when}. To change it, {contact}."


def is_daytime(agency: Agency, now: datetime.datetime) -> bool:
    return DAY_STARTS <= now.astimezone(agency.tzinfo).time() < DAY_ENDS


def _address(preference: ReminderPreference) -> str:
    if preference.channel == Channel.SMS:
        return to_e164(preference.sms_number)
    return preference.email


def reminders_due(*, now: datetime.datetime) -> list[Due]:
    """Reminders owed now and not yet claimed (two queries)."""
    rows = (
        AppointmentClient.objects.filter(
            appointment__status=Appointment.Status.SCHEDULED,
            appointment__start_at__gt=now,
            appointment__start_at__lte=now + WINDOW,
            client__status=Client.Status.ACTIVE,
            client__reminder_preference__channel__in=(Channel.SMS, Channel.EMAIL),
        )
        .select_related("appointment__agency", "client__reminder_preference")
        .order_by("appointment__start_at", "pk")
    )
    claimed = set(
        ClientReminder.objects.filter(starts_at__gt=now, starts_at__lte=now + WINDOW).values_list(
            "appointment_id", "client_id", "channel", "starts_at"
        )
    )
    due = []
    for row in rows:
        appointment = row.appointment
        preference = row.client.reminder_preference
        if appointment.agency_id != row.client.agency_id:
            continue
        key = (appointment.pk, row.client_id, preference.channel, appointment.start_at)
        if key in claimed or not is_daytime(appointment.agency, now):
            continue
        due.append(
            Due(
                agency=appointment.agency,
                appointment_id=appointment.pk,
                client_id=row.client_id,
                channel=preference.channel,
                to=_address(preference),
                starts_at=appointment.start_at,
            )
        )
    return due


def claim(due: Due) -> ClientReminder | None:
    """Take the reminder for this run: the row is committed before anything is sent."""
    try:
        with transaction.atomic():
            reminder = ClientReminder.objects.create(
                agency_id=due.agency.pk,
                appointment_id=due.appointment_id,
                client_id=due.client_id,
                channel=due.channel,
                starts_at=due.starts_at,
            )
            audit_record(
                actor=None,
                actor_label="reminders",
                action=Action.CREATE,
                obj=reminder,
                client_id=due.client_id,
                agency_id=due.agency.pk,
                detail={"channel": due.channel},
            )
    except IntegrityError:
        return None  # sent, being sent, or failed before: never twice
    return reminder


def _finish(reminder: ClientReminder, *, provider_id: str = "", error: str = "") -> None:
    status = ClientReminder.Status.FAILED if error else ClientReminder.Status.SENT
    with transaction.atomic():
        ClientReminder.objects.filter(pk=reminder.pk).update(
            status=status,
            provider_id=provider_id[:200],
            error=error[:300],
            finished_at=timezone.now(),
        )
        audit_record(
            actor=None,
            actor_label="reminders",
            action=Action.UPDATE,
            obj=reminder,
            client_id=reminder.client_id,
            agency_id=reminder.agency_id,
            detail={"status": status},
        )
    reminder.status, reminder.provider_id, reminder.error = status, provider_id, error


def send_one(due: Due, backend: MessageBackend) -> ClientReminder | None:
    """Claim, send, record. None when another run has this reminder."""
    reminder = claim(due)
    if reminder is None:
        return None
    body = reminder_text(agency=due.agency, starts_at=due.starts_at)
    try:
        provider_id = backend.send(due.to, body)
    except MessageError as error:
        _finish(reminder, error=str(error))
    except Exception as error:  # a backend's own error text may quote the address
        _finish(reminder, error=f"The message could not be sent ({type(error).__name__}).")
    else:
        _finish(reminder, provider_id=provider_id)
    return reminder


def send_client_reminders(*, now: datetime.datetime | None = None) -> int:
    """Send every reminder owed now; returns how many went out."""
    now = now or timezone.now()
    backends: dict[str, MessageBackend] = {}
    sent = 0
    for due in reminders_due(now=now):
        if due.channel not in backends:
            backends[due.channel] = backend_for(due.channel)
        reminder = send_one(due, backends[due.channel])
        if reminder is not None and reminder.status == ClientReminder.Status.SENT:
            sent += 1
    return sent
