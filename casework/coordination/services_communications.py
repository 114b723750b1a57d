"""Every write to the communications log: log a contact with someone about a client, and start
its billable note. (Letters, which are logged here when issued, are written in `letters.py`.)

Decisions:
- A contact names someone: a person or organisation of the directory, or a name typed with
  their role when they are not in it. Only contacts that already happened are logged.
- The billable note for a contact is an ordinary draft service note, started as a collateral
  contact for the contact's time and minutes, and linked to it (one note per contact).
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from casework.clients.models import Client
from casework.clients.services import timeline_add
from casework.coordination.errors import CoordinationError, earlier_submission
from casework.coordination.models import Communication, Organization, Person
from casework.coordination.models.communications import TEXT_LIMIT
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User
from casework.notes.models import ContactType, Note
from casework.notes.services import NoteError, note_create, note_start_defaults

COMMUNICATION_LOG = "communication_log"  # idempotency purpose
MAX_MINUTES = 12 * 60
FUTURE_SLACK = datetime.timedelta(minutes=5)


class EntryError(CoordinationError):
    """A contact, letter or template that cannot be saved as given; `field` names its form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def require_coordinator(by: User, client: Client) -> None:
    if not access.may_coordinate(by):
        raise CoordinationError("Your role does not record communications or letters.")
    if client.agency_id != by.agency_id:
        raise CoordinationError("This client belongs to another agency.")


def check_recipient(
    organization: Organization | None, person: Person | None, agency_id: int
) -> None:
    for entry in (organization, person):
        if entry is not None and (entry.agency_id != agency_id or not entry.is_active):
            raise EntryError("Choose someone from your agency's directory.", "person")
    if (
        organization is not None
        and person is not None
        and person.organization_id not in (None, organization.pk)
    ):
        raise EntryError(
            f"{person.name} is listed at another organisation in the directory; choose one "
            "of the two, or the organisation they work for.",
            "person",
        )


# ---- Communications ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCommunication:
    """One contact as typed on the form; `occurred_at` is aware (the agency's local time)."""

    occurred_at: datetime.datetime
    channel: str
    summary: str
    direction: str = Communication.Direction.OUTGOING
    organization: Organization | None = None
    person: Person | None = None
    with_name: str = ""
    with_role: str = ""
    minutes: int | None = None
    outcome: str = ""


def communication_problems(
    entry: NewCommunication, *, now: datetime.datetime
) -> list[tuple[str | None, str]]:
    """Everything wrong with `entry`, as (form field, message) pairs."""
    problems: list[tuple[str | None, str]] = []
    if entry.channel not in Communication.Channel.values:
        problems.append(("channel", "Choose how the contact happened."))
    if entry.direction not in Communication.Direction.values:
        problems.append(("direction", "Say who contacted whom."))
    if entry.occurred_at > now + FUTURE_SLACK:
        problems.append(("occurred_on", "Log a contact once it has happened: the time is ahead."))
    named = entry.organization is not None or entry.person is not None
    if not named and not entry.with_name.strip():
        problems.append(
            ("with_name", "Say who it was with: choose them from the directory or type a name.")
        )
    if entry.with_name.strip() and entry.person is None and not entry.with_role:
        problems.append(("with_role", "Say what role the person has (e.g. family member)."))
    if entry.with_role and entry.with_role not in Person.Role.values:
        problems.append(("with_role", "Choose one of the roles offered."))
    if entry.minutes is not None and not 1 <= entry.minutes <= MAX_MINUTES:
        problems.append(("minutes", f"Give the minutes as a number from 1 to {MAX_MINUTES}."))
    if not entry.summary.strip():
        problems.append(("summary", "Write what was discussed."))
    elif len(entry.summary) > TEXT_LIMIT:
        problems.append(("summary", f"Keep it under {TEXT_LIMIT:,} characters."))
    if len(entry.outcome) > 500:
        problems.append(("outcome", "Keep the outcome under 500 characters."))
    if len(entry.with_name) > 200:
        problems.append(("with_name", "Keep the name under 200 characters."))
    return problems


def communication_log(
    *, client: Client, by: User, entry: NewCommunication, submission_key: str = ""
) -> Communication:
    """Log one contact with someone about the client (one per submission key)."""
    require_coordinator(by, client)
    problems = communication_problems(entry, now=timezone.now())
    if problems:
        raise EntryError(problems[0][1], problems[0][0])
    check_recipient(entry.organization, entry.person, client.agency_id)
    assert client.agency is not None
    role = entry.with_role or (entry.person.role if entry.person else Person.Role.OTHER)
    with transaction.atomic():
        submission = submission_claim(
            agency=client.agency, by=by, purpose=COMMUNICATION_LOG, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return earlier_submission(Communication, submission.earlier_object_id, client=client)
        communication = Communication.objects.create(
            agency_id=client.agency_id,
            client=client,
            occurred_at=entry.occurred_at,
            channel=entry.channel,
            direction=entry.direction,
            organization=entry.organization,
            person=entry.person,
            with_name=entry.with_name.strip(),
            with_role=role,
            minutes=entry.minutes,
            summary=entry.summary.strip(),
            outcome=entry.outcome.strip(),
            staff=by,
        )
        submission_complete(submission, communication.pk)
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=communication,
            client_id=client.pk,
            detail={"channel": entry.channel},
        )
        timeline_add(
            client=client,
            kind="communication",
            summary=f"{communication.get_channel_display()} logged",
            actor=by,
        )
    return communication


def communication_note_start(
    *, communication: Communication, by: User, submission_key: str = ""
) -> Note:
    """The billable service note for the contact: a draft collateral-contact note for its date,
    time and minutes, linked to it. A contact that already has its note returns that note."""
    if not access.may_write_notes(by):
        raise CoordinationError("Your role does not write service notes.")
    client = communication.client
    assert client.agency is not None
    with transaction.atomic():
        locked = Communication.objects.select_for_update().get(pk=communication.pk)
        if locked.note_id is not None:
            return Note.objects.get(pk=locked.note_id)
        minutes = locked.minutes
        start = dataclasses.replace(
            note_start_defaults(client=client, author=by),
            service_date=locked.occurred_at.astimezone(client.agency.tzinfo).date(),
            start_at=locked.occurred_at if minutes else None,
            end_at=locked.occurred_at + datetime.timedelta(minutes=minutes) if minutes else None,
            contact_type=ContactType.COLLATERAL,
            place_of_service="",
            present=", ".join(
                part for part in (locked.with_name, communication.recipient_label) if part
            )[:500],
            appointment_id=None,
            mileage=None,
        )
        try:
            note = note_create(client=client, author=by, start=start, submission_key=submission_key)
        except NoteError as error:
            raise CoordinationError(str(error)) from error
        locked.note = note
        locked.save(update_fields=["note"])
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=client.pk,
            detail={"note": note.pk},
        )
    return note
