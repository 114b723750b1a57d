"""Running rules: the actions, the per-client switch, the chain bound, a killed worker, a race."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from casework.automation import engine, services, timers, triggers
from casework.automation.engine import Event
from casework.automation.models import AutomationRun
from casework.automation.tests.helpers import rule
from casework.clients.models import Client
from casework.core.models import AuditEvent
from casework.schedule.outcomes import appointment_outcome
from casework.testing.factories import ClientFactory
from casework.testing.schedule import past_appointment_for
from casework.worklist.models import Task, TaskEvent
from casework.worklist.selectors import my_day

pytestmark = pytest.mark.django_db


def event(cast, key: str = "noshow:1", *, depth: int = 0, client: Client | None = None) -> Event:
    return Event(
        trigger="no_show",
        agency_id=cast.agency.pk,
        client_id=(client or cast.client).pk,
        key=key,
        what="missed appointment on 3 Dec",
        depth=depth,
    )


def automated() -> list[Task]:
    return list(Task.objects.filter(kind=Task.Kind.AUTOMATED).order_by("pk"))


# --- actions ----------------------------------------------------------------------------------


def test_a_booking_request_links_to_the_schedule_form_filled_in_for_the_client(cast):
    rule(cast, "no_show", "request_slot", name="Rebook", due_in_days=3)
    engine.fire(event(cast))
    (task,) = automated()
    due = cast.agency.today() + datetime.timedelta(days=3)
    assert task.title == "Book a follow-up appointment"
    assert task.assignee == cast.case_manager
    assert task.link == f"/schedule/new/?client={cast.client.pk}&date={due.isoformat()}"
    assert task.due_on == due
    day = my_day(user=cast.case_manager, everything=True)
    assert [item.url for item in day.items if item.task == task] == [task.link]


def test_the_supervisor_gets_a_task_and_an_email_without_the_clients_name(
    cast, django_capture_on_commit_callbacks
):
    rule(cast, "no_show", "notify_supervisor", name="Tell the supervisor")
    with django_capture_on_commit_callbacks(execute=True):
        (run,) = engine.fire(event(cast))
    (task,) = automated()
    assert task.assignee == cast.supervisor
    assert task.client == cast.client
    (email,) = mail.outbox
    assert email.to == [cast.supervisor.email]
    assert "Tell the supervisor" in email.body
    for secret in (
        cast.client.legal_first_name,
        cast.client.legal_last_name,
        cast.client.record_number,
    ):
        assert secret not in email.body and secret not in email.subject
    assert run.outcome == "done" and "supervisor" in run.summary


def test_no_supervisor_is_logged_as_not_done(cast):
    rule(cast, "no_show", "notify_supervisor")  # the other client's team has no supervisor
    (run,) = engine.fire(event(cast, client=cast.other_client))
    assert run.outcome == "not_done"
    assert "no active supervisor" in run.summary
    assert automated() == []


def test_a_fixed_staff_member_gets_the_task(cast):
    rule(cast, "no_show", assignee_kind="staff", assignee=cast.colleague)
    engine.fire(event(cast))
    assert automated()[0].assignee == cast.colleague


def test_a_fixed_staff_member_who_does_not_see_the_client_is_logged_not_done(cast):
    rule(cast, "no_show", assignee_kind="staff", assignee=cast.other_team_cm)
    (run,) = engine.fire(event(cast))
    assert run.outcome == "not_done"
    assert "does not work with this client" in run.summary
    assert automated() == []


def test_a_client_without_a_primary_case_manager_is_logged_not_done(cast):
    orphan = ClientFactory(agency=cast.agency)
    rule(cast, "no_show")
    (run,) = engine.fire(event(cast, client=orphan))
    assert (run.outcome, run.summary) == (
        "not_done",
        "Not done: the client has no primary case manager",
    )


def test_a_discharged_client_gets_no_task(cast):
    Client.objects.filter(pk=cast.client.pk).update(status="discharged")
    rule(cast, "no_show")
    (run,) = engine.fire(event(cast))
    assert run.outcome == "not_done"
    assert automated() == []


def test_each_run_is_audited_without_phi(cast):
    rule(cast, "no_show")
    (run,) = engine.fire(event(cast))
    entry = AuditEvent.objects.get(object_type="automation.automationrun", object_id=str(run.pk))
    assert entry.actor_label == "automation" and entry.client_id == cast.client.pk
    assert "missed" not in entry.detail and cast.client.legal_last_name not in entry.detail


# --- the per-client switch --------------------------------------------------------------------


def test_switching_every_rule_off_for_a_client_stops_it_and_the_log_says_so(cast):
    rule(cast, "no_show")
    services.automation_switch_for_client(
        client=cast.client, by=cast.case_manager, rule=None, off=True, reason="Client asked"
    )
    (run,) = engine.fire(event(cast))
    assert run.outcome == "opted_out"
    assert run.summary == "Skipped: automation is switched off for this client"
    assert automated() == []
    # Switched back on, a new event acts again; the skipped one stays skipped.
    services.automation_switch_for_client(
        client=cast.client, by=cast.case_manager, rule=None, off=False
    )
    assert engine.fire(event(cast)) == []
    assert engine.fire(event(cast, "noshow:2"))[0].outcome == "done"


def test_switching_one_rule_off_leaves_the_others(cast):
    quiet = rule(cast, "no_show", name="Quiet")
    loud = rule(cast, "no_show", name="Loud")
    services.automation_switch_for_client(
        client=cast.client, by=cast.case_manager, rule=quiet, off=True
    )
    runs = {r.rule: r.outcome for r in engine.fire(event(cast))}
    assert runs == {quiet: "opted_out", loud: "done"}
    assert len(automated()) == 1


def test_the_switch_is_for_staff_who_work_with_the_client(cast):
    for person in (cast.other_team_cm, cast.billing, cast.outsider_cm):
        with pytest.raises(services.AutomationError):
            services.automation_switch_for_client(
                client=cast.client, by=person, rule=None, off=True
            )


# --- chains -----------------------------------------------------------------------------------


def test_a_chain_stops_beyond_depth_three_and_says_why(cast):
    after = rule(cast, "process_completed", name="After a process")
    triggers.process_completed(instance_id=7, client_id=cast.client.pk, process_key="p", depth=2)
    triggers.process_completed(instance_id=8, client_id=cast.client.pk, process_key="p", depth=3)
    done, stopped = AutomationRun.objects.filter(rule=after).order_by("depth")
    assert (done.depth, done.outcome) == (3, "done")
    assert (stopped.depth, stopped.outcome) == (4, "chain_too_long")
    assert stopped.summary == "Stopped: rule chain too long"
    assert len(automated()) == 1


def test_a_run_from_a_process_a_rule_started_names_the_run_that_caused_it(cast):
    after = rule(cast, "process_completed", name="After a process")
    first = rule(cast, "no_show", name="First")
    (cause,) = engine.fire(event(cast))
    AutomationRun.objects.filter(pk=cause.pk).update(
        object_type="processes.processinstance", object_id="55"
    )
    triggers.process_completed(instance_id=55, client_id=cast.client.pk, process_key="p", depth=0)
    run = AutomationRun.objects.get(rule=after)
    assert run.caused_by_id == cause.pk and cause.rule == first
    assert run.depth == 1


# --- at least once, at most once --------------------------------------------------------------


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: the code stops where it was."""


