"""Each trigger fires its rule's action once, from the real place the event happens; a repeated
event, a second run of the job or of the hourly pass does nothing more."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from casework.automation import timers, triggers
from casework.automation.models import AutomationRun
from casework.automation.tests.helpers import authorization_used, rule, signed_assessment
from casework.notes.services import note_save_draft, note_sign
from casework.schedule.outcomes import appointment_outcome
from casework.testing.billing import billable_world, draft_note
from casework.testing.coordination import OrganizationFactory, release
from casework.testing.plans import signed_plan
from casework.testing.schedule import past_appointment_for
from casework.worklist.models import Task

pytestmark = pytest.mark.django_db


def yesterday(cast) -> datetime.date:
    return cast.agency.today() - datetime.timedelta(days=1)


def clinic(cast):
    return OrganizationFactory(agency=cast.agency)


def automated(cast) -> list[Task]:
    return list(Task.objects.filter(kind=Task.Kind.AUTOMATED).order_by("pk"))


def test_a_no_show_makes_the_rules_task_once(cast):
    no_show_rule = rule(
        cast, "no_show", name="No-show follow-up", task_title="Call about the missed visit"
    )
    appointment = past_appointment_for(cast)
    appointment_outcome(appointment=appointment, by=cast.case_manager, status="no_show")
    (task,) = automated(cast)
    assert task.assignee == cast.case_manager
    assert task.client == cast.client
    assert task.title == "Call about the missed visit"
    assert task.reason.startswith("Automation rule “No-show follow-up”: missed appointment on ")
    assert task.due_on == cast.agency.today() + datetime.timedelta(days=1)
    assert task.created_by is None
    (run,) = AutomationRun.objects.all()
    assert (run.rule, run.client, run.event_key) == (
        no_show_rule,
        cast.client,
        f"noshow:{appointment.pk}",
    )
    assert run.outcome == "done"
    assert (run.object_type, run.object_id) == ("worklist.task", str(task.pk))
    assert cast.client.legal_last_name not in run.summary
    # The same outcome again, the job again, and the hourly sweep: nothing more.
    appointment_outcome(appointment=appointment, by=cast.case_manager, status="no_show")
    triggers.appointment_missed(appointment=appointment, client_ids=[cast.client.pk])
    appointment.refresh_from_db()
    triggers.appointment_missed(appointment=appointment, client_ids=[cast.client.pk])
    assert timers.run_time_triggers() == 0
    assert len(automated(cast)) == 1
    assert AutomationRun.objects.count() == 1


def test_an_attended_appointment_fires_nothing(cast):
    rule(cast, "no_show")
    appointment_outcome(
        appointment=past_appointment_for(cast), by=cast.case_manager, status="attended"
    )
    assert automated(cast) == []
    assert not AutomationRun.objects.exists()


def test_a_switched_off_rule_does_nothing(cast):
    off = rule(cast, "no_show", is_active=False)
    appointment_outcome(
        appointment=past_appointment_for(cast), by=cast.case_manager, status="no_show"
    )
    assert automated(cast) == []
    assert not AutomationRun.objects.filter(rule=off).exists()


@pytest.mark.parametrize("events", [["er_visit"], ["hospitalized"], ["er_visit", "hospitalized"]])
def test_a_signed_note_recording_a_hospital_stay_makes_a_follow_up_once(cast, events):
    world = billable_world(cast)
    rule(cast, "hospital_stay", name="Discharge follow-up", due_in_days=2)
    note = draft_note(
        author=cast.case_manager, client=cast.client, code=world.t1016, day=yesterday(cast)
    )
    note = note_save_draft(
        note=note, by=cast.case_manager, data={"events": events}, expected_version=note.version
    )
    note = note_sign(note=note, by=cast.case_manager, attest=True, late_reason="late").note
    (task,) = automated(cast)
    assert task.title == "Follow up after a hospital stay or ER visit"
    assert "recorded in the note of" in task.reason
    assert task.due_on == cast.agency.today() + datetime.timedelta(days=2)
    note_sign(note=note, by=cast.case_manager, attest=True, late_reason="late")
    assert timers.run_time_triggers() == 0
    assert len(automated(cast)) == 1


def test_a_note_without_a_hospital_stay_fires_nothing(cast):
    world = billable_world(cast)
    rule(cast, "hospital_stay")
    note = draft_note(
        author=cast.case_manager, client=cast.client, code=world.t1016, day=yesterday(cast)
    )
    note = note_save_draft(
        note=note, by=cast.case_manager, data={"events": ["jail"]}, expected_version=note.version
    )
    note_sign(note=note, by=cast.case_manager, attest=True, late_reason="late")
    assert automated(cast) == []


def test_a_signed_assessment_that_raises_a_flag_fires_once(cast):
    rule(cast, "assessment_flag", name="Flag follow-up")
    signed_assessment(cast, item9=0)
    assert automated(cast) == []
    assessment = signed_assessment(cast, item9=2)
    (task,) = automated(cast)
    assert "PHQ-9" in task.reason and "raised a flag" in task.reason
    assert AutomationRun.objects.get().event_key == f"assessment:{assessment.pk}"
    assert timers.run_time_triggers() == 0
    assert len(automated(cast)) == 1


def test_a_release_about_to_expire_fires_within_its_days_once(cast):
    today = cast.agency.today()
    consent = release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic(cast),
        expires_on=today + datetime.timedelta(days=20),
    )
    renew = rule(cast, "release_expiring", name="Renew releases", days_before=14)
    assert timers.run_time_triggers() == 0  # 20 days out: not yet
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7)):
        assert timers.run_time_triggers() == 1
        assert timers.run_time_triggers() == 0
    (task,) = automated(cast)
    assert task.title == "Renew the release of information"
    run = AutomationRun.objects.get(rule=renew)
    assert run.event_key == f"release:{consent.pk}:{consent.expires_on.isoformat()}"


def test_a_revoked_release_does_not_fire(cast):
    today = cast.agency.today()
    consent = release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic(cast),
        expires_on=today + datetime.timedelta(days=3),
    )
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["revoked_at"])
    rule(cast, "release_expiring")
    assert timers.run_time_triggers() == 0


def test_a_plan_review_due_fires_once(cast):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    rule(cast, "plan_review_due", name="Plan review", days_before=30)
    assert timers.run_time_triggers() == 0
    days = (plan.review_due_on - cast.agency.today()).days - 10
    with time_machine.travel(timezone.now() + datetime.timedelta(days=days)):
        assert timers.run_time_triggers() == 1
        assert timers.run_time_triggers() == 0
    assert (
        AutomationRun.objects.get().event_key == f"plan:{plan.pk}:{plan.review_due_on.isoformat()}"
    )
    assert automated(cast)[0].title == "Review the service plan"


def test_an_authorization_fires_at_its_percentage_once_per_threshold(cast):
    authorization = authorization_used(cast, units=10, used=7)
    at_80 = rule(cast, "authorization_used", name="Authorization at 80 %")
    at_50 = rule(cast, "authorization_used", name="Authorization at half", percent=50)
    assert timers.run_time_triggers() == 1  # 70 %: the 50 % rule only
    assert AutomationRun.objects.get().rule == at_50
    authorization.charges.update(units=8)
    assert timers.run_time_triggers() == 1
    run = AutomationRun.objects.get(rule=at_80)
    assert run.event_key == f"auth:{authorization.pk}:80"
    assert timers.run_time_triggers() == 0
    assert len(automated(cast)) == 2


def test_a_completed_process_fires_the_rules_for_it_or_for_any(cast):
    for_it = rule(cast, "process_completed", name="After any process")
    triggers.process_completed(instance_id=41, client_id=cast.client.pk, process_key="x", depth=0)
    triggers.process_completed(instance_id=41, client_id=cast.client.pk, process_key="x", depth=0)
    run = AutomationRun.objects.get()
    assert (run.rule, run.event_key, run.depth) == (for_it, "process:41", 1)
    assert len(automated(cast)) == 1


def test_the_hourly_sweep_acts_on_an_event_whose_job_was_lost(cast):
    appointment = past_appointment_for(cast)
    appointment_outcome(appointment=appointment, by=cast.case_manager, status="no_show")
    # The rule exists before the event; the job that carried the event never ran.
    rule(cast, "no_show")
    from casework.automation.models import AutomationRule

    AutomationRule.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    assert automated(cast) == []
    assert timers.run_time_triggers() == 1
    assert timers.run_time_triggers() == 0
    assert len(automated(cast)) == 1


def test_a_rule_does_not_act_on_what_happened_before_it_was_made(cast):
    appointment_outcome(
        appointment=past_appointment_for(cast), by=cast.case_manager, status="no_show"
    )
    rule(cast, "no_show")
    assert timers.run_time_triggers() == 0
    assert automated(cast) == []


def test_nothing_is_queued_for_an_agency_without_rules(cast, django_assert_max_num_queries):
    appointment = past_appointment_for(cast)
    with django_assert_max_num_queries(1):
        triggers.appointment_missed(appointment=appointment, client_ids=[cast.client.pk])


STRAIGHT_THROUGH = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
<bpmn:process id="straight_through" name="Straight through" isExecutable="true">
<bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="end" />
<bpmn:endEvent id="end"><bpmn:incoming>a</bpmn:incoming></bpmn:endEvent>
</bpmn:process></bpmn:definitions>"""


