"""What a rule does: a task, a request to book a follow-up, a word to the supervisor, a process.

Tasks are made through the worklist's `task_create` (audited, with their history) with no
acting person: "a rule made it". Each action returns a summary for the log that names no client
and says nothing clinical. The supervisor's email carries the rule's name and a link, never a
client's name: email leaves the agency's hands.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from casework.automation import processes_bridge
from casework.automation.models import ActionKind, AssigneeKind, AutomationRule, AutomationRun
from casework.automation.models import Trigger as T
from casework.clients.models import CareTeamMember, Client
from casework.core.models import TeamMembership, User
from casework.worklist.models import TEXT_LIMIT, Task
from casework.worklist.services import TaskError, task_create

logger = logging.getLogger(__name__)
Made = Any  # the model row an action made (a Task, a process instance), or None

DEFAULT_TITLES: dict[str, str] = {
    T.HOSPITAL_STAY: "Follow up after a hospital stay or ER visit",
    T.RELEASE_EXPIRING: "Renew the release of information",
    T.NO_SHOW: "Reach the client after the missed appointment",
    T.PLAN_REVIEW_DUE: "Review the service plan",
    T.AUTHORIZATION_USED: "Ask for a new authorization",
    T.ASSESSMENT_FLAG: "Act on the assessment's flag",
    T.PROCESS_COMPLETED: "Follow up on the completed process",
}
SLOT_TITLE = "Book a follow-up appointment"


class ActionError(Exception):
    """The action cannot be done (no one to give it to, processes not installed…).

    The message goes into the run log: it names no client and says nothing clinical.
    """


@dataclass(frozen=True)
class Done:
    summary: str
    made: Made


def primary_case_manager(client: Client) -> User | None:
    """The client's active primary case manager today, if any (one query)."""
    assert client.agency is not None
    member = (
        CareTeamMember.objects.filter(
            CareTeamMember.active_on(client.agency.today()),
            client=client,
            agency_id=client.agency_id,
            role=CareTeamMember.Role.PRIMARY,
            staff__is_active=True,
            staff__agency_id=client.agency_id,
        )
        .select_related("staff")
        .order_by("start_on", "id")
        .first()
    )
    return member.staff if member is not None else None


def _responsible(rule: AutomationRule, client: Client) -> User:
    """Who the rule gives work to: the fixed staff member, or the primary case manager."""
    if rule.assignee_kind == AssigneeKind.STAFF:
        if rule.assignee is None or not rule.assignee.is_active:
            raise ActionError("the staff member the rule names is no longer active")
        return rule.assignee
    manager = primary_case_manager(client)
    if manager is None:
        raise ActionError("the client has no primary case manager")
    return manager


def team_supervisor(staff: User) -> User | None:
    """A supervisor of the staff member's first active team (one query)."""
    assert staff.agency_id is not None
    teams = TeamMembership.objects.filter(
        user=staff, team__is_active=True, agency_id=staff.agency_id
    ).values("team_id")
    membership = (
        TeamMembership.objects.filter(
            team_id__in=teams,
            kind=TeamMembership.Kind.SUPERVISOR,
            user__is_active=True,
            user__agency_id=staff.agency_id,
        )
        .exclude(user=staff)
        .select_related("user")
        .order_by("team_id", "user_id")
        .first()
    )
    return membership.user if membership is not None else None


def _due_on(rule: AutomationRule, client: Client) -> datetime.date:
    assert client.agency is not None
    return client.agency.today() + datetime.timedelta(days=rule.due_in_days)


def _day(day: datetime.date) -> str:
    return f"{day.day} {day:%b}"


def _reason(rule: AutomationRule, what: str) -> str:
    return f"Automation rule “{rule.name}”: {what}"


def _task(
    *,
    assignee: User,
    client: Client,
    title: str,
    reason: str,
    due_on: datetime.date,
    link: str = "",
) -> Task:
    try:
        return task_create(
            assignee=assignee,
            title=title,
            by=None,
            client=client,
            reason=reason[:TEXT_LIMIT],
            due_on=due_on,
            kind=Task.Kind.AUTOMATED,
            link=link,
        )
    except TaskError as error:
        raise ActionError(str(error).rstrip(".")) from None


