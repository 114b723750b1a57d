"""Every write to referrals: starting one, its packet, sending it (a disclosure, checked against
the client's releases), each step after, and the follow-up task on My day.

Decisions:
- Sending: the packet PDF is built first, outside any transaction (rendering must not hold the
  agency's audit-log lock, which every audited page waits on); then one transaction checks
  the releases again under lock, logs the disclosure, stores the PDF and marks the referral
  sent. A refusal leaves the referral a draft with nothing stored and nothing logged; what was
  chosen for the packet stays.
- The cover names the client and their date of birth, so every packet shares demographics.
- The follow-up task goes to the client's primary case manager (when they work with the client),
  otherwise to whoever started the referral, otherwise to whoever sets the date.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from casework.clients.models import CareTeamMember, Client
from casework.coordination import packets
from casework.coordination.disclosure import (
    DisclosureRefused,
    Logged,
    Sharing,
    categories_shared,
    disclosure_check,
    disclosure_record,
)
from casework.coordination.errors import CoordinationError, earlier_submission
from casework.coordination.models import (
    Category,
    Disclosure,
    Document,
    Organization,
    Person,
    Referral,
    ReferralEvent,
)
from casework.coordination.models.referrals import TEXT_LIMIT
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User
from casework.worklist.models import Task
from casework.worklist.services import TaskError, task_create, task_due_move, task_settle

REFERRAL_CREATE = "referral_create"
SUMMARY_LIMIT = TEXT_LIMIT * 5
DETAIL_LIMIT = 300
MAX_PACKET_DOCUMENTS = 20
Status = Referral.Status
CLOSED_STATUSES = frozenset(
    {Status.COMPLETED, Status.DECLINED, Status.NO_RESPONSE, Status.CANCELLED}
)
# Where a referral may go from each status (closed referrals go nowhere).
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    Status.DRAFT: (Status.CANCELLED,),
    Status.SENT: (
        Status.ACKNOWLEDGED,
        Status.SCHEDULED,
        Status.COMPLETED,
        Status.DECLINED,
        Status.NO_RESPONSE,
        Status.CANCELLED,
    ),
    Status.ACKNOWLEDGED: (
        Status.SCHEDULED,
        Status.COMPLETED,
        Status.DECLINED,
        Status.NO_RESPONSE,
        Status.CANCELLED,
    ),
    Status.SCHEDULED: (
        Status.SCHEDULED,
        Status.COMPLETED,
        Status.DECLINED,
        Status.NO_RESPONSE,
        Status.CANCELLED,
    ),
}


class ReferralError(CoordinationError):
    """A referral change that cannot be made; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ReferralDetails:
    organization: Organization
    reason: str
    urgency: str = Referral.Urgency.ROUTINE
    person: Person | None = None
    follow_up_on: datetime.date | None = None


@dataclass(frozen=True)
class PacketChoice:
    """What goes in the packet: a summary, chart sections, documents of the client."""

    summary: str = ""
    sections: tuple[str, ...] = ()
    documents: tuple[Document, ...] = ()


@dataclass(frozen=True)
class StatusChange:
    status: str
    scheduled_for: datetime.datetime | None = None
    detail: str = ""
    outcome: str = ""


# ---------------------------------------------------------------------------- checks


def _require_coordinator(by: User, client: Client) -> None:
    """Defence in depth: views check too, but a service is never called with less."""
    if not access.may_coordinate(by):
        raise PermissionDenied("Your role does not record referrals.")
    if not access.visible_clients(by).filter(pk=client.pk).exists():
        raise PermissionDenied("You may not see that client.")


def _check_version(locked: Referral, expected_version: int) -> Referral:
    if locked.version != expected_version:
        raise ReferralError(
            "Someone changed this referral after you opened it. What you typed is kept below: "
            "check it against the referral as it is now and save again.",
            field="version",
        )
    return locked


def _locked(referral: Referral, expected_version: int) -> Referral:
    return _check_version(
        Referral.objects.select_for_update().get(pk=referral.pk), expected_version
    )


