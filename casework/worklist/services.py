"""Every write to tasks and snoozes. Each step is kept as a `TaskEvent` and audited."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from casework.clients.models import Client
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User
from casework.schedule.models import Appointment
from casework.worklist.models import TEXT_LIMIT, TITLE_LIMIT, Snooze, Task, TaskEvent

TASK_CREATE = "task_create"
LONGEST_SNOOZE = datetime.timedelta(days=90)


class TaskError(Exception):
    """A task change that cannot be made; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _event(task: Task, action: str, by: User | None, detail: str = "") -> None:
    TaskEvent.objects.create(
        agency_id=task.agency_id, task=task, action=action, by=by, detail=detail[:300]
    )


def _audit(by: User | None, task: Task, action: str, **detail: object) -> None:
    audit_record(
        actor=by,
        action=action,
        obj=task,
        client_id=task.client_id,
        agency_id=task.agency_id,
        actor_label="" if by else "rule",
        detail=detail,
    )


def _check_assignee(assignee: User, agency_id: int, client_id: int | None) -> None:
    if assignee.agency_id != agency_id:
        raise TaskError("That person is not on this agency's staff.", field="assignee")
    if not assignee.is_active:
        raise TaskError(f"{assignee.full_name} is no longer active.", field="assignee")
    if (
        client_id is not None
        and not access.clients_in_scope(assignee).filter(pk=client_id).exists()
    ):
        raise TaskError(
            f"{assignee.full_name} does not work with this client: add them to the care team "
            "first, or choose someone who does.",
            field="assignee",
        )


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise TaskError("Say what needs doing.", field="title")
    if len(title) > TITLE_LIMIT:
        raise TaskError(f"Keep the title under {TITLE_LIMIT} characters.", field="title")
    return title


def is_casework_path(link: str) -> bool:
    """A path on this site ("/schedule/new/?…"): one leading slash, no scheme, no host, no
    backslash or control character a browser could read as another site."""
    return (
        len(link) <= 300
        and link.startswith("/")
        and not link.startswith(("//", "/\\"))
        and "\\" not in link
        and link.isprintable()
        and url_has_allowed_host_and_scheme(link, allowed_hosts=set())
    )


def task_create(
    *,
    assignee: User,
    title: str,
    by: User | None,
    client: Client | None = None,
    reason: str = "",
    due_on: datetime.date | None = None,
    urgent: bool = False,
    kind: str = Task.Kind.MANUAL,
    appointment: Appointment | None = None,
    submission_key: str = "",
    link: str = "",
) -> Task:
    """A task for `assignee`; `by` is None when a rule makes it. `link` is the Casework page
    where it is done (a path such as the filled-in booking form).

    A follow-up for an appointment is made once however often it is asked for.
    """
    agency_id = assignee.agency_id
    assert agency_id is not None
    if by is not None and by.agency_id != agency_id:
        raise TaskError("You can only give tasks to your own agency's staff.", field="assignee")
    if client is not None and client.agency_id != agency_id:
        raise TaskError("This client belongs to another agency.")
    _check_assignee(assignee, agency_id, client.pk if client is not None else None)
    title = _clean_title(title)
    if len(reason) > TEXT_LIMIT:
        raise TaskError(f"Keep the reason under {TEXT_LIMIT} characters.", field="reason")
    if link and not is_casework_path(link):
        raise TaskError("A task's link must be a page of Casework.")
    with transaction.atomic():
        if by is not None:
            assert by.agency is not None
            submission = submission_claim(
                agency=by.agency, by=by, purpose=TASK_CREATE, key=submission_key
            )
            if submission.earlier_object_id is not None:
                return Task.objects.get(pk=submission.earlier_object_id)
        if appointment is not None:
            existing = Task.objects.filter(appointment=appointment, kind=kind).first()
            if existing is not None:
                return existing
        try:
            with transaction.atomic():
                task = Task.objects.create(
                    agency_id=agency_id,
                    assignee=assignee,
                    client=client,
                    kind=kind,
                    title=title,
                    reason=reason.strip(),
                    link=link,
                    due_on=due_on,
                    urgent=urgent,
                    appointment=appointment,
                    created_by=by,
                )
        except IntegrityError:
            # A twin request made the appointment's follow-up first.
            return Task.objects.get(appointment=appointment, kind=kind)
        _event(task, TaskEvent.Action.CREATED, by)
        _audit(by, task, Action.CREATE, kind=kind)
        if by is not None:
            submission_complete(submission, task.pk)
    return task


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update().get(pk=task.pk)


def _check_may_change(task: Task, by: User) -> None:
    """The assignee, or a supervisor of the assignee's team, or an admin."""
    if by.agency_id != task.agency_id:
        raise TaskError("This task belongs to another agency.")
    if access.may_act_for(by, task.assignee_id):
        return
    raise TaskError("Only the person it is for, or their supervisor, can change this task.")


def task_done(*, task: Task, by: User) -> Task:
    """Mark the task done; doing it twice changes nothing."""
    with transaction.atomic():
        task = _locked(task)
        _check_may_change(task, by)
        if task.status == Task.Status.DONE:
            return task
        task.status = Task.Status.DONE
        task.done_at = timezone.now()
        task.done_by = by
        task.snoozed_until = None
        task.version += 1
        task.save(update_fields=["status", "done_at", "done_by", "snoozed_until", "version"])
        _event(task, TaskEvent.Action.DONE, by)
        _audit(by, task, Action.UPDATE, status="done")
    return task


