"""Every write to automation settings: rules, the per-client switch, reminder preferences.

Each is checked, done in one transaction and audited with the acting person. A rule that would
start itself again (a completed process starting the same process, directly or through other
rules) is refused when it is saved or switched on; chains that slip past are stopped at run
time (`engine.MAX_CHAIN_DEPTH`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q

from casework.automation import processes_bridge
from casework.automation.models import (
    DAYS_TRIGGERS,
    KEY_LIMIT,
    MAX_DAYS,
    NAME_LIMIT,
    TITLE_LIMIT,
    ActionKind,
    AssigneeKind,
    AutomationOptOut,
    AutomationRule,
    Channel,
    ReminderPreference,
    Trigger,
)
from casework.automation.policy import may_configure_automation, may_switch_for_client
from casework.automation.reminders import textable_phone_problem
from casework.clients.models import Client, Phone
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import Agency, User

RULE_CREATE = "automation_rule_create"
REASON_LIMIT = 300


class AutomationError(Exception):
    """A change that cannot be made; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RuleInput:
    """A rule as an admin typed it."""

    name: str
    trigger: str
    action: str
    days_before: int | None = None
    percent: int = 80
    trigger_process_key: str = ""
    task_title: str = ""
    due_in_days: int = 1
    assignee_kind: str = AssigneeKind.PRIMARY
    assignee: User | None = None
    process_key: str = ""
    is_active: bool = True


def when_it_acts(trigger: str) -> str:
    """What a rule with this trigger acts on, said honestly to the person who saves it."""
    if trigger == Trigger.AUTHORIZATION_USED:
        return (
            "Each hour it looks at every authorization in force, including those already past "
            "the share when the rule is switched on: they get the action at the next pass."
        )
    if trigger in DAYS_TRIGGERS:
        return (
            "Each hour it looks at every client; releases and plan reviews already within the "
            "days ahead when the rule was made are left to you."
        )
    return "It acts on what happens from now on."


def has_visible_text(text: str) -> bool:
    """Whether the text has a character one can see: not only spaces, zero-width or control
    characters (which look blank in a list and in the log)."""
    return any(unicodedata.category(char)[0] not in "ZC" for char in text)


def _edges(agency_id: int, excluding: int | None) -> list[tuple[str, str]]:
    """(completed process or "" for any, started process) of the agency's active rules."""
    rules = AutomationRule.objects.filter(
        agency_id=agency_id,
        is_active=True,
        trigger=Trigger.PROCESS_COMPLETED,
        action=ActionKind.START_PROCESS,
    )
    if excluding is not None:
        rules = rules.exclude(pk=excluding)
    return list(rules.values_list("trigger_process_key", "process_key"))


def starts_itself(*, trigger_key: str, start_key: str, others: list[tuple[str, str]]) -> bool:
    """Whether starting `start_key` leads back to a rule "when `trigger_key` completes" (blank:
    any process), following the other rules that start a process when one completes."""
    seen: set[str] = set()
    frontier = [start_key]
    while frontier:
        key = frontier.pop()
        if trigger_key in ("", key):
            return True
        if key in seen:
            continue
        seen.add(key)
        frontier += [to for source, to in others if source in ("", key)]
    return False


