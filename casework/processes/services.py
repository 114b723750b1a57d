"""Every write of guided processes: definitions uploaded and versioned, processes started,
steps finished, paused, resumed, reassigned, cancelled, and timers advanced.

Each write locks the process row, runs in one transaction and is audited. A step is finished
by a conditional update (open → done), so a double click or two people at once finish it once.
Answers are PHI and never go into the audit detail or a log.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from casework.clients.models import CareTeamMember, Client
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.models import Role, TeamMembership, User
from casework.plans.selectors import plan_due
from casework.processes import bpmn, engine, operations
from casework.processes.models import (
    REASON_LIMIT,
    ProcessDefinition,
    ProcessEvent,
    ProcessInstance,
    ProcessStep,
)
from casework.processes.steps import StepSpec

logger = logging.getLogger(__name__)
RETRY_STUCK = datetime.timedelta(hours=1)


class ProcessError(Exception):
    """Something the person asked cannot be done; the message says why and what to do."""


class AlreadyRunning(ProcessError):
    def __init__(self, instance: ProcessInstance) -> None:
        super().__init__(
            f"{instance.definition.name} is already running for this client "
            f"(started {instance.started_at:%-d %b %Y}); open it instead of starting another."
        )
        self.instance = instance


class StepAlreadyDone(ProcessError):
    """The step was finished before (a double click, or a colleague got there first)."""

    def __init__(self, step: ProcessStep) -> None:
        who = step.done_by.full_name if step.done_by else "the process"
        when = f" at {timezone.localtime(step.done_at):%-d %b %H:%M}" if step.done_at else ""
        super().__init__(f"“{step.title}” was already finished by {who}{when}; nothing changed.")
        self.step = step


def may_configure_processes(user: Any) -> bool:
    return access.may_manage_staff(user)


def may_run_processes(user: Any) -> bool:
    return access.may_edit_chart(user)


# Definitions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    definition: ProcessDefinition
    changed: bool


def definition_upload(*, by: User, data: bytes) -> Uploaded:
    """Check the file and store it as the next version of its process (or say it is unchanged).
    A file with problems raises bpmn.DefinitionInvalid and stores nothing."""
    if not may_configure_processes(by):
        raise ProcessError("Only an agency admin can change the agency's processes.")
    parsed = bpmn.read_definition(data)
    digest = hashlib.sha256(data).hexdigest()
    try:
        with transaction.atomic():
            return _store_version(by, parsed, data, digest)
    except IntegrityError:
        raise ProcessError(
            "Someone uploaded this process at the same moment; reload the page to see it."
        ) from None


def _store_version(by: User, parsed: bpmn.ParsedDefinition, data: bytes, digest: str) -> Uploaded:
    agency_id = access.agency_id_of(by)
    versions = ProcessDefinition.objects.select_for_update().filter(
        agency_id=agency_id, key=parsed.key
    )
    latest = versions.order_by("-version").first()
    if latest is not None and latest.sha256 == digest:
        if not latest.is_active:  # uploading a retired process again brings it back
            ProcessDefinition.objects.filter(pk=latest.pk).update(is_active=True)
            latest.is_active = True
            audit_record(actor=by, action=Action.UPDATE, obj=latest, detail={"retired": False})
            return Uploaded(latest, changed=True)
        return Uploaded(latest, changed=False)
    number = (versions.aggregate(n=Max("version"))["n"] or 0) + 1
    versions.update(is_active=False)
    definition = ProcessDefinition.objects.create(
        agency_id=agency_id,
        key=parsed.key,
        version=number,
        name=parsed.name,
        description=parsed.description,
        bpmn=data.decode("utf-8"),
        sha256=digest,
        uploaded_by=by,
    )
    audit_record(
        actor=by,
        action=Action.CREATE,
        obj=definition,
        detail={"key": parsed.key, "version": number},
    )
    return Uploaded(definition, changed=True)


def standard_files() -> list[bytes]:
    """The BPMN files Casework ships with (casework/processes/data/bpmn/)."""
    folder = resources.files("casework.processes") / "data" / "bpmn"
    return [
        entry.read_bytes()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".bpmn")
    ]


def standard_definitions_install(*, by: User) -> list[Uploaded]:
    """Add (or update to) the processes Casework ships with."""
    return [definition_upload(by=by, data=data) for data in standard_files()]


def definition_retire(*, by: User, key: str) -> int:
    """No new processes of this kind; the running ones carry on."""
    if not may_configure_processes(by):
        raise ProcessError("Only an agency admin can change the agency's processes.")
    with transaction.atomic():
        count = ProcessDefinition.objects.filter(
            agency_id=access.agency_id_of(by), key=key, is_active=True
        ).update(is_active=False)
        if count:
            audit_record(
                actor=by,
                action=Action.UPDATE,
                object_type="processes.processdefinition",
                object_id=key,
                detail={"retired": True},
            )
    return count


# Running processes ---------------------------------------------------------------------


def _context(client: Client, by: User | None) -> operations.Context:
    return operations.Context(client=client, by=by, today=client.agency.today())


def _primary_case_manager(client: Client) -> User | None:
    member = (
        CareTeamMember.objects.filter(
            CareTeamMember.active_on(client.agency.today()),
            client=client,
            role=CareTeamMember.Role.PRIMARY,
        )
        .select_related("staff")
        .first()
    )
    return member.staff if member and member.staff.is_active else None


def _supervisor_of(user: User) -> User:
    teams = TeamMembership.objects.filter(user=user, team__is_active=True).values("team_id")
    supervisor = (
        TeamMembership.objects.filter(
            team_id__in=teams, kind=TeamMembership.Kind.SUPERVISOR, user__is_active=True
        )
        .exclude(user=user)
        .select_related("user")
        .order_by("id")
        .first()
    )
    return supervisor.user if supervisor else user


def _may_own(user: User, client: Client) -> bool:
    return (
        user.is_active
        and user.agency_id == client.agency_id
        and user.has_role(Role.CASE_MANAGER, Role.SUPERVISOR, Role.AGENCY_ADMIN)
    )


def _require_runner(by: User, client: Client) -> None:
    if not may_run_processes(by) or by.agency_id != client.agency_id:
        raise ProcessError("Your role can follow processes but not run them.")
    if not access.visible_clients(by).filter(pk=client.pk).exists():
        raise ProcessError("You may not work on this client's chart.")


def _event(
    instance: ProcessInstance,
    action: str,
    actor: User | None,
    now: datetime.datetime,
    detail: str = "",
) -> None:
    ProcessEvent.objects.create(
        agency_id=instance.agency_id,
        instance=instance,
        action=action,
        actor=actor,
        at=now,
        detail=detail[:REASON_LIMIT],
    )


def process_start(
    *,
    client: Client,
    key: str,
    by: User | None,
    owner: User | None = None,
    rule_name: str = "",
    depth: int = 0,
) -> ProcessInstance:
    """Start the current version of a process for a client. `by` is None when an automation
    rule starts it (`rule_name` says which); the owner defaults to the person starting it, or
    to the client's primary case manager."""
    if by is not None:
        _require_runner(by, client)
    owner = owner or by or _primary_case_manager(client)
    if owner is None or not _may_own(owner, client):
        raise ProcessError("Choose an active case manager, supervisor or admin to own the process.")
    definition = (
        ProcessDefinition.objects.filter(agency_id=client.agency_id, key=key, is_active=True)
        .order_by("-version")
        .first()
    )
    if definition is None:
        raise ProcessError("That process is not available; an admin can add it under Processes.")
    now = timezone.now()
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()  # one start at a time
        running = (
            ProcessInstance.objects.filter(
                client=client,
                definition__key=key,
                status__in=ProcessInstance.OPEN_STATUSES,
            )
            .select_related("definition")
            .first()
        )
        if running is not None:
            raise AlreadyRunning(running)
        parsed = bpmn.read_definition(definition.bpmn.encode("utf-8"))
        try:
            workflow = engine.start(parsed, _context(client, by))
        except engine.EngineError as error:
            raise ProcessError(str(error)) from None
        instance = ProcessInstance.objects.create(
            agency_id=client.agency_id,
            client=client,
            definition=definition,
            owner=owner,
            started_by=by,
            started_by_rule=rule_name[:200],
            started_at=now,
            state={},
        )
        _event(
            instance,
            ProcessEvent.Action.STARTED,
            by,
            now,
            f"by the rule “{rule_name}”" if rule_name else "",
        )
        _save(instance, workflow, by, now, depth=depth)
        audit_record(
            actor=by,
            agency_id=client.agency_id,
            actor_label="" if by else f"automation: {rule_name}"[:200],
            action=Action.CREATE,
            obj=instance,
            client_id=client.pk,
            detail={"key": key, "version": definition.version},
        )
    return instance