def test_a_worker_killed_mid_action_does_the_action_once_when_run_again(cast):
    rule(cast, "no_show")
    kills = []

    def kill_once(sender, instance, created, **kwargs):
        if created and not kills:
            kills.append(instance.pk)
            raise WorkerKilled  # after the task row was written, before the run is finished

    post_save.connect(kill_once, sender=TaskEvent)
    try:
        with pytest.raises(WorkerKilled):
            engine.fire(event(cast))
        assert kills  # it was killed inside the action
        assert automated() == [] and not AutomationRun.objects.exists()  # all rolled back
        (run,) = engine.fire(event(cast))  # the retry
        assert engine.fire(event(cast)) == []  # and a duplicate delivery
    finally:
        post_save.disconnect(kill_once, sender=TaskEvent)
    assert run.outcome == "done"
    assert len(automated()) == 1


def test_an_event_whose_change_rolled_back_fires_nothing(cast):
    rule(cast, "no_show")
    appointment = past_appointment_for(cast)
    with pytest.raises(RuntimeError), transaction.atomic():
        appointment_outcome(appointment=appointment, by=cast.case_manager, status="no_show")
        raise RuntimeError("the request failed after the outcome")
    assert automated() == [] and not AutomationRun.objects.exists()
    assert timers.run_time_triggers() == 0