def create_task(*, rule: AutomationRule, client: Client, what: str, run: AutomationRun) -> Done:
    assignee = _responsible(rule, client)
    due_on = _due_on(rule, client)
    task = _task(
        assignee=assignee,
        client=client,
        title=rule.task_title or DEFAULT_TITLES.get(rule.trigger, "Follow up"),
        reason=_reason(rule, what),
        due_on=due_on,
    )
    return Done(f"Task for {assignee.full_name}, due {_day(due_on)}", task)


def booking_link(client: Client, day: datetime.date) -> str:
    """The schedule's new-appointment form, filled in with the client and the day."""
    return reverse("appointment_new") + "?" + urlencode({"client": client.pk, "date": day})


def request_slot(*, rule: AutomationRule, client: Client, what: str, run: AutomationRun) -> Done:
    assignee = _responsible(rule, client)
    due_on = _due_on(rule, client)
    task = _task(
        assignee=assignee,
        client=client,
        title=rule.task_title or SLOT_TITLE,
        reason=f"{_reason(rule, what)}. The task opens the booking form, filled in.",
        due_on=due_on,
        link=booking_link(client, due_on),
    )
    return Done(f"Booking request for {assignee.full_name}, due {_day(due_on)}", task)


def notify_supervisor(
    *, rule: AutomationRule, client: Client, what: str, run: AutomationRun
) -> Done:
    manager = _responsible(rule, client)
    supervisor = team_supervisor(manager)
    if supervisor is None:
        raise ActionError(f"no active supervisor on {manager.full_name}'s teams")
    due_on = _due_on(rule, client)
    task = _task(
        assignee=supervisor,
        client=client,
        title=rule.task_title or f"Check in with {manager.full_name} about a client",
        reason=_reason(rule, what),
        due_on=due_on,
    )
    run_id, rule_name, address = run.pk, rule.name, supervisor.email
    transaction.on_commit(lambda: _email_supervisor(address, rule_name, run_id))
    return Done(f"Task and email for supervisor {supervisor.full_name}", task)


def _email_supervisor(address: str, rule_name: str, run_id: int) -> None:
    """Sent once the run is committed (so never for a run that rolled back)."""
    if not address:
        return
    link = f"{settings.SITE_URL.rstrip('/')}/" if settings.SITE_URL else "Casework"
    try:
        send_mail(
            "Casework: an automation rule needs your attention",
            f"The automation rule “{rule_name}” put a task on your My day. Open {link} to see it.",
            settings.DEFAULT_FROM_EMAIL,
            [address],
        )
    except Exception:  # the task is on My day whatever the mail server says
        logger.warning("Supervisor email for automation run %s failed", run_id, exc_info=True)


def start_process(*, rule: AutomationRule, client: Client, what: str, run: AutomationRun) -> Done:
    owner = _responsible(rule, client)
    try:
        instance = processes_bridge.process_start(
            client=client, key=rule.process_key, owner=owner, rule_name=rule.name, depth=run.depth
        )
    except processes_bridge.ProcessesUnavailable as error:
        raise ActionError(str(error).rstrip(".")) from None
    except processes_bridge.ProcessRefused as error:
        raise ActionError(str(error).rstrip(".")) from None
    return Done(f"Process “{rule.process_key}” started for {owner.full_name}", instance)


PERFORM = {
    ActionKind.CREATE_TASK: create_task,
    ActionKind.REQUEST_SLOT: request_slot,
    ActionKind.NOTIFY_SUPERVISOR: notify_supervisor,
    ActionKind.START_PROCESS: start_process,
}


def perform(*, rule: AutomationRule, client: Client, event_what: str, run: AutomationRun) -> Done:
    action = PERFORM.get(rule.action)  # type: ignore[call-overload]
    if action is None:
        raise ActionError("the rule's action is not known")
    return action(rule=rule, client=client, what=event_what, run=run)