def _due_at(spec: StepSpec, client: Client, now: datetime.datetime) -> datetime.datetime | None:
    if spec.due_in is not None:
        return now + spec.due_in
    if spec.due_at_first_plan_deadline:
        day, _ = plan_due(client=client, current=None)
        if day is not None:
            return datetime.datetime.combine(day, datetime.time(17), tzinfo=client.agency.tzinfo)
    return None


def _sync_steps(
    instance: ProcessInstance, workflow: Any, now: datetime.datetime
) -> list[ProcessStep]:
    """Mirror the workflow's open steps into rows: new ones opened, vanished ones closed."""
    open_now = {step.task_id: step for step in engine.open_steps(workflow)}
    known = set(instance.steps.values_list("task_id", flat=True))
    ProcessStep.objects.filter(instance=instance, status=ProcessStep.Status.OPEN).exclude(
        task_id__in=open_now
    ).update(status=ProcessStep.Status.CLOSED, done_at=now)
    created = []
    for task_id, step in open_now.items():
        if task_id in known:
            continue
        owner = (
            _supervisor_of(instance.owner) if step.spec.owner == "supervisor" else instance.owner
        )
        created.append(
            ProcessStep.objects.create(
                agency_id=instance.agency_id,
                client_id=instance.client_id,
                instance=instance,
                task_id=task_id,
                element_id=step.element_id[:100],
                title=step.title[:200],
                owner=owner,
                opened_at=now,
                due_at=_due_at(step.spec, instance.client, now),
                waiting_kind=step.spec.waiting_kind,
                waiting_on=step.spec.waiting_on,
            )
        )
    return created