def rule_problems(
    data: RuleInput, *, agency_id: int, rule_id: int | None = None
) -> list[tuple[str | None, str]]:
    """Everything wrong with the rule as typed, as (field, message), in the form's order."""
    problems: list[tuple[str | None, str]] = []
    name = " ".join(data.name.split())
    if not has_visible_text(name):
        problems.append(("name", "Give the rule a name, e.g. “No-show follow-up”."))
    elif len(name) > NAME_LIMIT:
        problems.append(("name", f"Keep the name under {NAME_LIMIT} characters."))
    elif (
        AutomationRule.objects.filter(agency_id=agency_id, name__iexact=name)
        .exclude(pk=rule_id or 0)
        .exists()
    ):
        problems.append(("name", "Another rule has this name: choose another."))
    if data.trigger not in Trigger.values:
        problems.append(("trigger", "Choose when the rule fires."))
    if data.action not in ActionKind.values:
        problems.append(("action", "Choose what the rule does."))
    if data.trigger in DAYS_TRIGGERS and (
        data.days_before is None or not 1 <= data.days_before <= MAX_DAYS
    ):
        problems.append(("days_before", f"Enter a number of days from 1 to {MAX_DAYS}."))
    if data.trigger == Trigger.AUTHORIZATION_USED and not 1 <= data.percent <= 100:
        problems.append(("percent", "Enter a percentage from 1 to 100."))
    if not 0 <= data.due_in_days <= MAX_DAYS:
        problems.append(("due_in_days", f"Enter a number of days from 0 to {MAX_DAYS}."))
    if len(data.task_title.strip()) > TITLE_LIMIT:
        problems.append(("task_title", f"Keep the title under {TITLE_LIMIT} characters."))
    known = dict(processes_bridge.process_choices(agency_id=agency_id))
    if (
        data.trigger == Trigger.PROCESS_COMPLETED
        and data.trigger_process_key
        and (data.trigger_process_key not in known or len(data.trigger_process_key) > KEY_LIMIT)
    ):
        problems.append(("trigger_process_key", "There is no such guided process."))
    if data.action == ActionKind.START_PROCESS:
        if not known:
            problems.append(("process_key", "No guided processes are installed yet."))
        elif not data.process_key:
            problems.append(("process_key", "Choose the process to start."))
        elif data.process_key not in known:
            problems.append(("process_key", "There is no such guided process."))
        elif data.trigger == Trigger.PROCESS_COMPLETED and starts_itself(
            trigger_key=data.trigger_process_key,
            start_key=data.process_key,
            others=_edges(agency_id, rule_id),
        ):
            problems.append(
                (
                    "process_key",
                    "This rule would start itself again in a loop: the process it starts, when "
                    "completed, fires this rule (directly or through other rules). Choose another "
                    "process or another trigger.",
                )
            )
    if data.assignee_kind not in AssigneeKind.values:
        problems.append(("assignee_kind", "Choose who the work goes to."))
    elif data.assignee_kind == AssigneeKind.STAFF:
        person = data.assignee
        if person is None:
            problems.append(("assignee", "Choose the staff member."))
        elif person.agency_id != agency_id or not person.is_active:
            problems.append(("assignee", "That person is not active staff of this agency."))
        elif not access.may_write_notes(person):
            problems.append(("assignee", f"{person.full_name} does not take client work."))
    return problems


def _check(data: RuleInput, *, agency_id: int, rule_id: int | None = None) -> None:
    problems = rule_problems(data, agency_id=agency_id, rule_id=rule_id)
    if problems:
        field, message = problems[0]
        raise AutomationError(message, field=field)


def _check_admin(by: User, agency_id: int) -> None:
    if not may_configure_automation(by) or by.agency_id != agency_id:
        raise AutomationError("Only agency admins and supervisors change automation rules.")


def _values(data: RuleInput) -> dict[str, object]:
    staff = data.assignee_kind == AssigneeKind.STAFF
    return {
        "name": " ".join(data.name.split()),
        "trigger": data.trigger,
        "action": data.action,
        "days_before": data.days_before if data.trigger in DAYS_TRIGGERS else None,
        "percent": data.percent if data.trigger == Trigger.AUTHORIZATION_USED else 80,
        "trigger_process_key": data.trigger_process_key
        if data.trigger == Trigger.PROCESS_COMPLETED
        else "",
        "task_title": " ".join(data.task_title.split()),
        "due_in_days": data.due_in_days,
        "assignee_kind": data.assignee_kind,
        "assignee": data.assignee if staff else None,
        "process_key": data.process_key if data.action == ActionKind.START_PROCESS else "",
        "is_active": data.is_active,
    }