def _checked_details(details: ReferralDetails, *, agency_id: int, today: datetime.date) -> str:
    """Check what was typed; return the reason, trimmed."""
    organization, person = details.organization, details.person
    if organization.agency_id != agency_id:
        raise PermissionDenied("That organisation belongs to another agency.")
    if person is not None and person.agency_id != agency_id:
        raise PermissionDenied("That person belongs to another agency.")
    if person is not None and person.organization_id not in (None, organization.pk):
        raise ReferralError(
            f"{person.name} does not work at {organization.name}. Choose someone there, or no one.",
            field="person",
        )
    reason = details.reason.strip()
    if not reason:
        raise ReferralError("Say why you are referring the client.", field="reason")
    if len(reason) > TEXT_LIMIT:
        raise ReferralError(f"Keep the reason under {TEXT_LIMIT:,} characters.", field="reason")
    if details.urgency not in Referral.Urgency.values:
        raise ReferralError("Choose how urgent it is.", field="urgency")
    if details.follow_up_on is not None and details.follow_up_on < today:
        raise ReferralError(
            "The follow-up date has passed; choose today or later.", field="follow_up_on"
        )
    return reason


def _event(referral: Referral, status: str, by: User, detail: str = "") -> None:
    ReferralEvent.objects.create(
        agency_id=referral.agency_id,
        referral=referral,
        status=status,
        detail=detail[:DETAIL_LIMIT],
        by=by,
    )


def _audit(by: User, referral: Referral, action: str, **detail: object) -> None:
    audit_record(actor=by, action=action, obj=referral, client_id=referral.client_id, detail=detail)


# ---------------------------------------------------------------------------- follow-up task


def _follow_up_assignee(referral: Referral, by: User) -> User:
    client = referral.client
    primary = (
        CareTeamMember.objects.filter(
            CareTeamMember.active_on(client.agency.today()),
            client=client,
            role=CareTeamMember.Role.PRIMARY,
        )
        .select_related("staff")
        .first()
    )
    candidates = [primary.staff if primary else None, referral.created_by, by]
    for candidate in candidates:
        if (
            candidate is not None
            and candidate.is_active
            and access.may_write_notes(candidate)
            and access.clients_in_scope(candidate).filter(pk=client.pk).exists()
        ):
            return candidate
    raise ReferralError(
        "No one who works with this client can take the follow-up: add a primary case "
        "manager to the care team, or leave the follow-up date empty.",
        field="follow_up_on",
    )


def _task_title(referral: Referral) -> str:
    return f"Follow up on the referral to {referral.organization.name}"[:200]


def _follow_up_sync(referral: Referral, by: User, *, date_changed: bool) -> None:
    """Keep the follow-up task in step with the referral's date and status."""
    task = referral.follow_up_task
    if not referral.is_open or referral.follow_up_on is None:
        if task is not None and task.status == Task.Status.OPEN:
            why = "Referral closed" if not referral.is_open else "Follow-up date removed"
            task_settle(task=task, by=by, why=why)
        return
    if task is not None and task.status == Task.Status.OPEN:
        if task.due_on != referral.follow_up_on:
            task_due_move(
                task=task, due_on=referral.follow_up_on, by=by, why="Referral follow-up moved"
            )
        return
    if task is not None and not date_changed:
        return  # followed up already; a new task only for a new date
    try:
        task = task_create(
            assignee=_follow_up_assignee(referral, by),
            title=_task_title(referral),
            by=by,
            client=referral.client,
            reason="Check that the referral reached them and what came of it.",
            due_on=referral.follow_up_on,
            urgent=referral.urgency == Referral.Urgency.URGENT,
            kind=Task.Kind.REFERRAL_FOLLOW_UP,
        )
    except TaskError as error:
        raise ReferralError(str(error), field="follow_up_on") from None
    referral.follow_up_task = task
    referral.save(update_fields=["follow_up_task"])


# ---------------------------------------------------------------------------- start and edit


