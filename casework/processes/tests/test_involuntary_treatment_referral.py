"""Every path of the involuntary-treatment referral: detained (with the 120-hour hold timer),
not detained (Joel's Law and a safety plan), and voluntary admission."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from casework.processes import services
from casework.processes.models import ProcessEvent, ProcessInstance
from casework.testing.personas import Cast
from casework.testing.processes import finish, install_standard, open_titles, start

KEY = "involuntary_treatment_referral"


@pytest.fixture
def referral(cast: Cast) -> ProcessInstance:
    install_standard(cast)
    instance = start(cast, KEY)
    instance = finish(
        instance,
        "observations",
        cast.case_manager,
        observed_at="2026-12-03T09:00",
        behaviour="Has not eaten for three days; says the food is poisoned.",
        danger_to_self=False,
        danger_to_others=False,
        grave_disability=True,
    )
    return finish(
        instance, "call_dcr", cast.case_manager, called_at="2026-12-03T10:00", dcr_name="R. Ortiz"
    )


def test_the_first_step_opens_with_a_two_hour_deadline(cast: Cast) -> None:
    install_standard(cast)
    instance = start(cast, KEY)
    step = instance.steps.get()
    assert step.element_id == "observations"
    assert step.owner == cast.case_manager
    assert step.due_at is not None
    assert step.due_at - step.opened_at == datetime.timedelta(hours=2)


def test_not_detained_leads_to_joels_law_a_safety_plan_and_a_follow_up(
    cast: Cast, referral: ProcessInstance
) -> None:
    instance = finish(
        referral,
        "dcr_decision",
        cast.case_manager,
        outcome="not_detained",
        decided_at="2026-12-03T13:00",
    )
    assert open_titles(instance) == ["joels_law"]
    instance = finish(instance, "joels_law", cast.case_manager, family_informed=True)
    instance = finish(instance, "safety_plan", cast.case_manager, safety_plan_made=True)
    assert open_titles(instance) == ["follow_up"]
    instance = finish(instance, "follow_up", cast.case_manager, seen_on="2026-12-08")
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert instance.events.filter(action=ProcessEvent.Action.COMPLETED).exists()


def test_voluntary_admission_is_recorded_then_followed_up(
    cast: Cast, referral: ProcessInstance
) -> None:
    instance = finish(
        referral,
        "dcr_decision",
        cast.case_manager,
        outcome="voluntary",
        decided_at="2026-12-03T13:00",
    )
    instance = finish(
        instance,
        "voluntary_admission",
        cast.case_manager,
        admitted_to="Fairfax",
        admitted_on="2026-12-03",
    )
    instance = finish(instance, "follow_up", cast.case_manager, seen_on="2026-12-10")
    assert instance.status == ProcessInstance.Status.COMPLETED


@pytest.fixture
def detained(cast: Cast, referral: ProcessInstance) -> ProcessInstance:
    return finish(
        referral,
        "dcr_decision",
        cast.case_manager,
        outcome="detained",
        decided_at="2026-12-03T13:00",
    )


def test_a_detention_waits_for_the_120_hour_hold_to_end(
    cast: Cast, detained: ProcessInstance
) -> None:
    instance = detained
    assert open_titles(instance) == ["visit_during_hold"]
    assert instance.next_timer_at is not None
    assert instance.next_timer_at - timezone.now() > datetime.timedelta(hours=119)
    instance = finish(
        instance,
        "visit_during_hold",
        cast.case_manager,
        contacted_on="2026-12-04",
        facility_contact="Charge nurse",
    )
    instance = finish(
        instance, "plan_discharge", cast.case_manager, discharge_plan="Back home; clinic on Monday"
    )
    assert open_titles(instance) == []
    assert services.timers_advance() == 0  # not yet
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=121)):
        assert services.timers_advance() == 1
        assert services.timers_advance() == 0  # a second worker finds nothing to do
    instance.refresh_from_db()
    assert instance.events.filter(action=ProcessEvent.Action.TIMER).count() == 1
    assert open_titles(instance) == ["hold_result"]
    instance = finish(instance, "hold_result", cast.case_manager, hold_result="released")
    instance = finish(instance, "follow_up", cast.case_manager, seen_on="2026-12-10")
    assert instance.status == ProcessInstance.Status.COMPLETED


def test_a_timer_run_killed_before_it_commits_moves_the_process_once_when_run_again(
    cast: Cast, detained: ProcessInstance
) -> None:
    instance = detained
    later = timezone.now() + datetime.timedelta(hours=121)

    class Killed(Exception):
        pass

    with time_machine.travel(later):
        with pytest.raises(Killed), transaction.atomic():
            assert services.timers_advance() == 1
            raise Killed  # the worker dies before its transaction commits
        assert open_titles(instance) == ["visit_during_hold"]
        call_command("run_process_timers", stdout=io.StringIO())
        call_command("run_process_timers", stdout=io.StringIO())
    assert instance.events.filter(action=ProcessEvent.Action.TIMER).count() == 1
    assert sorted(open_titles(instance)) == ["hold_result", "visit_during_hold"]
