"""Every path of a benefits application: the interview for SSI/SSDI and SNAP and none for an
Apple Health renewal; approved; denied or partly approved with or without an appeal; and an
appeal that is won, partly won or lost."""

from __future__ import annotations

import datetime

import pytest

from casework.processes.models import ProcessEvent, ProcessInstance, ProcessStep
from casework.testing.personas import Cast
from casework.testing.processes import finish, install_standard, open_titles, start

KEY = "benefits_application"


def step(instance: ProcessInstance, element_id: str) -> ProcessStep:
    return instance.steps.get(element_id=element_id, status=ProcessStep.Status.OPEN)


def visited(instance: ProcessInstance) -> list[str]:
    return list(instance.steps.order_by("id").values_list("element_id", flat=True))


@pytest.fixture
def application(cast: Cast) -> ProcessInstance:
    install_standard(cast)
    return start(cast, KEY)


def submitted(cast: Cast, instance: ProcessInstance, benefit: str) -> ProcessInstance:
    instance = finish(instance, "which_benefit", cast.case_manager, benefit=benefit)
    assert open_titles(instance) == ["gather_documents"]
    gathering = step(instance, "gather_documents")
    assert (gathering.waiting_kind, gathering.waiting_on) == ("client", "documents from the client")
    instance = finish(
        instance, "gather_documents", cast.case_manager, doc_identity=True, doc_income=True
    )
    assert open_titles(instance) == ["submit_application"]
    return finish(
        instance,
        "submit_application",
        cast.case_manager,
        submitted_on="2026-12-05",
        submitted_how="online",
        confirmation="A-77120",
    )


def interviewed(cast: Cast, instance: ProcessInstance) -> ProcessInstance:
    assert open_titles(instance) == ["interview"]
    interview = step(instance, "interview")
    assert (interview.waiting_kind, interview.waiting_on) == ("outside", "the benefits office")
    return finish(instance, "interview", cast.case_manager, interview_on="2026-12-12")


def decided(cast: Cast, instance: ProcessInstance, decision: str) -> ProcessInstance:
    assert open_titles(instance) == ["decision"]
    waiting = step(instance, "decision")
    assert waiting.waiting_kind == "outside"
    return finish(
        instance,
        "decision",
        cast.case_manager,
        decision=decision,
        decided_on="2027-01-10",
        notice_received_on="2027-01-14",
    )


def told(cast: Cast, instance: ProcessInstance) -> ProcessInstance:
    assert open_titles(instance) == ["tell_client"]
    instance = finish(
        instance, "tell_client", cast.case_manager, client_told_on="2027-01-15", chart_updated=True
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert instance.events.filter(action=ProcessEvent.Action.COMPLETED).exists()
    return instance


def appealing(cast: Cast, instance: ProcessInstance) -> ProcessInstance:
    assert open_titles(instance) == ["decide_appeal"]
    instance = finish(instance, "decide_appeal", cast.case_manager, appeal=True)
    assert open_titles(instance) == ["file_appeal"]
    filing = step(instance, "file_appeal")
    assert filing.due_at - filing.opened_at == datetime.timedelta(days=10)
    instance = finish(instance, "file_appeal", cast.case_manager, appeal_filed_on="2027-01-20")
    assert open_titles(instance) == ["appeal_decision"]
    assert step(instance, "appeal_decision").waiting_kind == "outside"
    return instance


def test_which_benefit_is_the_first_step(cast: Cast, application: ProcessInstance) -> None:
    first = application.steps.get()
    assert first.element_id == "which_benefit"
    assert first.owner == cast.case_manager


def test_an_approved_ssi_application_goes_through_the_interview_to_the_chart(
    cast: Cast, application: ProcessInstance
) -> None:
    instance = submitted(cast, application, "ssi_ssdi")
    instance = interviewed(cast, instance)
    instance = told(cast, decided(cast, instance, "approved"))
    assert visited(instance) == [
        "which_benefit",
        "gather_documents",
        "submit_application",
        "interview",
        "decision",
        "tell_client",
    ]


def test_an_apple_health_renewal_has_no_interview(cast: Cast, application: ProcessInstance) -> None:
    instance = submitted(cast, application, "apple_health")
    assert open_titles(instance) == ["decision"]
    instance = told(cast, decided(cast, instance, "approved"))
    assert not instance.steps.filter(element_id="interview").exists()


def test_a_denial_not_appealed_ends_without_updating_the_chart(
    cast: Cast, application: ProcessInstance
) -> None:
    instance = interviewed(cast, submitted(cast, application, "snap"))
    instance = decided(cast, instance, "denied")
    assert open_titles(instance) == ["decide_appeal"]
    instance = finish(
        instance,
        "decide_appeal",
        cast.case_manager,
        appeal=False,
        appeal_reason="Income is over the limit.",
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert not instance.steps.filter(element_id__in=["file_appeal", "tell_client"]).exists()


def test_a_partial_approval_not_appealed_still_updates_the_chart(
    cast: Cast, application: ProcessInstance
) -> None:
    instance = interviewed(cast, submitted(cast, application, "snap"))
    instance = decided(cast, instance, "partly_approved")
    instance = finish(instance, "decide_appeal", cast.case_manager, appeal=False)
    instance = told(cast, instance)
    assert not instance.steps.filter(element_id="file_appeal").exists()


@pytest.mark.parametrize("result", ["approved", "partly_approved"])
def test_an_appeal_that_is_won_updates_the_chart(
    cast: Cast, application: ProcessInstance, result: str
) -> None:
    instance = interviewed(cast, submitted(cast, application, "ssi_ssdi"))
    instance = appealing(cast, decided(cast, instance, "denied"))
    instance = finish(
        instance,
        "appeal_decision",
        cast.case_manager,
        appeal_result=result,
        appeal_decided_on="2027-04-01",
    )
    told(cast, instance)


def test_an_appeal_that_is_lost_ends_the_process(cast: Cast, application: ProcessInstance) -> None:
    instance = submitted(cast, application, "apple_health")
    instance = appealing(cast, decided(cast, instance, "partly_approved"))
    instance = finish(
        instance,
        "appeal_decision",
        cast.case_manager,
        appeal_result="denied",
        appeal_decided_on="2027-04-01",
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert not instance.steps.filter(element_id="tell_client").exists()
