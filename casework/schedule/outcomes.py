"""Recording what happened at an appointment: attended, no-show or cancelled.

A no-show or a client's cancellation makes, in the same transaction, one follow-up task for
the staff member and a non-billable note per client documenting it (signed when it can be);
doing it twice makes nothing twice. A mistaken attended/no-show can be swapped until a signed
note documents the appointment. Early-warning rules are queued for every client.
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from casework.automation import triggers as automation_triggers
from casework.clients.models import Client
from casework.core import access
from casework.core.audit import Action
from casework.core.models import User
from casework.notes.models import ContactType, Note
from casework.notes.services import (
    NoteError,
    NoteStart,
    draft_discard,
    note_create,
    note_save_draft,
    note_sign,
)
from casework.notes.templates import note_template
from casework.schedule.models import Appointment, AppointmentClient
from casework.schedule.recurrence import WEEKDAY_CODES, ScheduleError
from casework.schedule.services import (
    _agency,
    _audit_clients,
    _check_may_change,
    _kind_label,
    _when,
)
from casework.worklist.models import Task
from casework.worklist.services import TaskError, task_create, task_done, task_reopen
from casework.worklist.tasks import evaluate_client_warnings


@dataclass
class Outcome:
    """What recording an outcome made: the follow-up task and the notes documenting it."""

    appointment: Appointment
    task: Task | None
    notes: list[Note]


# ---- Outcomes ------------------------------------------------------------------------------

REASON_LIMIT = 300
OUTCOMES = (Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED)
NARRATIVE = {
    ContactType.NO_SHOW: "{name} was not there for the {what} scheduled for {when}.",
    ContactType.CANCELLATION: "{name} cancelled the {what} scheduled for {when}.",
}
STANDARD_SECTION = "No service was provided."
STANDARD_PLAN = "Follow-up task made to reach {name} and reschedule."


def next_working_day(staff: User, after: datetime.date) -> datetime.date:
    """The first of the staff member's working days after `after` (tomorrow if none are set)."""
    codes = {code.strip().upper() for code in staff.work_days.split(",")} & set(WEEKDAY_CODES)
    for days in range(1, 8):
        day = after + datetime.timedelta(days=days)
        if not codes or WEEKDAY_CODES[day.weekday()] in codes:
            return day
    return after + datetime.timedelta(days=1)  # pragma: no cover (seven days cover every code)


def _needs_follow_up(status: str, cancelled_by: str) -> bool:
    return status == Appointment.Status.NO_SHOW or (
        status == Appointment.Status.CANCELLED and cancelled_by == Appointment.CancelledBy.CLIENT
    )


def _contact_type(status: str) -> str:
    return ContactType.NO_SHOW if status == Appointment.Status.NO_SHOW else ContactType.CANCELLATION


def _outcome_of(appointment: Appointment) -> Outcome:
    task = (
        Task.objects.filter(appointment=appointment, kind=Task.Kind.FOLLOW_UP).first()
        if _needs_follow_up(appointment.status, appointment.cancelled_by)
        else None
    )
    notes = (
        list(
            Note.objects.filter(
                appointment=appointment, contact_type=_contact_type(appointment.status)
            )
            .exclude(status=Note.Status.VOID)
            .order_by("id")
        )
        if appointment.status != Appointment.Status.ATTENDED
        else []
    )
    return Outcome(appointment, task, notes)


