"""Appointment reminders to clients who asked for them, by text or email, sent at most once.

Every hour: each scheduled appointment starting in the next 24 hours, for each of its clients
whose reminder preference is SMS or email. The outbox row (`ClientReminder`, unique per
appointment, client, channel and start time) is claimed in its own transaction before anything
is sent, so a retried job or a second worker finds it and sends nothing; then the message goes
out and the row is marked sent (with the provider's id) or failed (with why, without PHI). The
claim locks the appointment and reads it, the client and the preference again, so a reminder
is not sent for an appointment cancelled or moved while the pass ran, and a text goes only to
a phone of the client's still marked safe to text (else the row says "not sent" and why). A
worker killed between the claim and the send leaves the row "sending": after `LOST_AFTER` it
becomes "unknown" (shown to staff to check with the client) rather than being sent twice.
Nothing is sent in the quiet hours of the agency's evening and night.

The text names the agency, the local date and time, and how to reach the agency; never the
purpose, the staff member, the place or anything clinical: a phone's lock screen shows it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from casework.automation.messaging import MessageBackend, MessageError, backend_for, to_e164
from casework.automation.models import Channel, ClientReminder, ReminderPreference
from casework.clients.models import Client, Phone
from casework.core.audit import Action, audit_record
from casework.core.models import Agency
from casework.schedule.models import Appointment, AppointmentClient

logger = logging.getLogger(__name__)
WINDOW = datetime.timedelta(hours=24)
LOST_AFTER = datetime.timedelta(minutes=15)
LOST_ERROR = "The sending stopped before the provider answered."
DAY_STARTS, DAY_ENDS = datetime.time(8, 0), datetime.time(21, 0)


@dataclass(frozen=True)
class Due:
    """One reminder owed: to which client, about which appointment and start time, by which
    channel. The address is read again when the reminder is claimed."""

    agency: Agency
    appointment_id: int
    client_id: int
    channel: str
    starts_at: datetime.datetime


def reminder_text(*, agency: Agency, starts_at: datetime.datetime) -> str:
    local = starts_at.astimezone(agency.tzinfo)
    when = f"{local:%A} {local.day} {local:%B} at {local:%I:%M %p}".replace(" 0", " ")
    contact = f"reply or call {agency.phone}" if agency.phone else "reply to this message"
    return f"{agency.name}: a reminder of your appointment on {when}. To change it, {contact}."


def is_daytime(agency: Agency, now: datetime.datetime) -> bool:
    return DAY_STARTS <= now.astimezone(agency.tzinfo).time() < DAY_ENDS


def textable_phone_problem(phone: Phone | None, client: Client) -> str:
    """Why a text may not go to this phone of the client ("" when it may); names no number."""
    if phone is None:
        return "there is no number to text (it was removed from the contact details)"
    if phone.client_id != client.pk or phone.agency_id != client.agency_id:
        return "the number to text is not one of the client's"
    if not phone.safe_to_text:
        return "the number to text is not marked safe to text"
    try:
        to_e164(phone.number)
    except MessageError as error:
        return str(error).rstrip(".").lower()
    return ""


def _address(preference: ReminderPreference, client: Client) -> tuple[str, str]:
    """(address, "") or ("", why nothing may be sent), read from the preference now."""
    if preference.channel == Channel.SMS:
        problem = textable_phone_problem(preference.phone, client)
        if problem or preference.phone is None:
            return "", problem
        return to_e164(preference.phone.number), ""
    return preference.email, ""


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
                starts_at=appointment.start_at,
            )
        )
    return due


def _still_owed(due: Due) -> tuple[ReminderPreference, Client] | None:
    """Inside the claim's transaction, with the appointment row locked: is the reminder still
    owed (the appointment scheduled at the same time with the client, the client active and
    still asking for reminders by the same channel)? A cancellation or a move committed while
    the pass was running is seen here, not sent about."""
    appointment = (
        Appointment.objects.select_for_update()
        .filter(pk=due.appointment_id, agency_id=due.agency.pk)
        .first()
    )
    if (
        appointment is None
        or appointment.status != Appointment.Status.SCHEDULED
        or appointment.start_at != due.starts_at
        or not AppointmentClient.objects.filter(
            appointment=appointment, client_id=due.client_id
        ).exists()
    ):
        return None
    client = Client.objects.filter(
        pk=due.client_id, agency_id=due.agency.pk, status=Client.Status.ACTIVE
    ).first()
    preference = (
        ReminderPreference.objects.select_for_update(of=("self",))
        .select_related("phone")
        .filter(client_id=due.client_id, agency_id=due.agency.pk)
        .first()
    )
    if client is None or preference is None or preference.channel != due.channel:
        return None
    return preference, client


def claim(due: Due) -> tuple[ClientReminder, str] | None:
    """Take the reminder for this run: the row is committed before anything is sent.

    Returns the row and the address to send to; None when the reminder is no longer owed or
    another run has it. When the address is no longer usable (the phone removed, moved to
    someone else or no longer marked safe to text), the row is recorded "not sent" with why.
    """
    try:
        with transaction.atomic():
            owed = _still_owed(due)
            if owed is None:
                return None
            preference, client = owed
            to, problem = _address(preference, client)
            reminder = ClientReminder.objects.create(
                agency_id=due.agency.pk,
                appointment_id=due.appointment_id,
                client_id=due.client_id,
                channel=due.channel,
                starts_at=due.starts_at,
                status=ClientReminder.Status.NOT_SENT if problem else ClientReminder.Status.SENDING,
                error=f"Not sent: {problem}."[:300] if problem else "",
                finished_at=timezone.now() if problem else None,
            )
            audit_record(
                actor=None,
                actor_label="reminders",
                action=Action.CREATE,
                obj=reminder,
                client_id=due.client_id,
                agency_id=due.agency.pk,
                detail={"channel": due.channel, "status": reminder.status},
            )
    except IntegrityError:
        return None  # sent, being sent, or failed before: never twice
    return reminder, to


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
    """Claim, send, record. None when the reminder is no longer owed or another run has it."""
    claimed = claim(due)
    if claimed is None:
        return None
    reminder, to = claimed
    if reminder.status != ClientReminder.Status.SENDING:
        return reminder
    body = reminder_text(agency=due.agency, starts_at=due.starts_at)
    try:
        provider_id = backend.send(to, body)
    except MessageError as error:
        _finish(reminder, error=str(error))
    except Exception as error:  # a backend's own error text may quote the address
        _finish(reminder, error=f"The message could not be sent ({type(error).__name__}).")
    else:
        _finish(reminder, provider_id=provider_id)
    return reminder


def mark_lost(*, now: datetime.datetime) -> int:
    """Rows left "sending" longer than `LOST_AFTER` (a worker killed between the claim and the
    provider's answer) become "unknown": not sent again, and shown to staff to check."""
    lost = list(
        ClientReminder.objects.filter(
            status=ClientReminder.Status.SENDING, claimed_at__lt=now - LOST_AFTER
        ).only("pk", "agency_id", "client_id")
    )
    for reminder in lost:
        with transaction.atomic():
            updated = ClientReminder.objects.filter(
                pk=reminder.pk, status=ClientReminder.Status.SENDING
            ).update(status=ClientReminder.Status.UNKNOWN, error=LOST_ERROR, finished_at=now)
            if updated:
                audit_record(
                    actor=None,
                    actor_label="reminders",
                    action=Action.UPDATE,
                    obj=reminder,
                    client_id=reminder.client_id,
                    agency_id=reminder.agency_id,
                    detail={"status": ClientReminder.Status.UNKNOWN},
                )
                logger.warning("Client reminder %s may not have been sent", reminder.pk)
    return len(lost)


def send_client_reminders(*, now: datetime.datetime | None = None) -> int:
    """Send every reminder owed now; returns how many went out."""
    now = now or timezone.now()
    mark_lost(now=now)
    backends: dict[str, MessageBackend] = {}
    sent = 0
    for due in reminders_due(now=now):
        if due.channel not in backends:
            backends[due.channel] = backend_for(due.channel)
        reminder = send_one(due, backends[due.channel])
        if reminder is not None and reminder.status == ClientReminder.Status.SENT:
            sent += 1
    return sent
