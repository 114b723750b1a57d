"""Every write to service notes: drafts, signing (which makes the charge), co-signing, addenda, voids."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from casework.automation import triggers as automation_triggers
from casework.billing.models import Charge
from casework.billing.services.charges import (
    ChargeError,
    charge_for_signed_note,
    charge_recheck,
    charge_void,
)
from casework.clients.models import Client, TimelineEvent
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import Credential, Role, User
from casework.notes.models import (
    NARRATIVE_LIMIT,
    NEVER_BILLABLE_CONTACTS,
    Addendum,
    ContactType,
    GroupSession,
    MedicationAdherence,
    NotableEvent,
    Note,
    QuickPhrase,
)
from casework.notes.templates import note_template
from casework.plans.services import progress_from_note
from casework.schedule.models import (
    Appointment,
    AppointmentClient,
    AppointmentKind,
    PlaceType,
    TravelLeg,
)
from casework.worklist.tasks import evaluate_client_warnings

NOTE_CREATE = "note_create"  # idempotency purposes
GROUP_CREATE = "group_session_create"
MAX_MINUTES = 12 * 60
ATTESTATION = "I attest that I provided this service as documented."
# What a draft may change; everything else is set by the service.
DRAFT_FIELDS = (
    "service_date",
    "start_at",
    "end_at",
    "contact_type",
    "place_of_service",
    "service_code",
    "present",
    "template",
    "sections",
    "goals_addressed",
    "mileage",
    "travel_minutes",
    "interpreter_used",
    "interpreter_language",
    "medication_adherence",
    "events",
)
# Where an appointment took place, as the claim's place of service (billing.PLACES_OF_SERVICE).
# A call or video has no place the appointment knows; the author chooses (02 or 10).
PLACE_OF_SERVICE_FOR: dict[str, str] = {
    PlaceType.CLIENT_HOME: "12",  # Home
    PlaceType.OFFICE: "11",  # Office
    PlaceType.CLINIC: "22",  # Outpatient hospital
    PlaceType.COMMUNITY: "99",  # Other place of service
    PlaceType.REMOTE: "",
}


class NoteError(Exception):
    """A note change that cannot be made; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NoteConflict(NoteError):
    """The draft was saved elsewhere (another tab or device) since this copy was loaded."""


@dataclass(frozen=True)
class NoteStart:
    """What a note can be started with: from the client's last note, or from an appointment."""

    service_date: datetime.date
    start_at: datetime.datetime | None = None
    end_at: datetime.datetime | None = None
    contact_type: str = "face_to_face"
    place_of_service: str = ""
    service_code_id: int | None = None
    present: str = ""
    template: str = "dap"
    mileage: Decimal | None = None
    appointment_id: int | None = None


@dataclass(frozen=True)
class Problem:
    message: str
    field: str | None = None


@dataclass(frozen=True)
class Signed:
    note: Note
    charge: Charge | None
    already_signed: bool = False


def _require_author(note: Note, by: User) -> None:
    if note.author_id != by.pk:
        raise NoteError("Only the author can change or sign a note.")


def _audit(by: User, note: Note, action: str, **detail: Any) -> None:
    audit_record(actor=by, action=action, obj=note, client_id=note.client_id, detail=detail)


def note_start_defaults(*, client: Client, author: User) -> NoteStart:
    """A new note's starting values: the author's last note for this client, else the agency's."""
    previous = (
        Note.objects.filter(client=client, author=author)
        .exclude(status=Note.Status.VOID)
        .order_by("-service_date", "-id")
        .values("contact_type", "place_of_service", "service_code_id", "present", "template")
        .first()
    )
    agency = author.agency
    assert agency is not None
    today = agency.today()
    if previous is None:
        return NoteStart(service_date=today, template=agency.note_template)
    return NoteStart(service_date=today, **previous)