def _audit(by: User, rule: AutomationRule, what: str, **detail: object) -> None:
    audit_record(actor=by, action=what, obj=rule, agency_id=rule.agency_id, detail=detail)


def automation_rule_create(
    *, agency: Agency, by: User, data: RuleInput, submission_key: str = ""
) -> AutomationRule:
    """A new rule; the same form sent twice makes one."""
    _check_admin(by, agency.pk)
    with transaction.atomic():
        submission = submission_claim(agency=agency, by=by, purpose=RULE_CREATE, key=submission_key)
        if submission.earlier_object_id is not None:
            return AutomationRule.objects.get(pk=submission.earlier_object_id, agency=agency)
        _check(data, agency_id=agency.pk)
        try:
            with transaction.atomic():
                rule = AutomationRule.objects.create(
                    agency=agency,
                    created_by=by,
                    **_values(data),
                )
        except IntegrityError:
            raise AutomationError("Another rule has this name: choose another.", "name") from None
        _audit(by, rule, Action.CREATE, trigger=rule.trigger, action=rule.action)
        submission_complete(submission, rule.pk)
    return rule


def automation_rule_update(
    *, rule: AutomationRule, by: User, data: RuleInput, expected_version: int
) -> AutomationRule:
    """Change a rule; refused if someone else saved it since the form was opened."""
    _check_admin(by, rule.agency_id)
    with transaction.atomic():
        locked = AutomationRule.objects.select_for_update().get(pk=rule.pk)
        if locked.version != expected_version:
            raise AutomationError(
                "Someone else changed this rule while you were editing it. Open it again to "
                "see their change, then make yours."
            )
        _check(data, agency_id=locked.agency_id, rule_id=locked.pk)
        changed = {}
        for name, value in _values(data).items():
            current = getattr(locked, name)
            if current != value:
                changed[name] = getattr(value, "pk", value)
                setattr(locked, name, value)
        if not changed:
            return locked
        locked.version += 1
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise AutomationError("Another rule has this name: choose another.", "name") from None
        _audit(by, locked, Action.UPDATE, changed=sorted(changed))
    return locked


def automation_rule_switch(*, rule: AutomationRule, by: User, on: bool) -> AutomationRule:
    """Switch a rule on or off; switching on checks it again (a loop may have appeared)."""
    _check_admin(by, rule.agency_id)
    with transaction.atomic():
        locked = AutomationRule.objects.select_for_update().get(pk=rule.pk)
        if locked.is_active == on:
            return locked
        if on:
            current = RuleInput(
                **{
                    f.name: getattr(locked, f.name)
                    for f in fields(RuleInput)
                    if f.name != "is_active"
                },
                is_active=True,
            )
            _check(current, agency_id=locked.agency_id, rule_id=locked.pk)
        locked.is_active = on
        locked.version += 1
        locked.save(update_fields=["is_active", "version", "updated_at"])
        _audit(by, locked, Action.UPDATE, is_active=on)
    return locked


# --- per client -------------------------------------------------------------------------------


def _check_client_writer(by: User, client: Client) -> None:
    if (
        not may_switch_for_client(by)
        or by.agency_id != client.agency_id
        or not access.visible_clients(by).filter(pk=client.pk).exists()
    ):
        raise AutomationError("Only staff who work with this client change their automation.")


def automation_switch_for_client(
    *, client: Client, by: User, rule: AutomationRule | None, off: bool, reason: str = ""
) -> None:
    """Switch automation off (or back on) for the client: one rule, or every rule (None)."""
    _check_client_writer(by, client)
    if rule is not None and rule.agency_id != client.agency_id:
        raise AutomationError("There is no such rule.")
    reason = " ".join(reason.split())
    if len(reason) > REASON_LIMIT:
        raise AutomationError(f"Keep the reason under {REASON_LIMIT} characters.", "reason")
    with transaction.atomic():
        list(Client.objects.select_for_update().filter(pk=client.pk).values_list("pk"))
        which = Q(rule=rule) if rule is not None else Q(rule__isnull=True)
        existing = AutomationOptOut.objects.filter(which, client=client).first()
        if off and existing is None:
            row = AutomationOptOut.objects.create(
                agency_id=client.agency_id, client=client, rule=rule, by=by, reason=reason
            )
            audit_record(
                actor=by,
                action=Action.CREATE,
                obj=row,
                client_id=client.pk,
                detail={"rule": rule.pk if rule else "every"},
            )
        elif not off and existing is not None:
            audit_record(
                actor=by,
                action=Action.DELETE,
                obj=existing,
                client_id=client.pk,
                detail={"rule": rule.pk if rule else "every"},
            )
            existing.delete()