def test_the_hourly_sweep_acts_on_a_completed_process_whose_job_was_lost(cast):
    from casework.automation.models import AutomationRule
    from casework.processes import services as processes

    processes.definition_upload(by=cast.admin, data=STRAIGHT_THROUGH)
    after = rule(cast, "process_completed", name="After any process")
    # The rule exists before the process ends, but is off when its job runs: as if lost.
    AutomationRule.objects.update(
        created_at=timezone.now() - datetime.timedelta(hours=1), is_active=False
    )
    instance = processes.process_start(
        client=cast.client, key="straight_through", by=cast.case_manager
    )
    assert instance.status == "completed"
    AutomationRule.objects.filter(pk=after.pk).update(is_active=True)
    assert automated(cast) == []
    assert timers.run_time_triggers() == 1
    assert timers.run_time_triggers() == 0
    assert len(automated(cast)) == 1


def test_a_release_already_within_the_days_when_the_rule_is_made_is_left_alone(cast):
    today = cast.agency.today()
    inside, later = (
        release(
            client=cast.client,
            by=cast.case_manager,
            organization=clinic(cast),
            expires_on=today + datetime.timedelta(days=days),
        )
        for days in (5, 20)
    )
    rule(cast, "release_expiring", name="Renew releases", days_before=14)
    assert timers.run_time_triggers() == 0  # 5 days out was already inside the 14 days
    with time_machine.travel(timezone.now() + datetime.timedelta(days=7)):
        assert timers.run_time_triggers() == 1  # 20 days out crossed the 14 days since
    (run,) = AutomationRun.objects.all()
    assert run.event_key == f"release:{later.pk}:{later.expires_on.isoformat()}"
    assert inside.pk != later.pk


def test_a_plan_review_already_within_the_days_when_the_rule_is_made_is_left_alone(cast):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    days_left = (plan.review_due_on - cast.agency.today()).days
    rule(cast, "plan_review_due", name="Plan review", days_before=days_left + 5)
    assert timers.run_time_triggers() == 0
    assert automated(cast) == []


def test_saving_a_time_rule_says_what_it_will_act_on(cast, http_as):
    from casework.automation.tests.test_pages import form

    http = http_as(cast.admin)
    response = http.post(
        "/automation/rules/new/",
        form(name="Auth", trigger="authorization_used", percent="80", submission_key="a"),
        follow=True,
    )
    body = response.content.decode()
    assert "including those already past the share when the rule is switched on" in body
    assert "It acts on what happens from now on" not in body
    response = http.post(
        "/automation/rules/new/",
        form(name="Rel", trigger="release_expiring", days_before="14", submission_key="b"),
        follow=True,
    )
    assert "already within the days ahead when the rule was made are left to you" in (
        response.content.decode()
    )