def _save(
    instance: ProcessInstance,
    workflow: Any,
    by: User | None,
    now: datetime.datetime,
    *,
    depth: int = 0,
) -> None:
    """Store the workflow's state, its open steps and its next timer; close it if it ended."""
    _sync_steps(instance, workflow, now)
    timers = engine.timers(workflow)
    instance.next_timer_at = timers[0].fires_at if timers else None
    instance.state = engine.dump(workflow)
    finished = engine.is_finished(workflow)
    if finished:
        instance.status = ProcessInstance.Status.COMPLETED
        instance.ended_at = now
        _event(instance, ProcessEvent.Action.COMPLETED, by, now)
    updated = ProcessInstance.objects.filter(pk=instance.pk, revision=instance.revision).update(
        state=instance.state,
        next_timer_at=instance.next_timer_at,
        status=instance.status,
        ended_at=instance.ended_at,
        revision=F("revision") + 1,
    )
    if not updated:
        raise ProcessError("Someone else changed this process just now; reload and try again.")
    instance.revision += 1
    if finished:
        _process_completed(instance, depth)


def _process_completed(instance: ProcessInstance, depth: int) -> None:
    from casework.automation import triggers

    triggers.process_completed(
        instance_id=instance.pk,
        client_id=instance.client_id,
        process_key=instance.definition.key,
        depth=depth,
    )


def _locked(instance_id: int) -> ProcessInstance:
    return (
        ProcessInstance.objects.select_for_update(of=("self",))
        .select_related("definition", "client__agency", "owner")
        .get(pk=instance_id)
    )