def appointment_outcome(
    *,
    appointment: Appointment,
    by: User,
    status: str,
    cancelled_by: str = "",
    reason: str = "",
) -> Outcome:
    """Attended, no-show or cancelled. A no-show or a client's cancellation makes one follow-up
    task for the staff member and one signed (or, if it cannot be signed, draft) note per client.

    The same outcome twice changes nothing. A later change is only attended ↔ no-show, and only
    while no note about the appointment is signed.
    """
    if status not in OUTCOMES:
        raise ScheduleError("Choose attended, no-show or cancelled.", field="status")
    if status == Appointment.Status.CANCELLED:
        if cancelled_by not in Appointment.CancelledBy.values:
            raise ScheduleError("Say who cancelled.", field="cancelled_by")
    else:
        cancelled_by = ""
    reason = " ".join(reason.split())
    if len(reason) > REASON_LIMIT:
        raise ScheduleError(f"Keep the reason under {REASON_LIMIT} characters.", field="reason")
    _check_may_change(appointment, by)
    agency = _agency(by)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update()
            .select_related("staff")
            .get(pk=appointment.pk, agency=agency)
        )
        if locked.status == status and locked.cancelled_by == cancelled_by:
            return _outcome_of(locked)
        previous = locked.status
        _check_outcome_change(locked, status, now)
        locked.status = status
        locked.cancelled_by = cancelled_by
        locked.outcome_reason = reason
        locked.outcome_at = now
        locked.outcome_by = by
        locked.version += 1
        locked.save(
            update_fields=[
                "status",
                "cancelled_by",
                "outcome_reason",
                "outcome_at",
                "outcome_by",
                "version",
                "updated_at",
            ]
        )
        clients = list(
            Client.objects.filter(
                id__in=AppointmentClient.objects.filter(appointment=locked).values("client_id")
            ).order_by("id")
        )
        client_ids = [c.pk for c in clients]
        _audit_clients(
            by,
            Action.UPDATE,
            locked,
            client_ids,
            agency.pk,
            status=status,
            previous=previous,
            cancelled_by=cancelled_by,
        )
        if previous == Appointment.Status.NO_SHOW:
            _undo_no_show(locked, by)
        task, notes = None, []
        target = _follow_up_target(locked, by, clients)
        if _needs_follow_up(status, cancelled_by) and target is not None:
            task = _follow_up(locked, by, *target, now)
            notes = [_document(locked, by, client, now) for client in clients]
        evaluate_warnings_for(client_ids)
        automation_triggers.appointment_missed(appointment=locked, client_ids=client_ids)
    return Outcome(locked, task, notes)


def _check_outcome_change(locked: Appointment, status: str, now: datetime.datetime) -> None:
    if status in (Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW) and (
        locked.start_at > now
    ):
        raise ScheduleError(
            "This appointment has not started yet: it can be cancelled now, and marked "
            "attended or no-show once it has started.",
            field="status",
        )
    if locked.status == Appointment.Status.SCHEDULED:
        return
    swap = {Appointment.Status.ATTENDED, Appointment.Status.NO_SHOW}
    if {locked.status, status} != swap:
        raise ScheduleError(
            f"This appointment is already marked {locked.get_status_display().lower()}; "
            "only attended and no-show can be swapped. Book a new appointment instead.",
            field="status",
        )
    if Note.objects.filter(appointment=locked, status=Note.Status.SIGNED).exists():
        raise ScheduleError(
            "A signed note documents this appointment, so its outcome stays: void that note "
            "(with the reason) first, then change the outcome.",
            field="status",
        )


def _undo_no_show(appointment: Appointment, by: User) -> None:
    """No-show turned out to be attended: close the follow-up and drop the unsigned notes."""
    for note in Note.objects.filter(
        appointment=appointment, contact_type=ContactType.NO_SHOW, status=Note.Status.DRAFT
    ):
        try:
            draft_discard(note=note, by=by)
        except NoteError:
            raise ScheduleError(
                "Another person's draft no-show note documents this appointment; ask them to "
                "discard it first.",
                field="status",
            ) from None
    task = Task.objects.filter(appointment=appointment, kind=Task.Kind.FOLLOW_UP).first()
    if task is not None and task.status == Task.Status.OPEN:
        # If `by` may not close it, the follow-up stays on its owner's list for them to close.
        with contextlib.suppress(TaskError):
            task_done(task=task, by=by)


def _follow_up_target(
    appointment: Appointment, by: User, clients: list[Client]
) -> tuple[User, Client] | None:
    """Who follows up, and about whom: the staff member (the recorder, if they have left),
    about the first client in their caseload scope; else the recorder, about one in theirs."""
    people = [appointment.staff] if appointment.staff.is_active else []
    for person in [*people, by]:
        visible = set(
            access.clients_in_scope(person)
            .filter(pk__in=[c.pk for c in clients])
            .values_list("pk", flat=True)
        )
        for client in clients:
            if client.pk in visible:
                return person, client
    return None


