"""Saving rules: checked, audited, one per submission, loops refused, concurrent edits caught."""

from __future__ import annotations

import dataclasses

import pytest

from casework.automation import engine, services
from casework.automation.engine import Event
from casework.automation.models import AutomationRule, AutomationRun
from casework.automation.services import AutomationError, RuleInput
from casework.automation.tests.helpers import rule
from casework.core.models import AuditEvent
from casework.processes.models import ProcessDefinition
from casework.processes.services import standard_definitions_install
from casework.worklist.models import Task

pytestmark = pytest.mark.django_db


def process(cast, key: str, name: str = "") -> None:
    ProcessDefinition.objects.create(
        agency=cast.agency,
        key=key,
        version=1,
        name=name or key.title(),
        bpmn="<x/>",
        sha256="0" * 64,
    )


def loop_rule(cast, trigger_key: str, start_key: str, **fields) -> AutomationRule:
    return rule(
        cast,
        "process_completed",
        "start_process",
        trigger_process_key=trigger_key,
        process_key=start_key,
        **fields,
    )


def test_a_rule_is_saved_and_audited(cast):
    made = rule(cast, "no_show", name="  No-show   follow-up ", task_title="Call them")
    assert made.name == "No-show follow-up"
    assert (made.created_by, made.version, made.is_active) == (cast.admin, 1, True)
    entry = AuditEvent.objects.get(object_type="automation.automationrule", object_id=str(made.pk))
    assert entry.actor_id == cast.admin.pk and entry.action == "create"


def test_the_same_submission_twice_makes_one_rule(cast):
    data = RuleInput(name="Once", trigger="no_show", action="create_task")
    first = services.automation_rule_create(
        agency=cast.agency, by=cast.admin, data=data, submission_key="k1"
    )
    second = services.automation_rule_create(
        agency=cast.agency, by=cast.admin, data=data, submission_key="k1"
    )
    assert first == second
    assert AutomationRule.objects.count() == 1


def test_two_rules_may_not_share_a_name(cast):
    rule(cast, "no_show", name="Follow-up")
    with pytest.raises(AutomationError) as error:
        rule(cast, "hospital_stay", name="follow-UP")
    assert error.value.field == "name"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"trigger": "moon_phase"}, "trigger"),
        ({"action": "launch"}, "action"),
        ({"trigger": "release_expiring", "days_before": None}, "days_before"),
        ({"trigger": "plan_review_due", "days_before": 0}, "days_before"),
        ({"trigger": "plan_review_due", "days_before": 366}, "days_before"),
        ({"trigger": "authorization_used", "percent": 0}, "percent"),
        ({"trigger": "authorization_used", "percent": 101}, "percent"),
        ({"due_in_days": -1}, "due_in_days"),
        ({"task_title": "y" * 201}, "task_title"),
        ({"assignee_kind": "staff"}, "assignee"),
        ({"action": "start_process", "process_key": "nope"}, "process_key"),
        ({"trigger": "process_completed", "trigger_process_key": "nope"}, "trigger_process_key"),
    ],
)
def test_bad_input_is_refused_with_the_field_it_belongs_to(cast, changes, field):
    process(cast, "placement")
    data = dataclasses.replace(
        RuleInput(name="Rule", trigger="no_show", action="create_task"), **changes
    )
    with pytest.raises(AutomationError) as error:
        services.automation_rule_create(agency=cast.agency, by=cast.admin, data=data)
    assert error.value.field == field
    assert not AutomationRule.objects.exists()


def test_staff_of_another_agency_or_without_client_work_cannot_be_named(cast):
    for person in (cast.outsider_cm, cast.billing):
        with pytest.raises(AutomationError) as error:
            rule(cast, "no_show", assignee_kind="staff", assignee=person)
        assert error.value.field == "assignee"


def test_unicode_names_are_kept(cast):
    made = rule(
        cast, "no_show", name="Nachsorge für Klinikaufenthalt ✓ — 住院", task_title="Llamar a María"
    )
    assert AutomationRule.objects.get(pk=made.pk).name == "Nachsorge für Klinikaufenthalt ✓ — 住院"


def test_only_admins_and_supervisors_change_rules(cast):
    for person in (cast.case_manager, cast.billing, cast.auditor, cast.outsider_admin):
        with pytest.raises(AutomationError):
            rule(cast, "no_show", by=person)
    assert rule(cast, "no_show", by=cast.supervisor).created_by == cast.supervisor