def _require_step_owner(by: User, step: ProcessStep, workflow: Any) -> None:
    """A step the diagram gives to a supervisor (an approval, choosing a case manager) is
    finished by its owner, another supervisor or an admin, not by any colleague."""
    spec = next((s.spec for s in engine.open_steps(workflow) if s.task_id == step.task_id), None)
    if spec is None or spec.owner != "supervisor" or by.pk == step.owner_id:
        return
    if not by.has_role(Role.SUPERVISOR, Role.AGENCY_ADMIN):
        raise ProcessError(f"This step is for a supervisor ({step.owner.full_name}).")


def step_complete(*, by: User, step: ProcessStep, answers: dict[str, Any]) -> ProcessStep:
    """Finish an open step with its (already checked) answers and run on to the next one."""
    _require_runner(by, step.client)
    now = timezone.now()
    with transaction.atomic():
        instance = _locked(step.instance_id)
        if instance.status == ProcessInstance.Status.PAUSED:
            raise ProcessError("The process is paused; resume it before finishing steps.")
        if instance.status != ProcessInstance.Status.RUNNING:
            raise ProcessError(f"The process is {instance.get_status_display().lower()}.")
        claimed = ProcessStep.objects.filter(pk=step.pk, status=ProcessStep.Status.OPEN).update(
            status=ProcessStep.Status.DONE, done_by=by, done_at=now, answers=answers
        )
        if not claimed:
            raise StepAlreadyDone(ProcessStep.objects.select_related("done_by").get(pk=step.pk))
        workflow = engine.load(instance.state, _context(instance.client, by))
        _require_step_owner(by, step, workflow)
        try:
            engine.complete(workflow, step.task_id, answers)
        except engine.EngineError as error:
            raise ProcessError(str(error)) from None
        except LookupError:
            raise ProcessError("This step is no longer open; reload the process.") from None
        _event(instance, ProcessEvent.Action.STEP_DONE, by, now, step.title)
        _save(instance, workflow, by, now)
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=step,
            client_id=step.client_id,
            detail={"step": step.element_id, "done": True},
        )
    step.refresh_from_db()
    return step


def _change_status(
    *,
    by: User,
    instance: ProcessInstance,
    allowed_from: tuple[str, ...],
    to: str,
    action: str,
    reason: str = "",
) -> ProcessInstance:
    _require_runner(by, instance.client)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(instance.pk)
        if locked.status not in allowed_from:
            raise ProcessError(f"The process is {locked.get_status_display().lower()}.")
        locked.status = to
        fields = ["status", "revision"]
        if to == ProcessInstance.Status.CANCELLED:
            workflow = engine.load(locked.state, _context(locked.client, by))
            engine.cancel(workflow)
            locked.state = engine.dump(workflow)
            locked.ended_at = now
            locked.end_reason = reason[:REASON_LIMIT]
            locked.next_timer_at = None
            fields += ["state", "ended_at", "end_reason", "next_timer_at"]
            ProcessStep.objects.filter(instance=locked, status=ProcessStep.Status.OPEN).update(
                status=ProcessStep.Status.CLOSED, done_at=now
            )
        locked.revision += 1
        locked.save(update_fields=fields)
        _event(locked, action, by, now, reason)
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"status": to},
        )
    if to == ProcessInstance.Status.RUNNING:
        timers_advance(instance_ids=[locked.pk])  # timers that came due while it was paused
        locked.refresh_from_db()
    return locked


