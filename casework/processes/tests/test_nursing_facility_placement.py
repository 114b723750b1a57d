"""Every path of nursing-facility placement: no Level II (the short path), a Level II that finds
nursing-facility care appropriate or not, a CARE assessment that finds the client not
functionally eligible, a financial denial fixed and then approved (the loop), and the facility
search through a decline and a wait-list to an acceptance, then admission and the 30-day timer."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from casework.processes import services
from casework.processes.models import ProcessEvent, ProcessInstance, ProcessStep
from casework.testing.personas import Cast
from casework.testing.processes import finish, install_standard, open_titles, start

KEY = "nursing_facility_placement"
DOCUMENTS = {
    "doc_identity": True,
    "doc_income": True,
    "doc_bank_statements": True,
    "doc_insurance_cards": True,
    "doc_power_of_attorney": False,
    "doc_missing": "POA papers with the daughter",
}


def step(instance: ProcessInstance, element_id: str) -> ProcessStep:
    return instance.steps.get(element_id=element_id, status=ProcessStep.Status.OPEN)


@pytest.fixture
def placement(cast: Cast) -> ProcessInstance:
    install_standard(cast)
    return start(cast, KEY)


def screened(cast: Cast, instance: ProcessInstance, result: str) -> ProcessInstance:
    return finish(
        instance,
        "level_one",
        cast.case_manager,
        screened_by="Harborview discharge planner",
        screened_on="2026-12-01",
        level_one_result=result,
    )


def care_assessed(cast: Cast, instance: ProcessInstance, *, eligible: bool) -> ProcessInstance:
    instance = finish(instance, "request_care", cast.case_manager, care_requested_on="2026-12-02")
    care = step(instance, "care_result")
    assert care.waiting_kind == "outside"
    assert care.waiting_on == "DSHS Home and Community Services (CARE assessor)"
    return finish(
        instance,
        "care_result",
        cast.case_manager,
        care_assessed_on="2026-12-15",
        functionally_eligible=eligible,
    )


def applied(cast: Cast, instance: ProcessInstance) -> ProcessInstance:
    assert open_titles(instance) == ["gather_documents"]
    instance = finish(instance, "gather_documents", cast.case_manager, **DOCUMENTS)
    assert open_titles(instance) == ["submit_application"]
    instance = finish(
        instance,
        "submit_application",
        cast.case_manager,
        application_submitted_on="2026-12-18",
        application_confirmation="WC-2026-118833",
    )
    assert open_titles(instance) == ["financial_decision"]
    decision = step(instance, "financial_decision")
    assert (decision.waiting_kind, decision.waiting_on) == (
        "outside",
        "HCA / DSHS financial eligibility",
    )
    return instance


def approved(cast: Cast, instance: ProcessInstance) -> ProcessInstance:
    return finish(
        instance,
        "financial_decision",
        cast.case_manager,
        financial_decision="approved",
        financial_decision_on="2027-01-20",
        participation="$1,021",
    )


@pytest.fixture
def searching(cast: Cast, placement: ProcessInstance) -> ProcessInstance:
    """Screened (no Level II), functionally eligible, applied and approved: the search begins."""
    instance = screened(cast, placement, "no_sm_id")
    instance = care_assessed(cast, instance, eligible=True)
    instance = approved(cast, applied(cast, instance))
    assert open_titles(instance) == ["ask_facility"]
    return instance


def ask(cast: Cast, instance: ProcessInstance, facility: str, response: str) -> ProcessInstance:
    instance = finish(
        instance, "ask_facility", cast.case_manager, facility_name=facility, asked_on="2027-01-21"
    )
    assert open_titles(instance) == ["facility_response"]
    answer = step(instance, "facility_response")
    assert (answer.waiting_kind, answer.waiting_on) == ("outside", "the facility")
    return finish(
        instance,
        "facility_response",
        cast.case_manager,
        response=response,
        response_reason="" if response == "accepted" else "No bed for a year",
    )


def test_the_level_one_screen_opens_first(cast: Cast, placement: ProcessInstance) -> None:
    first = placement.steps.get()
    assert first.element_id == "level_one"
    assert first.title == "Record the PASRR Level I screen"
    assert first.owner == cast.case_manager


def test_no_level_two_goes_straight_to_the_care_assessment(
    cast: Cast, placement: ProcessInstance
) -> None:
    instance = screened(cast, placement, "no_sm_id")
    assert open_titles(instance) == ["request_care"]
    assert not instance.steps.filter(element_id__in=["request_level_two", "level_two_result"])


def test_a_level_two_that_finds_care_appropriate_goes_on_to_the_care_assessment(
    cast: Cast, placement: ProcessInstance
) -> None:
    instance = screened(cast, placement, "sm_id_indicated")
    assert open_titles(instance) == ["request_level_two"]
    instance = finish(
        instance, "request_level_two", cast.case_manager, level_two_requested_on="2026-12-02"
    )
    assert open_titles(instance) == ["level_two_result"]
    result = step(instance, "level_two_result")
    assert (result.waiting_kind, result.waiting_on) == (
        "outside",
        "the state's PASRR Level II evaluator",
    )
    instance = finish(
        instance,
        "level_two_result",
        cast.case_manager,
        level_two_result="nf_appropriate",
        level_two_on="2026-12-09",
        specialized_services="Weekly psychiatric follow-up",
    )
    assert open_titles(instance) == ["request_care"]
    instance = care_assessed(cast, instance, eligible=True)
    assert open_titles(instance) == ["gather_documents"]


def test_a_level_two_that_finds_care_not_appropriate_plans_community_alternatives(
    cast: Cast, placement: ProcessInstance
) -> None:
    instance = screened(cast, placement, "sm_id_indicated")
    instance = finish(
        instance, "request_level_two", cast.case_manager, level_two_requested_on="2026-12-02"
    )
    instance = finish(
        instance,
        "level_two_result",
        cast.case_manager,
        level_two_result="not_appropriate",
        level_two_on="2026-12-09",
    )
    assert open_titles(instance) == ["community_alternatives"]
    instance = finish(
        instance,
        "community_alternatives",
        cast.case_manager,
        alternatives_plan="Adult family home with a mental-health specialty",
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert not instance.steps.filter(element_id="request_care").exists()


def test_not_functionally_eligible_plans_community_alternatives(
    cast: Cast, placement: ProcessInstance
) -> None:
    instance = screened(cast, placement, "no_sm_id")
    instance = care_assessed(cast, instance, eligible=False)
    assert open_titles(instance) == ["community_alternatives"]
    instance = finish(
        instance,
        "community_alternatives",
        cast.case_manager,
        alternatives_plan="In-home personal care, 20 hours a week",
        alternatives_referrals="Home care agency",
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert not instance.steps.filter(element_id="gather_documents").exists()


def test_a_denial_is_fixed_or_appealed_until_the_application_is_approved(
    cast: Cast, placement: ProcessInstance
) -> None:
    instance = screened(cast, placement, "no_sm_id")
    instance = applied(cast, care_assessed(cast, instance, eligible=True))
    for what in ("fixed", "appealed"):
        instance = finish(
            instance,
            "financial_decision",
            cast.case_manager,
            financial_decision="denied",
            financial_decision_on="2027-01-20",
            denial_reason="Bank statements missing",
        )
        assert open_titles(instance) == ["appeal_or_fix"]
        fixing = step(instance, "appeal_or_fix")
        assert fixing.due_at - fixing.opened_at == datetime.timedelta(days=60)
        instance = finish(
            instance,
            "appeal_or_fix",
            cast.case_manager,
            appeal_or_fix=what,
            appeal_or_fix_on="2027-01-25",
        )
        assert open_titles(instance) == ["financial_decision"]  # back to waiting on the state
    instance = approved(cast, instance)
    assert open_titles(instance) == ["ask_facility"]
    decisions = instance.steps.filter(element_id="financial_decision")
    assert decisions.count() == 3
    assert set(decisions.values_list("status", flat=True)) == {ProcessStep.Status.DONE}
    assert instance.steps.filter(element_id="appeal_or_fix").count() == 2


def test_a_first_facility_accepts(cast: Cast, searching: ProcessInstance) -> None:
    instance = ask(cast, searching, "Evergreen Care Center", "accepted")
    assert open_titles(instance) == ["admission"]


def test_the_search_goes_on_through_a_decline_and_a_wait_list_then_admission_and_follow_up(
    cast: Cast, searching: ProcessInstance
) -> None:
    instance = ask(cast, searching, "Evergreen Care Center", "declined")
    assert open_titles(instance) == ["ask_facility"]  # ask another
    instance = ask(cast, instance, "Lakeview Health and Rehabilitation", "wait_listed")
    assert open_titles(instance) == ["ask_facility"]
    instance = ask(cast, instance, "Cedar Ridge Nursing Home", "accepted")
    assert open_titles(instance) == ["admission"]
    assert instance.steps.filter(element_id="ask_facility").count() == 3
    assert instance.steps.filter(element_id="facility_response").count() == 3

    admitted = cast.agency.today() + datetime.timedelta(days=7)  # admission set a week ahead
    instance = finish(
        instance,
        "admission",
        cast.case_manager,
        admission_on=admitted.isoformat(),
        transport_arranged=True,
        handoff_sent=True,
    )
    assert open_titles(instance) == []
    assert instance.status == ProcessInstance.Status.RUNNING
    due = datetime.datetime.combine(
        admitted + datetime.timedelta(days=30), datetime.time(9), tzinfo=cast.agency.tzinfo
    )
    assert instance.next_timer_at == due  # 30 days after the admission, not after the step
    assert services.timers_advance() == 0  # not yet
    with time_machine.travel(due - datetime.timedelta(hours=1)):
        assert services.timers_advance() == 0  # an hour early
    with time_machine.travel(due + datetime.timedelta(hours=1)):
        assert services.timers_advance() == 1
        assert services.timers_advance() == 0  # a second worker finds nothing to do
    instance.refresh_from_db()
    timer = instance.events.get(action=ProcessEvent.Action.TIMER)
    assert timer.detail == "30 days after admission"
    assert open_titles(instance) == ["thirty_day_follow_up"]
    assert instance.next_timer_at is None

    instance = finish(
        instance,
        "thirty_day_follow_up",
        cast.case_manager,
        settling="Eating well; joined the music group.",
        any_concerns=False,
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert instance.events.filter(action=ProcessEvent.Action.COMPLETED).exists()