def note_start_from_appointment(
    *, appointment: Appointment, client: Client, author: User
) -> NoteStart:
    """A note's starting values from the appointment it documents: its day and block of time,
    contact type, place, the miles of its travel legs; service and format from the author's
    last note for the client. The caller has checked the client is at the appointment."""
    assert client.agency is not None
    local_start = appointment.start_at.astimezone(client.agency.tzinfo)
    if appointment.status == Appointment.Status.NO_SHOW:
        contact = ContactType.NO_SHOW
    elif appointment.status == Appointment.Status.CANCELLED:
        contact = ContactType.CANCELLATION
    elif appointment.kind == AppointmentKind.PHONE_VIDEO:
        contact = ContactType.PHONE
    else:
        contact = ContactType.FACE_TO_FACE
    miles = TravelLeg.objects.filter(appointment=appointment).aggregate(total=Sum("miles"))
    return dataclasses.replace(
        note_start_defaults(client=client, author=author),
        service_date=local_start.date(),
        start_at=appointment.start_at,
        end_at=appointment.end_at,
        contact_type=contact,
        place_of_service=PLACE_OF_SERVICE_FOR.get(appointment.place_type, ""),
        present="Client",
        mileage=miles["total"],
        appointment_id=appointment.pk,
    )


def note_create(
    *, client: Client, author: User, start: NoteStart, submission_key: str = ""
) -> Note:
    """A new draft note for the client, filled in from `start` (one per submission key)."""
    if not access.may_write_notes(author):
        raise NoteError("Your role does not write service notes.")
    if client.agency_id != author.agency_id:
        raise NoteError("This client belongs to another agency.")
    if start.start_at and start.end_at and start.end_at <= start.start_at:
        raise NoteError("The end time must be after the start time.", field="end_time")
    with transaction.atomic():
        assert author.agency is not None  # the same agency as the client's (checked above)
        submission = submission_claim(
            agency=author.agency, by=author, purpose=NOTE_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return Note.objects.get(pk=submission.earlier_object_id, author=author)
        if start.appointment_id is not None:
            if not AppointmentClient.objects.filter(
                appointment_id=start.appointment_id, client=client, agency_id=client.agency_id
            ).exists():
                raise NoteError("This client was not at that appointment.")
            earlier = _note_for_appointment(client, author, start.appointment_id)
            if earlier is not None:
                return earlier
        note = Note.objects.create(
            agency_id=client.agency_id,
            client=client,
            author=author,
            service_date=start.service_date,
            start_at=start.start_at,
            end_at=start.end_at,
            contact_type=start.contact_type,
            place_of_service=start.place_of_service,
            service_code_id=start.service_code_id,
            present=start.present,
            template=start.template,
            mileage=start.mileage,
            appointment_id=start.appointment_id,
        )
        submission_complete(submission, note.pk)
        _audit(author, note, Action.CREATE)
    return note


def _note_for_appointment(client: Client, author: User, appointment_id: int) -> Note | None:
    """The author's note (draft or signed) for this client at this appointment, if written.

    The author's row is locked first so that two taps on "Write the note" make one note.
    """
    list(User.objects.select_for_update().filter(pk=author.pk).values_list("pk"))
    return (
        Note.objects.filter(client=client, author=author, appointment_id=appointment_id)
        .exclude(status=Note.Status.VOID)
        .order_by("id")
        .first()
    )


def _clean_risk_fields(data: dict[str, Any]) -> None:
    """Medication adherence and notable events, as early warnings read them: known values only."""
    if "medication_adherence" in data:
        adherence = data["medication_adherence"] or ""
        if adherence and adherence not in MedicationAdherence.values:
            raise NoteError("Choose one of the medication answers offered.", "medication_adherence")
        data["medication_adherence"] = adherence
    if "events" in data:
        events = data["events"] or []
        if not isinstance(events, list | tuple) or any(
            e not in NotableEvent.values for e in events
        ):
            raise NoteError("Choose notable events from the list offered.", field="events")
        data["events"] = [e for e in NotableEvent.values if e in set(events)]


def narrative_length(sections: dict[str, Any], shared_text: str = "") -> int:
    return sum(len(str(value)) for value in sections.values()) + len(shared_text)


def note_save_draft(*, note: Note, by: User, data: dict[str, Any], expected_version: int) -> Note:
    """Save a draft (autosave and the Save button): refuses stale copies and signed notes."""
    _require_author(note, by)
    if narrative_length(data.get("sections", {})) > NARRATIVE_LIMIT:
        raise NoteError(
            f"The narrative is longer than {NARRATIVE_LIMIT:,} characters. Shorten it, or "
            "put long material in a document.",
            field="sections",
        )
    start_at, end_at = data.get("start_at", note.start_at), data.get("end_at", note.end_at)
    if start_at and end_at and end_at <= start_at:
        raise NoteError("The end time must be after the start time.", field="end_time")
    data = dict(data)
    _clean_risk_fields(data)
    with transaction.atomic():
        locked = Note.objects.select_for_update().get(pk=note.pk)
        if locked.status != Note.Status.DRAFT:
            raise NoteError("This note is signed; add an addendum instead.")
        if locked.version != expected_version:
            raise NoteConflict(
                "This draft was saved from another tab or device since you opened it. "
                "Reload to see that version; your text is kept in this browser."
            )
        previous_sections = dict(locked.sections or {})
        for name in DRAFT_FIELDS:
            if name in data:
                setattr(locked, name, data[name])
        # Sections merge: text of a template switched away from is kept, never dropped.
        locked.sections = {**previous_sections, **data.get("sections", {})}
        locked.version += 1
        locked.save()
        _audit(by, locked, Action.UPDATE, draft=True)
    return locked


def _future_problem(note: Note, now: datetime.datetime) -> Problem | None:
    assert note.agency is not None
    if note.service_date > note.agency.today():
        return Problem("The service date is in the future.", "service_date")
    if note.end_at and note.end_at > now:
        return Problem("The contact has not ended yet: its end time is in the future.", "end_time")
    return None


def _time_problems(note: Note, now: datetime.datetime) -> list[Problem]:
    problems = []
    future = _future_problem(note, now)
    if future:
        problems.append(future)
    if note.contact_type in NEVER_BILLABLE_CONTACTS:
        return problems
    if note.start_at is None or note.end_at is None:
        return [*problems, Problem("Enter when the contact started and ended.", "start_time")]
    minutes = note.duration_minutes or 0
    if minutes <= 0:
        problems.append(Problem("The contact must last at least one minute.", "end_time"))
    elif minutes > MAX_MINUTES:
        problems.append(
            Problem(f"{minutes // 60} h {minutes % 60} min is longer than 12 hours.", "end_time")
        )
    return problems


def _overlapping(note: Note) -> Note | None:
    """Another signed billable note of the same author whose minutes overlap this one's."""
    if note.start_at is None or note.end_at is None:
        return None
    others = (
        Note.objects.filter(
            author_id=note.author_id,
            status=Note.Status.SIGNED,
            service_code__is_billable=True,
            start_at__lt=note.end_at,
            end_at__gt=note.start_at,
        )
        .exclude(pk=note.pk)
        .exclude(contact_type__in=NEVER_BILLABLE_CONTACTS)
        .select_related("client")
    )
    if note.group_id:
        others = others.exclude(group_id=note.group_id)
    return others.first()


def _billing_problems(note: Note) -> list[Problem]:
    code = note.service_code
    if code is None:
        return []
    problems = []
    if code.is_billable and note.contact_type in NEVER_BILLABLE_CONTACTS:
        problems.append(
            Problem(
                f"A {note.get_contact_type_display().lower()} is never billable: choose a "
                "non-billable service or none.",
                "service_code",
            )
        )
    if code.is_billable and not note.place_of_service:
        problems.append(Problem("Choose the place of service.", "place_of_service"))
    if code.is_billable and (other := _overlapping(note)):
        local = timezone.localtime(other.start_at) if other.start_at else None
        problems.append(
            Problem(
                "These minutes overlap your signed note for another client"
                + (f" at {local:%H:%M} on {local:%Y-%m-%d}" if local else "")
                + ". Billable minutes cannot be counted twice.",
                "start_time",
            )
        )
    return problems


def sign_problems(*, note: Note, now: datetime.datetime | None = None) -> list[Problem]:
    """Everything that stops this draft from being signed, each with the field it belongs to."""
    now = now or timezone.now()
    problems = _time_problems(note, now)
    template = note_template(note.template)
    for section in template.missing_sections(note.sections or {}):
        problems.append(Problem(f"Write the {section.label} section.", f"section_{section.key}"))
    if narrative_length(note.sections or {}, note.shared_text) > NARRATIVE_LIMIT:
        problems.append(Problem(f"The narrative is longer than {NARRATIVE_LIMIT:,} characters."))
    problems += _billing_problems(note)
    return problems


def late_days(note: Note) -> int:
    """Days past the agency's limit for signing, or 0 when the note is on time."""
    assert note.agency is not None
    overdue = (note.agency.today() - note.service_date).days
    return max(overdue - note.agency.late_note_days, 0)


def cosign_needed(author: User, day: datetime.date) -> bool:
    """Whether the author's notes need a supervisor's co-signature (WAC 246-810, RCW 18.19)."""
    current = [c for c in Credential.objects.filter(user=author) if c.is_current_on(day)]
    return not any(c.may_serve_unsupervised for c in current)


def _lock_author_and_client(note: Note) -> None:
    """Serialise signing per author (overlap check) and per client (the CMS day total)."""
    list(User.objects.select_for_update().filter(pk=note.author_id).values_list("pk"))
    list(Client.objects.select_for_update().filter(pk=note.client_id).values_list("pk"))


def note_sign(*, note: Note, by: User, attest: bool, late_reason: str = "") -> Signed:
    """Sign and lock the note, and make its one charge; signing again returns the first result."""
    with transaction.atomic():
        locked = (
            Note.objects.select_for_update(of=("self",))
            .select_related("agency", "author", "service_code")
            .get(pk=note.pk)
        )
        if locked.status != Note.Status.DRAFT:
            if locked.status == Note.Status.VOID:
                raise NoteError("This note was voided and cannot be signed.")
            return Signed(locked, Charge.objects.filter(note=locked).first(), already_signed=True)
        _require_author(locked, by)
        _lock_author_and_client(locked)
        if not attest:
            raise NoteError("Tick the attestation to sign.", field="attest")
        problems = sign_problems(note=locked)
        if problems:
            raise NoteError(problems[0].message, field=problems[0].field)
        late_reason = late_reason.strip()
        if late_days(locked) and not late_reason:
            raise NoteError(
                f"This note is signed {(locked.agency.today() - locked.service_date).days} days "
                "after the service: say why it is late.",
                field="late_reason",
            )
        locked.status = Note.Status.SIGNED
        locked.signed_at = timezone.now()
        locked.minutes = locked.duration_minutes
        locked.attestation = ATTESTATION
        locked.late_reason = late_reason[:500]
        locked.cosign_required = cosign_needed(by, locked.service_date)
        # Fixed with the signature: whose records the note is (a 42 CFR Part 2 program's notes
        # are read by its own staff only).
        locked.program_id = access.note_program_for(
            author=by, client_id=locked.client_id, on=locked.service_date
        )
        locked.save()
        charge = charge_for_signed_note(note=locked, by=by)
        progress_from_note(note=locked, by=by)
        _audit(by, locked, Action.UPDATE, signed=True, charge=charge.pk if charge else None)
        TimelineEvent.objects.create(
            agency_id=locked.agency_id,
            client_id=locked.client_id,
            occurred_at=locked.signed_at,
            kind="note_signed",
            summary=f"{locked.get_contact_type_display()} note signed",
            actor=by,
        )
        # Early warnings read signed notes (medications, ER, housing, last contact).
        evaluate_client_warnings.enqueue(client_id=locked.client_id)
        automation_triggers.note_signed(note=locked)  # "when a hospital stay is recorded…"
    return Signed(locked, charge)


def may_cosign(user: User, note: Note) -> bool:
    """Supervisors of the author's teams co-sign; agency admins may when no supervisor can.
    Either must be able to read the note: a Part 2 program's note is its own staff's."""
    if note.author_id == user.pk or note.agency_id != user.agency_id:
        return False
    if user.has_role(Role.AGENCY_ADMIN):
        return not access.note_narrative_withheld(user, note)
    return (
        user.has_role(Role.SUPERVISOR)
        and access.supervised_staff_ids(user).filter(user_id=note.author_id).exists()
        and not access.note_narrative_withheld(user, note)
    )


def _refuse_outside_part2_program(user: User, note: Note, doing: str) -> None:
    """A 42 CFR Part 2 program's note is co-signed, amended and voided within the program."""
    if access.note_narrative_withheld(user, note) == access.PART2_WITHHELD:
        raise NoteError(f"{access.PART2_WITHHELD}: only the program's staff can {doing} it.")


def note_cosign(*, note: Note, by: User) -> Note:
    """A supervisor's co-signature; a charge held for it is released when nothing else holds it."""
    with transaction.atomic():
        locked = Note.objects.select_for_update().get(pk=note.pk)
        if not locked.awaiting_cosign:
            raise NoteError("This note is not waiting for a co-signature.")
        _refuse_outside_part2_program(by, locked, "co-sign")
        if not may_cosign(by, locked):
            raise NoteError("Only a supervisor of the author's team can co-sign this note.")
        locked.cosigned_by = by
        locked.cosigned_at = timezone.now()
        locked.save(update_fields=["cosigned_by", "cosigned_at", "updated_at"])
        _audit(by, locked, Action.UPDATE, cosigned=True)
        charge = Charge.objects.filter(note=locked, status=Charge.Status.HELD).first()
        if charge is not None:
            # If the note stopped being billable the charge stays held for billing to sort
            # out; the co-signature stands either way.
            with contextlib.suppress(ChargeError):
                charge_recheck(charge=charge, by=by)
    return locked


def addendum_add(*, note: Note, by: User, text: str) -> Addendum:
    """A correction or addition to a signed note, by its author or a supervisor."""
    text = text.strip()
    if not text:
        raise NoteError("Write the addendum.", field="text")
    if len(text) > 20_000:
        raise NoteError("An addendum can be at most 20,000 characters.", field="text")
    if not note.is_signed:
        raise NoteError("A draft can still be edited; addenda are for signed notes.")
    _refuse_outside_part2_program(by, note, "add to")
    if by.pk != note.author_id and not may_cosign(by, note):
        raise NoteError("Only the author or a supervisor can add an addendum.")
    with transaction.atomic():
        addendum = Addendum.objects.create(
            agency_id=note.agency_id, note=note, author=by, text=text
        )
        _audit(by, note, Action.UPDATE, addendum=addendum.pk)
    return addendum


def note_void(*, note: Note, by: User, reason: str) -> Note:
    """Void a signed note (entered in error): the record stays, marked void with the reason."""
    reason = reason.strip()
    if not reason:
        raise NoteError("Say why the note is void.", field="reason")
    with transaction.atomic():
        locked = Note.objects.select_for_update().get(pk=note.pk)
        if locked.status != Note.Status.SIGNED:
            raise NoteError("Only a signed note can be voided; a draft can be discarded.")
        _refuse_outside_part2_program(by, locked, "void")
        if by.pk != locked.author_id and not may_cosign(by, locked):
            raise NoteError("Only the author or a supervisor can void a note.")
        charge = Charge.objects.select_for_update().filter(note=locked).first()
        if charge is not None and charge.status != Charge.Status.VOID:
            if charge.status == Charge.Status.BILLED:
                raise NoteError(
                    "This note's charge was already claimed: billing must send a void claim "
                    "first, then the note can be voided."
                )
            charge_void(charge=charge, by=by, reason=f"Note voided: {reason}")
        locked.status = Note.Status.VOID
        locked.voided_by = by
        locked.voided_at = timezone.now()
        locked.void_reason = reason[:500]
        locked.save(update_fields=["status", "voided_by", "voided_at", "void_reason", "updated_at"])
        _audit(by, locked, Action.UPDATE, voided=True)
    return locked


def draft_discard(*, note: Note, by: User) -> None:
    """Throw away one's own unsigned draft (signed notes are never deleted)."""
    _require_author(note, by)
    with transaction.atomic():
        locked = Note.objects.select_for_update().get(pk=note.pk)
        if locked.status != Note.Status.DRAFT:
            raise NoteError("Only a draft can be discarded; void a signed note instead.")
        _audit(by, locked, Action.DELETE)
        locked.delete()


def group_session_create(
    *,
    author: User,
    clients: list[Client],
    topic: str,
    start: NoteStart,
    shared_text: str,
    submission_key: str = "",
) -> GroupSession:
    """One draft note per client present, sharing the session's time, code and common text."""
    if not 2 <= len(clients) <= 30:
        raise NoteError("A group note needs between 2 and 30 clients.", field="clients")
    if len({c.pk for c in clients}) != len(clients):
        raise NoteError("A client is listed twice.", field="clients")
    if len(shared_text) > NARRATIVE_LIMIT:
        raise NoteError(f"The shared part is longer than {NARRATIVE_LIMIT:,} characters.")
    with transaction.atomic():
        assert author.agency is not None
        submission = submission_claim(
            agency=author.agency, by=author, purpose=GROUP_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return GroupSession.objects.get(pk=submission.earlier_object_id, author=author)
        session = GroupSession.objects.create(
            agency_id=access.agency_id_of(author), author=author, topic=topic.strip()[:200]
        )
        for client in clients:
            note = note_create(client=client, author=author, start=start)
            note.group = session
            note.shared_text = shared_text
            note.save(update_fields=["group", "shared_text"])
        submission_complete(submission, session.pk)
        audit_record(
            actor=author, action=Action.CREATE, obj=session, detail={"notes": len(clients)}
        )
    return session


def quick_phrase_save(
    *, owner: User, label: str, text: str, phrase: QuickPhrase | None = None
) -> QuickPhrase:
    """Add or change one of the person's own quick phrases."""
    label, text = label.strip(), text.strip()
    if not label or not text:
        raise NoteError("A quick phrase needs a short name and its text.", field="label")
    taken = QuickPhrase.objects.filter(owner=owner, label__iexact=label)
    if phrase is not None:
        taken = taken.exclude(pk=phrase.pk)
    if taken.exists():
        raise NoteError(f"You already have a phrase called “{label}”.", field="label")
    with transaction.atomic():
        phrase = phrase or QuickPhrase(agency_id=access.agency_id_of(owner), owner=owner)
        phrase.label, phrase.text = label[:60], text[:2000]
        phrase.save()
        audit_record(actor=owner, action=Action.UPDATE, obj=phrase)
    return phrase


def quick_phrase_delete(*, phrase: QuickPhrase, by: User) -> None:
    if phrase.owner_id != by.pk:
        raise NoteError("That phrase is someone else's.")
    with transaction.atomic():
        audit_record(actor=by, action=Action.DELETE, obj=phrase)
        phrase.delete()