def test_a_rule_that_starts_the_process_it_waits_for_is_refused(cast):
    process(cast, "placement")
    with pytest.raises(AutomationError) as error:
        loop_rule(cast, "placement", "placement")
    assert error.value.field == "process_key"
    assert "loop" in str(error.value)
    with pytest.raises(AutomationError):
        loop_rule(cast, "", "placement")  # "any process completed" → start one: itself again


def test_a_loop_through_two_rules_is_refused(cast):
    process(cast, "placement")
    process(cast, "screening")
    loop_rule(cast, "placement", "screening", name="After placement")
    with pytest.raises(AutomationError) as error:
        loop_rule(cast, "screening", "placement", name="After screening")
    assert "loop" in str(error.value)


def test_switching_on_a_rule_that_would_now_loop_is_refused(cast):
    process(cast, "placement")
    process(cast, "screening")
    dormant = loop_rule(cast, "screening", "placement", name="After screening", is_active=False)
    loop_rule(cast, "placement", "screening", name="After placement")
    with pytest.raises(AutomationError):
        services.automation_rule_switch(rule=dormant, by=cast.admin, on=True)
    dormant.refresh_from_db()
    assert not dormant.is_active


def test_start_process_needs_installed_processes(cast):
    with pytest.raises(AutomationError) as error:
        rule(cast, "no_show", "start_process", process_key="placement")
    assert "No guided processes" in str(error.value)


def test_an_edit_made_meanwhile_by_someone_else_is_not_overwritten(cast):
    made = rule(cast, "no_show", name="Original")
    data = RuleInput(name="Mine", trigger="no_show", action="create_task")
    services.automation_rule_update(rule=made, by=cast.admin, data=data, expected_version=1)
    with pytest.raises(AutomationError) as error:
        services.automation_rule_update(
            rule=made,
            by=cast.supervisor,
            data=dataclasses.replace(data, name="Theirs"),
            expected_version=1,
        )
    assert "Someone else changed this rule" in str(error.value)
    made.refresh_from_db()
    assert (made.name, made.version) == ("Mine", 2)


def test_switching_off_and_on_is_audited_and_idempotent(cast):
    made = rule(cast, "no_show")
    services.automation_rule_switch(rule=made, by=cast.admin, on=False)
    services.automation_rule_switch(rule=made, by=cast.admin, on=False)
    made.refresh_from_db()
    assert (made.is_active, made.version) == (False, 2)
    assert (
        AuditEvent.objects.filter(object_type="automation.automationrule", action="update").count()
        == 1
    )


def test_the_start_process_action_starts_a_real_guided_process_once(cast):
    standard_definitions_install(by=cast.admin)
    (key, _name), *_ = services.processes_bridge.process_choices(agency_id=cast.agency.pk)
    start = rule(cast, "no_show", "start_process", name="Start the process", process_key=key)
    event = Event(
        trigger="no_show",
        agency_id=cast.agency.pk,
        client_id=cast.client.pk,
        key="noshow:9",
        what="missed",
    )
    (run,) = engine.fire(event)
    assert run.outcome == "done", run.summary
    assert run.object_type == "processes.processinstance"
    from casework.processes.models import ProcessInstance

    instance = ProcessInstance.objects.get(pk=run.object_id)
    assert instance.client == cast.client and instance.owner == cast.case_manager
    assert instance.started_by is None and instance.started_by_rule == start.name
    assert engine.fire(event) == []
    # Another event while it is still running: the processes app refuses, the log says so.
    (again,) = engine.fire(dataclasses.replace(event, key="noshow:10"))
    assert again.outcome == "not_done"
    assert ProcessInstance.objects.count() == 1
    assert not Task.objects.filter(kind=Task.Kind.AUTOMATED).exists()
    assert AutomationRun.objects.count() == 2


@pytest.mark.parametrize(
    "name", ["\u200b\u200b", " \u200b \ufeff ", "\u2060\u200d\u00a0", "\u3000"]
)
def test_a_name_of_invisible_characters_only_is_refused(cast, name):
    with pytest.raises(AutomationError) as error:
        rule(cast, "no_show", name=name)
    assert error.value.field == "name"
    assert not AutomationRule.objects.exists()
