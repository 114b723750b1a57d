"""Running a process: a step finished twice finishes once, pause, resume, cancel, reassign,
one running process of a kind per client, and who may do what."""

from __future__ import annotations

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from casework.processes import services
from casework.processes.models import ProcessEvent, ProcessInstance, ProcessStep
from casework.testing.factories import UserFactory
from casework.testing.personas import Cast
from casework.testing.processes import finish, install_standard, open_titles, start

KEY = "involuntary_treatment_referral"
OBSERVED = {
    "observed_at": "2026-12-03T09:00",
    "behaviour": "Shouting at neighbours",
    "danger_to_self": False,
    "danger_to_others": True,
    "grave_disability": False,
}


@pytest.fixture
def referral(cast: Cast) -> ProcessInstance:
    install_standard(cast)
    return start(cast, KEY)


def test_a_step_finished_twice_is_finished_once(cast: Cast, referral: ProcessInstance) -> None:
    step = referral.steps.get()
    services.step_complete(by=cast.case_manager, step=step, answers=OBSERVED)
    with pytest.raises(services.StepAlreadyDone, match="already finished by"):
        services.step_complete(by=cast.supervisor, step=step, answers=OBSERVED)
    referral.refresh_from_db()
    assert open_titles(referral) == ["call_dcr"]
    assert referral.events.filter(action=ProcessEvent.Action.STEP_DONE).count() == 1
    assert referral.steps.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_people_finishing_the_same_step_at_once_finish_it_once(cast: Cast) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL's row locks")
    install_standard(cast)
    instance = start(cast, KEY)
    step = instance.steps.get()
    outcomes: list[str] = []

    def finish_it(by):  # type: ignore[no-untyped-def]
        try:
            services.step_complete(by=by, step=step, answers=OBSERVED)
            outcomes.append("done")
        except services.StepAlreadyDone:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=finish_it, args=(u,)) for u in (cast.case_manager, cast.supervisor)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "done"]
    assert ProcessStep.objects.filter(instance=instance).count() == 2


def test_a_second_process_of_the_same_kind_is_refused(
    cast: Cast, referral: ProcessInstance
) -> None:
    with pytest.raises(services.AlreadyRunning) as refused:
        start(cast, KEY)
    assert refused.value.instance == referral


def test_pause_hides_the_steps_and_refuses_finishing_until_resumed(
    cast: Cast, referral: ProcessInstance
) -> None:
    services.process_pause(
        by=cast.case_manager, instance=referral, reason="Client moved out of county"
    )
    with pytest.raises(services.ProcessError, match="paused"):
        finish(referral, "observations", cast.case_manager, **OBSERVED)
    from casework.processes.selectors import my_open_steps

    assert not my_open_steps(cast.case_manager).exists()
    services.process_resume(by=cast.case_manager, instance=referral)
    assert my_open_steps(cast.case_manager).count() == 1
    finish(referral, "observations", cast.case_manager, **OBSERVED)


def test_cancel_needs_a_reason_and_closes_the_open_steps(
    cast: Cast, referral: ProcessInstance
) -> None:
    with pytest.raises(services.ProcessError, match="Say why"):
        services.process_cancel(by=cast.case_manager, instance=referral, reason="   ")
    services.process_cancel(by=cast.case_manager, instance=referral, reason="Started by mistake")
    referral.refresh_from_db()
    assert referral.status == ProcessInstance.Status.CANCELLED
    assert referral.end_reason == "Started by mistake"
    assert not referral.steps.filter(status=ProcessStep.Status.OPEN).exists()
    with pytest.raises(services.ProcessError, match="cancelled"):
        services.process_resume(by=cast.case_manager, instance=referral)