def task_settle(*, task: Task, by: User, why: str) -> Task:
    """The record a task was made for no longer needs it (a referral closed): done, with why.

    For tasks rules make (e.g. referral follow-ups), which the person changing the record may
    settle even when the task is a colleague's; `why` is a short fixed phrase, never PHI.
    """
    with transaction.atomic():
        task = _locked(task)
        if task.status == Task.Status.DONE:
            return task
        task.status = Task.Status.DONE
        task.done_at = timezone.now()
        task.done_by = by
        task.snoozed_until = None
        task.version += 1
        task.save(update_fields=["status", "done_at", "done_by", "snoozed_until", "version"])
        _event(task, TaskEvent.Action.DONE, by, why)
        _audit(by, task, Action.UPDATE, status="done", why=why)
    return task


def task_due_move(*, task: Task, due_on: datetime.date, by: User, why: str) -> Task:
    """The date a rule's task is due changed with its record (a referral's follow-up date)."""
    with transaction.atomic():
        task = _locked(task)
        previous = task.due_on
        if previous == due_on:
            return task
        task.due_on = due_on
        task.snoozed_until = None
        task.version += 1
        task.save(update_fields=["due_on", "snoozed_until", "version"])
        _event(task, TaskEvent.Action.MOVED, by, why)
        _audit(
            by,
            task,
            Action.UPDATE,
            due_on=due_on.isoformat(),
            previous_due_on=previous.isoformat() if previous else None,
            why=why,
        )
    return task


def task_reopen(*, task: Task, by: User) -> Task:
    with transaction.atomic():
        task = _locked(task)
        _check_may_change(task, by)
        if task.status == Task.Status.OPEN:
            return task
        task.status = Task.Status.OPEN
        task.done_at = None
        task.done_by = None
        task.version += 1
        task.save(update_fields=["status", "done_at", "done_by", "version"])
        _event(task, TaskEvent.Action.REOPENED, by)
        _audit(by, task, Action.UPDATE, status="open")
    return task


def _check_snooze_date(until: datetime.date, today: datetime.date) -> None:
    if until <= today:
        raise TaskError("Snooze until a day after today.", field="until")
    if until - today > LONGEST_SNOOZE:
        raise TaskError("Snooze for at most 90 days; make a task with a due date instead.", "until")


def task_snooze(*, task: Task, by: User, until: datetime.date) -> Task:
    """Put the task aside until a later day; it comes back on My day that morning."""
    assert by.agency is not None
    _check_snooze_date(until, by.agency.today())
    with transaction.atomic():
        task = _locked(task)
        _check_may_change(task, by)
        if task.status == Task.Status.DONE:
            raise TaskError("This task is already done.")
        task.snoozed_until = until
        task.version += 1
        task.save(update_fields=["snoozed_until", "version"])
        _event(task, TaskEvent.Action.SNOOZED, by, f"until {until.isoformat()}")
        _audit(by, task, Action.UPDATE, snoozed_until=until.isoformat())
    return task


def task_reassign(*, task: Task, by: User, to: User) -> Task:
    """Give the task to someone else; both the old and new assignee see it in its history."""
    with transaction.atomic():
        task = _locked(task)
        _check_may_change(task, by)
        _check_assignee(to, task.agency_id, task.client_id)
        if to.pk == task.assignee_id:
            return task
        if not access.may_write_notes(to):
            raise TaskError(f"{to.full_name} does not take client work.", field="assignee")
        previous = task.assignee_id
        task.assignee = to
        task.snoozed_until = None
        task.version += 1
        task.save(update_fields=["assignee", "snoozed_until", "version"])
        _event(task, TaskEvent.Action.REASSIGNED, by, f"to {to.full_name}")
        _audit(by, task, Action.UPDATE, assignee=to.pk, previous_assignee=previous)
    return task


def item_snooze(*, user: User, item_key: str, until: datetime.date, label: str = "") -> Snooze:
    """Put a derived My day item (a plan review due, a note to sign…) aside until a date."""
    assert user.agency is not None
    _check_snooze_date(until, user.agency.today())
    with transaction.atomic():
        snooze, _ = Snooze.objects.update_or_create(
            user=user,
            item_key=item_key[:120],
            defaults={"agency_id": user.agency_id, "until": until, "label": label[:TITLE_LIMIT]},
        )
        audit_record(
            actor=user,
            action=Action.UPDATE,
            obj=snooze,
            detail={"item": item_key[:120], "until": until.isoformat()},
        )
    return snooze


def item_bring_back(*, user: User, snooze: Snooze) -> Snooze:
    """End a snooze early: the item is back on My day today, and the snooze stays on record."""
    assert user.agency is not None
    if snooze.user_id != user.pk:
        raise TaskError("That snooze is someone else's.")
    with transaction.atomic():
        snooze.until = user.agency.today()
        snooze.save(update_fields=["until"])
        audit_record(actor=user, action=Action.UPDATE, obj=snooze, detail={"brought_back": True})
    return snooze