NO_SAFE_PHONE = "Mark a mobile number as safe to text on the client's contact details first."


def reminder_preference_save(
    *,
    client: Client,
    by: User,
    channel: str,
    phone: Phone | None = None,
    email: str = "",
) -> ReminderPreference:
    """How the client wants appointment reminders: none, a text to one of their phones marked
    safe to text, or an email."""
    _check_client_writer(by, client)
    if channel not in Channel.values:
        raise AutomationError("Choose how reminders are sent.", "channel")
    email = email.strip()
    if channel == Channel.SMS:
        if phone is None:
            raise AutomationError(
                "Choose the number to text."
                if Phone.objects.filter(client=client, safe_to_text=True).exists()
                else NO_SAFE_PHONE,
                "phone",
            )
        problem = textable_phone_problem(phone, client)
        if problem:
            raise AutomationError(f"{problem[0].upper()}{problem[1:]}.", "phone")
    if channel == Channel.EMAIL:
        if not email:
            raise AutomationError("Type the email address.", "email")
        try:
            validate_email(email)
        except ValidationError:
            raise AutomationError("That is not an email address.", "email") from None
        if len(email) > 254:
            raise AutomationError("That email address is too long.", "email")
    with transaction.atomic():
        preference = ReminderPreference.objects.select_for_update().filter(client=client).first()
        values = {
            "channel": channel,
            "phone": phone if channel == Channel.SMS else None,
            "email": email if channel == Channel.EMAIL else "",
        }
        if preference is None:
            preference = ReminderPreference.objects.create(
                agency_id=client.agency_id, client=client, updated_by=by, **values
            )
            action = Action.CREATE
        else:
            if all(getattr(preference, k) == v for k, v in values.items()):
                return preference
            for key, value in values.items():
                setattr(preference, key, value)
            preference.updated_by = by
            preference.version += 1
            preference.save()
            action = Action.UPDATE
        audit_record(
            actor=by,
            action=action,
            obj=preference,
            client_id=client.pk,
            detail={"channel": channel},
        )
    return preference


def before_client_merge(*, survivor: Client, duplicate: Client, by: User) -> None:
    """Make room for the duplicate's automation rows on the survivor (called by
    `clients.services.client_merge`, in its transaction, before it moves the rows).

    A client has one reminder preference: the survivor's stays, the duplicate's goes. An
    opt-out is kept if either record had it (automation staying off is the safer mistake): the
    duplicate's moves unless the survivor already has the same one.
    """
    if ReminderPreference.objects.filter(client=survivor).exists():
        for preference in ReminderPreference.objects.filter(client=duplicate):
            audit_record(
                actor=by,
                action=Action.DELETE,
                obj=preference,
                client_id=duplicate.pk,
                detail={"merged_into": survivor.pk},
            )
            preference.delete()
    kept_rules = set(
        AutomationOptOut.objects.filter(client=survivor).values_list("rule_id", flat=True)
    )
    for opt_out in AutomationOptOut.objects.filter(client=duplicate):
        if opt_out.rule_id in kept_rules:
            audit_record(
                actor=by,
                action=Action.DELETE,
                obj=opt_out,
                client_id=duplicate.pk,
                detail={"rule": opt_out.rule_id or "every", "merged_into": survivor.pk},
            )
            opt_out.delete()