def _reason(reason: str, what: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ProcessError(f"Say why the process is {what}; the team will read it in its history.")
    if len(reason) > REASON_LIMIT:
        raise ProcessError(f"Keep the reason under {REASON_LIMIT} characters.")
    return reason


def process_pause(*, by: User, instance: ProcessInstance, reason: str) -> ProcessInstance:
    return _change_status(
        by=by,
        instance=instance,
        allowed_from=(ProcessInstance.Status.RUNNING,),
        to=ProcessInstance.Status.PAUSED,
        action=ProcessEvent.Action.PAUSED,
        reason=_reason(reason, "paused"),
    )


def process_resume(*, by: User, instance: ProcessInstance) -> ProcessInstance:
    return _change_status(
        by=by,
        instance=instance,
        allowed_from=(ProcessInstance.Status.PAUSED,),
        to=ProcessInstance.Status.RUNNING,
        action=ProcessEvent.Action.RESUMED,
    )


def process_cancel(*, by: User, instance: ProcessInstance, reason: str) -> ProcessInstance:
    return _change_status(
        by=by,
        instance=instance,
        allowed_from=(ProcessInstance.Status.RUNNING, ProcessInstance.Status.PAUSED),
        to=ProcessInstance.Status.CANCELLED,
        action=ProcessEvent.Action.CANCELLED,
        reason=_reason(reason, "cancelled"),
    )


def process_reassign(*, by: User, instance: ProcessInstance, to: User) -> ProcessInstance:
    """Give the process and its open steps (those the owner held) to a colleague."""
    _require_runner(by, instance.client)
    if not _may_own(to, instance.client):
        raise ProcessError(
            "Choose an active case manager, supervisor or admin of this agency to own the process."
        )
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(instance.pk)
        if not locked.is_open:
            raise ProcessError(f"The process is {locked.get_status_display().lower()}.")
        if locked.owner_id == to.pk:
            return locked
        previous = locked.owner
        ProcessStep.objects.filter(
            instance=locked, status=ProcessStep.Status.OPEN, owner=previous
        ).update(owner=to)
        locked.owner = to
        locked.revision += 1
        locked.save(update_fields=["owner", "revision"])
        _event(
            locked,
            ProcessEvent.Action.REASSIGNED,
            by,
            now,
            f"from {previous.full_name} to {to.full_name}",
        )
        audit_record(
            actor=by,
            action=Action.UPDATE,
            obj=locked,
            client_id=locked.client_id,
            detail={"owner": to.pk},
        )
    return locked


# Timers --------------------------------------------------------------------------------


def timers_advance(
    *, now: datetime.datetime | None = None, instance_ids: list[int] | None = None
) -> int:
    """Move on every running process whose timer is due; returns how many moved. Each
    process moves in its own transaction, so one that fails does not hold back the rest, and
    a second worker finds nothing left to do (the row is locked and re-checked)."""
    now = now or timezone.now()
    due = ProcessInstance.objects.filter(
        status=ProcessInstance.Status.RUNNING, next_timer_at__lte=now
    )
    if instance_ids is not None:
        due = due.filter(pk__in=instance_ids)
    moved = 0
    for instance_id in due.order_by("next_timer_at").values_list("pk", flat=True)[:500]:
        try:
            moved += _advance_one(instance_id, now)
        except (ProcessError, engine.EngineError) as error:
            _hold_back(instance_id, now, str(error))
    return moved


def _advance_one(instance_id: int, now: datetime.datetime) -> int:
    with transaction.atomic():
        instance = _locked(instance_id)
        if instance.status != ProcessInstance.Status.RUNNING or not (
            instance.next_timer_at and instance.next_timer_at <= now
        ):
            return 0
        workflow = engine.load(instance.state, _context(instance.client, None))
        before = {t.element_id: t.title for t in engine.timers(workflow)}
        engine.advance(workflow)
        still_waiting = {t.element_id for t in engine.timers(workflow)}
        for element_id, title in before.items():
            if element_id not in still_waiting:
                _event(instance, ProcessEvent.Action.TIMER, None, now, title)
        _save(instance, workflow, None, now)
    return 1


def _hold_back(instance_id: int, now: datetime.datetime, why: str) -> None:
    """A process whose timer cannot move on (its diagram fails after the timer) waits an hour
    and says so in its history, instead of holding back every process after it."""
    logger.warning(
        "Process %s could not move on after its timer; retrying in an hour.", instance_id
    )
    with transaction.atomic():
        instance = _locked(instance_id)
        ProcessInstance.objects.filter(pk=instance_id).update(next_timer_at=now + RETRY_STUCK)
        if not instance.events.filter(
            action=ProcessEvent.Action.STUCK, at__gte=now - RETRY_STUCK
        ).exists():
            _event(instance, ProcessEvent.Action.STUCK, None, now, why)