def referral_create(
    *, client: Client, by: User, details: ReferralDetails, submission_key: str = ""
) -> Referral:
    """Start a referral (a draft until its packet is sent); a double submit makes one."""
    _require_coordinator(by, client)
    reason = _checked_details(details, agency_id=client.agency_id, today=client.agency.today())
    if not details.organization.is_active:
        raise ReferralError(
            f"{details.organization.name} is no longer in the directory.", field="organization"
        )
    if details.person is not None and not details.person.is_active:
        raise ReferralError(f"{details.person.name} is no longer in the directory.", field="person")
    assert by.agency is not None
    with transaction.atomic():
        submission = submission_claim(
            agency=by.agency, by=by, purpose=REFERRAL_CREATE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return earlier_submission(Referral, submission.earlier_object_id, client=client)
        referral = Referral.objects.create(
            agency_id=client.agency_id,
            client=client,
            organization=details.organization,
            person=details.person,
            reason=reason,
            urgency=details.urgency,
            follow_up_on=details.follow_up_on,
            created_by=by,
        )
        _event(referral, Status.DRAFT, by, "Started")
        _audit(by, referral, Action.CREATE, organization=details.organization.pk)
        _follow_up_sync(referral, by, date_changed=True)
        submission_complete(submission, referral.pk)
    return referral


def referral_update(
    *, referral: Referral, by: User, expected_version: int, details: ReferralDetails
) -> Referral:
    """Change what the referral says. Once sent, it stays addressed to whom it was sent."""
    _require_coordinator(by, referral.client)
    reason = _checked_details(
        details, agency_id=referral.agency_id, today=referral.client.agency.today()
    )
    with transaction.atomic():
        locked = _locked(referral, expected_version)
        if not locked.is_open:
            raise ReferralError("This referral is closed; start a new one if needed.")
        moved = (details.organization.pk, getattr(details.person, "pk", None)) != (
            locked.organization_id,
            locked.person_id,
        )
        if moved and locked.status != Status.DRAFT:
            raise ReferralError(
                f"It was sent to {locked.organization.name}; start a new referral to send it "
                "somewhere else.",
                field="organization",
            )
        wanted = {
            "organization": details.organization,
            "person": details.person,
            "reason": reason,
            "urgency": details.urgency,
            "follow_up_on": details.follow_up_on,
        }
        changed = [name for name, value in wanted.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        date_changed = "follow_up_on" in changed
        for name in changed:
            setattr(locked, name, wanted[name])
        locked.version += 1
        locked.save(update_fields=[*changed, "version", "updated_at"])
        _audit(by, locked, Action.UPDATE, fields=changed)
        _follow_up_sync(locked, by, date_changed=date_changed)
    return locked


# ---------------------------------------------------------------------------- the packet


def _refuse_part2_outsider(by: User, documents: Sequence[Document]) -> None:
    """A Part 2 program's documents go in a packet only by the hand of the program's staff."""
    for document in documents:
        if withheld := access.part2_document_withheld(by, document):
            raise ReferralError(
                f"“{document.title}”: {withheld}. Leave it out, or ask the program's staff to "
                "send the packet.",
                field="documents",
            )


def _checked_packet(referral: Referral, packet: PacketChoice, by: User) -> str:
    summary = packet.summary.strip()
    if len(summary) > SUMMARY_LIMIT:
        raise ReferralError(
            f"Keep the summary under {SUMMARY_LIMIT:,} characters.", field="summary"
        )
    if set(packet.sections) - set(packets.PACKET_SECTIONS):
        raise ReferralError("Choose sections from the list.", field="sections")
    if len(packet.documents) > MAX_PACKET_DOCUMENTS:
        raise ReferralError(
            f"A packet carries at most {MAX_PACKET_DOCUMENTS} documents.", field="documents"
        )
    allowed = set(
        packets.appendable_documents(referral.client)
        .filter(pk__in=[d.pk for d in packet.documents])
        .values_list("pk", flat=True)
    )
    if any(d.pk not in allowed for d in packet.documents):
        raise ReferralError(
            "Choose documents from this client's chart (PDFs and images that are not removed).",
            field="documents",
        )
    _refuse_part2_outsider(by, packet.documents)
    return summary


def referral_packet_save(
    *, referral: Referral, by: User, expected_version: int, packet: PacketChoice
) -> Referral:
    """Keep what was chosen for the packet while the referral is a draft."""
    _require_coordinator(by, referral.client)
    summary = _checked_packet(referral, packet, by)
    with transaction.atomic():
        locked = _locked(referral, expected_version)
        if locked.status != Status.DRAFT:
            raise ReferralError("The packet was sent already; it cannot change.")
        sections = sorted(set(packet.sections))
        document_ids = sorted({d.pk for d in packet.documents})
        before = sorted(locked.packet_documents.values_list("pk", flat=True))
        if (summary, sections, document_ids) == (
            locked.packet_summary,
            sorted(locked.packet_categories),
            before,
        ):
            return locked
        locked.packet_summary = summary
        locked.packet_categories = sections
        locked.packet_documents.set(document_ids)
        locked.version += 1
        locked.save(update_fields=["packet_summary", "packet_categories", "version", "updated_at"])
        _audit(by, locked, Action.UPDATE, packet_sections=sections, packet_documents=document_ids)
    return locked


def packet_sharing(referral: Referral, documents: Sequence[Document]) -> Sharing:
    """What sending the packet as chosen would share, with whom."""
    # The cover names the client and says why they are referred (and the summary): that
    # narrative is about their care, so it is shared as notes.
    chosen = {Category.DEMOGRAPHICS, Category.NOTES, *referral.packet_categories}
    if documents:
        chosen.add(Category.DOCUMENTS)
    categories = categories_shared(
        client=referral.client,
        categories=chosen,
        part2_documents=any(document.part2 for document in documents),
    )
    return Sharing(
        client=referral.client,
        categories=categories,
        organization=referral.organization,
        person=referral.person,
    )


def packet_refusal(referral: Referral) -> str:
    """Why the packet as saved could not be sent now ("" when the releases allow it)."""
    documents = list(referral.packet_documents.all())
    return disclosure_check(sharing=packet_sharing(referral, documents)).refusal


def _packet_documents(referral: Referral) -> list[Document]:
    documents = list(referral.packet_documents.order_by("dated_on", "id"))
    removed = [d for d in documents if d.removed_at is not None]
    if removed:
        raise ReferralError(
            f"“{removed[0].title}” was removed from the chart. Choose the documents again.",
            field="documents",
        )
    return documents


def referral_send(
    *, referral: Referral, by: User, expected_version: int, sent_via: str
) -> Referral:
    """Send the packet: check the releases, build the PDF, log the disclosure, mark it sent.

    The PDF is built first, outside the transaction, from the referral as it stands at
    `expected_version`: rendering takes a moment and must not hold the agency's audit log.
    Then one transaction checks that nothing moved (the referral's version, its documents, the
    releases used), logs the disclosure, stores the PDF and marks the referral sent. If the
    releases do not allow it, nothing is stored or logged.
    """
    _require_coordinator(by, referral.client)
    if sent_via not in Referral.SentVia.values:
        raise ReferralError("Choose how you are sending it.", field="sent_via")
    _check_version(referral, expected_version)
    if referral.status != Status.DRAFT:
        raise ReferralError("This referral was sent already.")
    documents = _packet_documents(referral)
    _refuse_part2_outsider(by, documents)
    sharing = packet_sharing(referral, documents)
    verdict = disclosure_check(sharing=sharing)
    if not verdict.allowed:
        raise ReferralError(verdict.refusal)
    pdf = packets.packet_build(
        referral=referral, by=by, sharing=sharing, consents=verdict.consents, documents=documents
    )
    stored_name = ""
    try:
        with transaction.atomic():
            # Locked here rather than in _locked: the packet is saved just before in the same
            # request, and the N+1 detector counts lookups by the line they come from.
            locked = _check_version(
                Referral.objects.select_for_update().filter(pk=referral.pk).get(),
                expected_version,
            )
            if locked.status != Status.DRAFT:
                raise ReferralError("This referral was sent already.")
            if [d.pk for d in _packet_documents(locked)] != [d.pk for d in documents]:
                raise ReferralError("The packet changed while it was being made; send it again.")
            try:
                disclosure = disclosure_record(
                    sharing=sharing,
                    logged=Logged(
                        channel=Disclosure.Channel.REFERRAL_PACKET,
                        description=f"Referral packet ({locked.get_urgency_display().lower()})",
                        object_type="coordination.referral",
                        object_id=str(locked.pk),
                    ),
                    by=by,
                )
            except DisclosureRefused as refused:
                raise ReferralError(str(refused)) from None
            if [disclosure.consent_id, *disclosure.also_under] != [c.pk for c in verdict.consents]:
                # The cover names the releases it is shared under: they must be these.
                raise ReferralError(
                    "The client's releases changed while the packet was being made; send it again."
                )
            locked.packet_file.save(
                f"referral-{uuid.uuid4().hex}.pdf", ContentFile(pdf), save=False
            )
            stored_name = locked.packet_file.name or ""
            locked.disclosure = disclosure
            locked.status = Status.SENT
            locked.sent_via = sent_via
            locked.sent_at = timezone.now()
            locked.version += 1
            locked.save(
                update_fields=[
                    "packet_file",
                    "disclosure",
                    "status",
                    "sent_via",
                    "sent_at",
                    "version",
                    "updated_at",
                ]
            )
            _event(locked, Status.SENT, by, f"By {locked.get_sent_via_display().lower()}")
            _audit(
                by,
                locked,
                Action.UPDATE,
                status=Status.SENT,
                disclosure=disclosure.pk,
                documents=[d.pk for d in documents],
                sections=sorted(locked.packet_categories),
            )
    except BaseException:
        if stored_name:  # the transaction did not happen, so neither does the file
            locked.packet_file.storage.delete(stored_name)
        raise
    return locked


# ---------------------------------------------------------------------------- after sending


def next_statuses(referral: Referral) -> tuple[str, ...]:
    return NEXT_STATUSES.get(referral.status, ())


def referral_status_change(
    *, referral: Referral, by: User, expected_version: int, change: StatusChange
) -> Referral:
    """Record the next step (acknowledged, scheduled, completed, declined…) as an event."""
    _require_coordinator(by, referral.client)
    detail = change.detail.strip()
    outcome = change.outcome.strip()
    if len(detail) > DETAIL_LIMIT:
        raise ReferralError(f"Keep it under {DETAIL_LIMIT} characters.", field="detail")
    if len(outcome) > TEXT_LIMIT:
        raise ReferralError(f"Keep the outcome under {TEXT_LIMIT:,} characters.", field="outcome")
    if change.status == Status.SCHEDULED and change.scheduled_for is None:
        raise ReferralError("Give the day and time of the appointment.", field="scheduled_date")
    if change.status == Status.DECLINED and not detail:
        raise ReferralError("Say why they declined.", field="detail")
    with transaction.atomic():
        locked = _locked(referral, expected_version)
        if change.status not in next_statuses(locked):
            if not locked.is_open:
                raise ReferralError("This referral is closed.")
            raise ReferralError(
                f"A referral that is {locked.get_status_display().lower()} cannot become "
                f"{Status(change.status).label.lower() if change.status in Status.values else 'that'}.",
                field="status",
            )
        fields = ["status", "version", "updated_at"]
        locked.status = change.status
        if change.status == Status.SCHEDULED:
            locked.scheduled_for = change.scheduled_for
            fields.append("scheduled_for")
        if outcome and outcome != locked.outcome:
            locked.outcome = outcome
            fields.append("outcome")
        locked.version += 1
        locked.save(update_fields=fields)
        if change.status == Status.SCHEDULED and change.scheduled_for is not None:
            when = timezone.localtime(change.scheduled_for, locked.client.agency.tzinfo)
            detail = f"For {when:%m/%d/%Y %H:%M}" + (f". {detail}" if detail else "")
        _event(locked, change.status, by, detail)
        _audit(by, locked, Action.UPDATE, status=change.status)
        if not locked.is_open:
            _follow_up_sync(locked, by, date_changed=False)
    return locked


def referral_outcome_save(
    *, referral: Referral, by: User, expected_version: int, outcome: str
) -> Referral:
    """Write (or correct) what came of the referral, at any time."""
    _require_coordinator(by, referral.client)
    outcome = outcome.strip()
    if len(outcome) > TEXT_LIMIT:
        raise ReferralError(f"Keep the outcome under {TEXT_LIMIT:,} characters.", field="outcome")
    with transaction.atomic():
        locked = _locked(referral, expected_version)
        if outcome == locked.outcome:
            return locked
        locked.outcome = outcome
        locked.version += 1
        locked.save(update_fields=["outcome", "version", "updated_at"])
        _audit(by, locked, Action.UPDATE, fields=["outcome"])
    return locked