def test_a_failing_action_leaves_the_enqueuing_change_in_place(cast):
    """A bug in an action fails the job, not the note, outcome or assessment that queued it."""
    rule(cast, "no_show")

    def explode(sender, instance, created, **kwargs):
        if instance.task.kind == Task.Kind.AUTOMATED:
            raise RuntimeError("boom")

    post_save.connect(explode, sender=TaskEvent)
    try:
        appointment = past_appointment_for(cast)
        appointment_outcome(appointment=appointment, by=cast.case_manager, status="no_show")
    finally:
        post_save.disconnect(explode, sender=TaskEvent)
    appointment.refresh_from_db()
    assert appointment.status == "no_show"
    (run,) = AutomationRun.objects.all()  # the action rolled back; the log says it failed
    assert run.outcome == "failed" and "RuntimeError" in run.summary
    assert not Task.objects.filter(kind=Task.Kind.AUTOMATED).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two connections at once need PostgreSQL"
)
def test_two_workers_on_the_same_event_act_once(cast):
    from django.db import connections

    rule(cast, "no_show")
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(len(engine.fire(event(cast))))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == [0, 1]
    assert len(automated()) == 1


# --- one failure does not stop the rest ---------------------------------------------------------


def broken_process(agency) -> None:
    """A stored process whose diagram does not parse: starting it raises an unexpected error."""
    from casework.processes.models import ProcessDefinition

    ProcessDefinition.objects.create(
        agency=agency, key="broken", version=1, name="Broken", bpmn="<x/>", sha256="0" * 64
    )


def test_an_unexpected_error_in_one_rule_is_logged_and_the_other_rules_run(cast, caplog):
    broken_process(cast.agency)
    bad = rule(cast, "no_show", "start_process", name="Broken start", process_key="broken")
    good = rule(cast, "no_show", name="Task")
    runs = {r.rule: r for r in engine.fire(event(cast))}
    assert runs[bad].outcome == "failed"
    assert runs[bad].summary.startswith("Failed: an unexpected error (DefinitionInvalid)")
    assert runs[good].outcome == "done"
    assert len(automated()) == 1
    (record,) = [r for r in caplog.records if r.name == "casework.automation.engine"]
    assert record.levelname == "ERROR"
    assert f"rule {bad.pk} failed for client {cast.client.pk}" in record.getMessage()
    assert "DefinitionInvalid" in record.getMessage()
    assert record.exc_info is None  # the error's own text (it may quote data) is not logged
    for secret in (cast.client.legal_last_name, "missed appointment", "not valid XML"):
        assert secret not in caplog.text
    # The failed run is in the log, so the hourly sweep does not fail it again every hour.
    assert engine.fire(event(cast)) == []