def _follow_up(
    appointment: Appointment, by: User, assignee: User, client: Client, now: datetime.datetime
) -> Task:
    agency = _agency(by)
    tz = agency.tzinfo
    what = _kind_label(appointment.kind).lower()
    when = _when(appointment.start_at, tz)
    if appointment.status == Appointment.Status.NO_SHOW:
        title = f"Follow up with {client.display_name} after the missed {what}"
        reason = f"No-show at the {what} on {when}"
    else:
        title = f"Follow up with {client.display_name} after the cancelled {what}"
        reason = f"{client.display_name} cancelled the {what} on {when}"
    if appointment.outcome_reason:
        reason += f": {appointment.outcome_reason}"
    task = task_create(
        assignee=assignee,
        title=title[:200],
        by=by,
        client=client,
        reason=reason[:1000],
        due_on=next_working_day(assignee, now.astimezone(tz).date()),
        kind=Task.Kind.FOLLOW_UP,
        appointment=appointment,
    )
    if task.status == Task.Status.DONE:
        # The follow-up was closed when the no-show was undone; it is needed again.
        with contextlib.suppress(TaskError):
            task = task_reopen(task=task, by=by)
    return task


def _note_times(
    appointment: Appointment, now: datetime.datetime, tz: ZoneInfo
) -> tuple[datetime.date, datetime.datetime | None, datetime.datetime | None]:
    """The note covers the appointment's time if it has passed; a no-show marked early covers
    the wait so far; a cancellation ahead of time is documented today, without times."""
    if appointment.end_at <= now:
        return appointment.start_at.astimezone(tz).date(), appointment.start_at, appointment.end_at
    until = now.replace(second=0, microsecond=0)
    if appointment.start_at < until:
        return appointment.start_at.astimezone(tz).date(), appointment.start_at, until
    return now.astimezone(tz).date(), None, None


def _document(appointment: Appointment, by: User, client: Client, now: datetime.datetime) -> Note:
    """A non-billable note saying what happened, signed when it can be (else left a draft)."""
    agency = _agency(by)
    tz = agency.tzinfo
    contact_type = _contact_type(appointment.status)
    existing = (
        Note.objects.filter(appointment=appointment, client=client, contact_type=contact_type)
        .exclude(status=Note.Status.VOID)
        .first()
    )
    if existing is not None:
        return existing
    service_date, start_at, end_at = _note_times(appointment, now, tz)
    note = note_create(
        client=client,
        author=by,
        start=NoteStart(
            service_date=service_date,
            start_at=start_at,
            end_at=end_at,
            contact_type=contact_type,
            template=agency.note_template,
        ),
    )
    # The note service has no appointment argument; the link is set on the fresh draft.
    Note.objects.filter(pk=note.pk, status=Note.Status.DRAFT).update(appointment=appointment)
    note.appointment = appointment
    template = note_template(note.template)
    words = {
        "name": client.display_name,
        "what": _kind_label(appointment.kind).lower(),
        "when": _when(appointment.start_at, tz),
    }
    narrative = NARRATIVE[contact_type].format(**words)  # type: ignore[index]
    if appointment.outcome_reason:
        narrative += f" Reason given: {appointment.outcome_reason}"
    sections = {}
    for position, section in enumerate(template.sections):
        if position == 0:
            sections[section.key] = narrative
        elif section.required:
            plan_like = section.key == "plan"
            sections[section.key] = STANDARD_PLAN.format(**words) if plan_like else STANDARD_SECTION
    note = note_save_draft(
        note=note, by=by, data={"sections": sections}, expected_version=note.version
    )
    try:
        with transaction.atomic():
            note = note_sign(note=note, by=by, attest=True).note
    except NoteError:
        note.refresh_from_db()  # e.g. a late entry needs a reason: the author signs it later
    return note


def evaluate_warnings_for(client_ids: list[int]) -> None:
    """Ask the worklist to re-check these clients' early warnings (missed appointments in a row).

    Enqueued inside the outcome's transaction, so the worker sees it only once it commits.
    """
    for client_id in client_ids:
        evaluate_client_warnings.enqueue(client_id=client_id)