def test_reassigning_moves_the_open_steps(cast: Cast, referral: ProcessInstance) -> None:
    services.process_reassign(by=cast.supervisor, instance=referral, to=cast.colleague)
    referral.refresh_from_db()
    assert referral.owner == cast.colleague
    assert referral.steps.get().owner == cast.colleague
    assert referral.events.filter(action=ProcessEvent.Action.REASSIGNED).exists()


def test_reassigning_to_someone_inactive_or_elsewhere_is_refused(
    cast: Cast, referral: ProcessInstance
) -> None:
    gone = UserFactory(agency=cast.agency, roles=["case_manager"], is_active=False)
    with pytest.raises(services.ProcessError):
        services.process_reassign(by=cast.supervisor, instance=referral, to=gone)
    with pytest.raises(services.ProcessError):
        services.process_reassign(by=cast.supervisor, instance=referral, to=cast.outsider_cm)


def test_roles_that_only_read_cannot_run_processes(cast: Cast, referral: ProcessInstance) -> None:
    step = referral.steps.get()
    for reader in (cast.billing, cast.auditor):
        with pytest.raises(services.ProcessError):
            services.step_complete(by=reader, step=step, answers=OBSERVED)
    with pytest.raises(services.ProcessError):
        services.process_start(client=cast.client, key=KEY, by=cast.outsider_cm)


def test_a_rule_can_start_a_process_for_the_primary_case_manager(cast: Cast) -> None:
    install_standard(cast)
    instance = services.process_start(
        client=cast.client, key=KEY, by=None, rule_name="Crisis follow-up"
    )
    assert instance.owner == cast.case_manager
    assert instance.started_by_rule == "Crisis follow-up"


TIMER_THEN_FAIL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
<bpmn:process id="wait_then_assign" name="Wait, then assign" isExecutable="true">
<bpmn:startEvent id="start"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
<bpmn:sequenceFlow id="a" sourceRef="start" targetRef="wait" />
<bpmn:intermediateCatchEvent id="wait" name="An hour later"><bpmn:incoming>a</bpmn:incoming>
  <bpmn:outgoing>b</bpmn:outgoing>
  <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="b" sourceRef="wait" targetRef="assign" />
<bpmn:serviceTask id="assign" name="Assign"><bpmn:extensionElements>
  <spiffworkflow:serviceTaskOperator id="assign_case_manager" resultVariable="assigned">
    <spiffworkflow:parameters><spiffworkflow:parameter id="staff" type="int" value="1" /></spiffworkflow:parameters>
  </spiffworkflow:serviceTaskOperator></bpmn:extensionElements>
  <bpmn:incoming>b</bpmn:incoming><bpmn:outgoing>c</bpmn:outgoing></bpmn:serviceTask>
<bpmn:sequenceFlow id="c" sourceRef="assign" targetRef="end" />
<bpmn:endEvent id="end"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
</bpmn:process></bpmn:definitions>"""


def test_a_process_that_fails_after_its_timer_does_not_hold_back_the_others(cast: Cast) -> None:
    install_standard(cast)
    services.definition_upload(by=cast.admin, data=TIMER_THEN_FAIL.encode())
    broken = start(cast, "wait_then_assign", client=cast.other_client, by=cast.other_team_cm)
    referral = start(cast, KEY)
    for element, answers in (
        ("observations", OBSERVED),
        ("call_dcr", {"called_at": "2026-12-03T10:00", "dcr_name": "R. Ortiz"}),
        ("dcr_decision", {"outcome": "detained", "decided_at": "2026-12-03T13:00"}),
    ):
        referral = finish(referral, element, cast.case_manager, **answers)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=121)):
        assert services.timers_advance() == 1
    referral.refresh_from_db()
    assert "hold_result" in open_titles(referral)
    broken.refresh_from_db()
    assert broken.status == ProcessInstance.Status.RUNNING
    stuck = broken.events.get(action=ProcessEvent.Action.STUCK)
    assert "A person must finish the step" in stuck.detail
    assert broken.next_timer_at is not None and broken.next_timer_at > timezone.now()