def test_one_agencys_failing_pass_does_not_stop_the_next_agencys(cast, caplog, monkeypatch):
    from casework.automation.models import AutomationRule
    from casework.automation.tests.helpers import authorization_used

    authorization_used(cast, units=10, used=9)
    home = rule(cast, "authorization_used", name="Home agency rule")
    other = services.automation_rule_create(
        agency=cast.outsider_agency,
        by=cast.outsider_admin,
        data=services.RuleInput(name="Other agency rule", trigger="no_show", action="create_task"),
    )
    AutomationRule.objects.update(created_at=timezone.now() - datetime.timedelta(days=3))
    appointment = past_appointment_for(
        cast, staff=cast.outsider_cm, clients=[cast.outsider_client], by=cast.outsider_cm
    )
    appointment_outcome(appointment=appointment, by=cast.outsider_cm, status="no_show")
    AutomationRun.objects.all().delete()  # as if the event's job was lost: the sweep finds it
    real = timers._authorization_events

    def explode(agency, rules, today):
        if agency.pk == cast.agency.pk:
            raise RuntimeError(f"boom about {cast.client.legal_last_name}")
        return real(agency, rules, today)

    monkeypatch.setattr(timers, "_authorization_events", explode)
    first = min([cast.agency, cast.outsider_agency], key=lambda a: a.pk)
    assert first == cast.agency  # the failing agency goes first
    assert timers.run_time_triggers() == 1
    assert AutomationRun.objects.get().rule == other
    assert not AutomationRun.objects.filter(rule=home).exists()
    (record,) = [r for r in caplog.records if r.name == "casework.automation.engine"]
    assert f"failed for agency {cast.agency.pk} (RuntimeError)" in record.getMessage()
    assert cast.client.legal_last_name not in caplog.text


# --- the chain bound holds when processes complete later ---------------------------------------


def one_step(process_id: str, name: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" '
        'targetNamespace="https://casework.example">\n'
        f'<bpmn:process id="{process_id}" name="{name}" isExecutable="true">\n'
        '<bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>\n'
        '<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="visit" />\n'
        '<bpmn:userTask id="visit" name="Visit the client">\n'
        "  <bpmn:incoming>a</bpmn:incoming><bpmn:outgoing>b</bpmn:outgoing></bpmn:userTask>\n"
        '<bpmn:sequenceFlow id="b" sourceRef="visit" targetRef="end" />\n'
        '<bpmn:endEvent id="end"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>\n'
        "</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def test_a_loop_through_processes_finished_later_stops_at_the_depth_bound(cast):
    from casework.automation.models import AutomationRule
    from casework.processes import services as processes
    from casework.processes.models import ProcessInstance
    from casework.testing.processes import finish

    processes.definition_upload(by=cast.admin, data=one_step("intake_x", "X"))
    processes.definition_upload(by=cast.admin, data=one_step("intake_y", "Y"))
    loop_rule = {
        "agency": cast.agency,
        "trigger": "process_completed",
        "action": "start_process",
        "created_by": cast.admin,
    }
    # The service refuses this loop when it is saved; rows made directly stand for a loop that
    # slipped past (rules edited one at a time, a process renamed…).
    AutomationRule.objects.create(
        name="A", trigger_process_key="intake_x", process_key="intake_y", **loop_rule
    )
    AutomationRule.objects.create(
        name="B", trigger_process_key="intake_y", process_key="intake_x", **loop_rule
    )
    processes.process_start(client=cast.client, key="intake_x", by=cast.case_manager)
    finished = 0
    while True:
        running = ProcessInstance.objects.filter(client=cast.client, status="running").first()
        if running is None:
            break
        assert finished < 10, "the chain did not stop"
        finish(running, "visit", cast.case_manager)  # a person finishes the step: depth=0
        finished += 1
    runs = list(AutomationRun.objects.order_by("pk"))
    assert [r.depth for r in runs] == [1, 2, 3, 4]
    assert [r.outcome for r in runs] == ["done", "done", "done", "chain_too_long"]
    assert runs[-1].summary == "Stopped: rule chain too long"
    assert [r.caused_by_id for r in runs] == [None, runs[0].pk, runs[1].pk, runs[2].pk]
    assert finished == 4
