"""Every path of intake: without coverage (the eligibility check opens) and with it (skipped),
not eligible (referred elsewhere), eligible without releases (signing opens) and with them
(skipped), the assessment, the first plan at its deadline, and the supervisor's choice of case
manager that the process then makes the client's primary case manager."""

from __future__ import annotations

import datetime

import pytest

from casework.billing.models import Payer
from casework.clients.models import CareTeamMember, Client, Coverage, Episode
from casework.core.models import Program
from casework.processes import services
from casework.processes.models import ProcessEvent, ProcessInstance, ProcessStep
from casework.testing.coordination import OrganizationFactory, release
from casework.testing.personas import Cast
from casework.testing.processes import finish, install_standard, open_titles, start

KEY = "intake"
REFERRAL = {
    "referral_source": "Harborview discharge planner",
    "referred_on": "2026-12-01",
    "referral_reason": "Needs housing support and a prescriber after discharge.",
}


def cover(client: Client, *, ended: bool = False) -> Coverage:
    """Apple Health through a managed-care plan since January (ended last month if asked)."""
    payer = Payer.objects.create(
        agency=client.agency,
        name="Apple Health MCO",
        kind=Payer.Kind.MEDICAID_MCO,
        payer_id="77045",
    )
    today = client.agency.today()
    return Coverage.objects.create(
        agency_id=client.agency_id,
        client=client,
        payer=payer,
        member_id=f"M{client.pk:08d}",
        start_on=today - datetime.timedelta(days=200),
        end_on=today - datetime.timedelta(days=30) if ended else None,
    )


def admit(client: Client) -> Episode:
    program = Program.objects.get_or_create(agency_id=client.agency_id, name="Case management")[0]
    return Episode.objects.create(
        agency_id=client.agency_id,
        client=client,
        program=program,
        admitted_on=client.agency.today() - datetime.timedelta(days=3),
    )


def clinic(cast: Cast) -> object:
    return OrganizationFactory(agency=cast.agency)


def step(instance: ProcessInstance, element_id: str) -> ProcessStep:
    return instance.steps.get(element_id=element_id, status=ProcessStep.Status.OPEN)


@pytest.fixture
def intake(cast: Cast) -> ProcessInstance:
    install_standard(cast)
    return start(cast, KEY)


def eligible(cast: Cast, intake: ProcessInstance) -> ProcessInstance:
    """Covered and eligible: the process runs on to the releases check."""
    cover(cast.client)
    instance = finish(intake, "referral", cast.case_manager, **REFERRAL)
    assert open_titles(instance) == ["eligibility"]
    return finish(instance, "eligibility", cast.case_manager, eligibility="eligible")


def test_the_referral_is_the_first_step(cast: Cast, intake: ProcessInstance) -> None:
    first = intake.steps.get()
    assert first.element_id == "referral"
    assert first.title == "Record the referral"
    assert first.owner == cast.case_manager
    assert first.due_at is not None
    assert first.due_at - first.opened_at == datetime.timedelta(days=1)


def test_without_coverage_the_eligibility_check_opens_and_not_eligible_refers_elsewhere(
    cast: Cast, intake: ProcessInstance
) -> None:
    cover(cast.client, ended=True)  # coverage that ended is no coverage
    instance = finish(intake, "referral", cast.case_manager, **REFERRAL)
    assert open_titles(instance) == ["apply_for_coverage"]
    check = step(instance, "apply_for_coverage")
    assert check.title == "Check eligibility and apply for coverage"
    assert check.waiting_kind == "outside"
    assert check.waiting_on == "the health plan or the Health Care Authority (HCA)"
    instance = finish(
        instance,
        "apply_for_coverage",
        cast.case_manager,
        coverage_outcome="applied",
        coverage_checked_on="2026-12-02",
    )
    assert open_titles(instance) == ["eligibility"]
    instance = finish(
        instance,
        "eligibility",
        cast.case_manager,
        eligibility="not_eligible",
        eligibility_reason="Lives outside the counties we serve.",
    )
    assert open_titles(instance) == ["refer_elsewhere"]
    instance = finish(
        instance,
        "refer_elsewhere",
        cast.case_manager,
        referred_to="Valley Behavioral Health",
        referrer_told=True,
        referrer_told_on="2026-12-04",
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    assert instance.events.filter(action=ProcessEvent.Action.COMPLETED).exists()
    done = set(instance.steps.values_list("element_id", flat=True))
    assert done == {"referral", "apply_for_coverage", "eligibility", "refer_elsewhere"}


def test_without_coverage_an_eligible_client_goes_on_to_releases(
    cast: Cast, intake: ProcessInstance
) -> None:
    instance = finish(intake, "referral", cast.case_manager, **REFERRAL)
    instance = finish(
        instance,
        "apply_for_coverage",
        cast.case_manager,
        coverage_outcome="found",
        coverage_checked_on="2026-12-02",
        coverage_notes="Found in ProviderOne",
    )
    instance = finish(instance, "eligibility", cast.case_manager, eligibility="eligible")
    assert open_titles(instance) == ["sign_releases"]


def test_a_covered_eligible_client_signs_releases_is_assessed_planned_and_assigned(
    cast: Cast, intake: ProcessInstance
) -> None:
    episode = admit(cast.client)
    instance = eligible(cast, intake)
    assert instance.steps.filter(element_id="apply_for_coverage").count() == 0
    assert open_titles(instance) == ["sign_releases"]
    signing = step(instance, "sign_releases")
    assert (signing.waiting_kind, signing.waiting_on) == ("client", "a meeting with the client")
    instance = finish(
        instance, "sign_releases", cast.case_manager, releases_recorded=True, releases_for="PCP"
    )

    assert open_titles(instance) == ["assessment"]
    assessment = step(instance, "assessment")
    assert assessment.due_at - assessment.opened_at == datetime.timedelta(days=14)
    instance = finish(instance, "assessment", cast.case_manager, assessed_on="2026-12-10")

    assert open_titles(instance) == ["first_plan"]
    plan = step(instance, "first_plan")
    agency = cast.client.agency
    deadline = episode.admitted_on + datetime.timedelta(days=agency.plan_first_due_days)
    assert plan.due_at == datetime.datetime.combine(
        deadline, datetime.time(17), tzinfo=agency.tzinfo
    )
    instance = finish(instance, "first_plan", cast.case_manager, plan_signed_on="2026-12-20")

    assert open_titles(instance) == ["choose_case_manager"]
    choosing = step(instance, "choose_case_manager")
    assert choosing.owner == cast.supervisor  # the owner's team supervisor
    instance = finish(
        instance, "choose_case_manager", cast.supervisor, case_manager=cast.colleague.pk
    )
    assert instance.status == ProcessInstance.Status.COMPLETED
    today = agency.today()
    primary = CareTeamMember.objects.filter(
        CareTeamMember.active_on(today), client=cast.client, role=CareTeamMember.Role.PRIMARY
    )
    assert list(primary.values_list("staff", flat=True)) == [cast.colleague.pk]


def test_a_client_with_releases_in_force_skips_signing(cast: Cast, intake: ProcessInstance) -> None:
    release(client=cast.client, by=cast.case_manager, organization=clinic(cast))
    instance = eligible(cast, intake)
    assert open_titles(instance) == ["assessment"]
    assert instance.steps.filter(element_id="sign_releases").count() == 0
    assert step(instance, "assessment").due_at is not None
    instance = finish(instance, "assessment", cast.case_manager, assessed_on="2026-12-10")
    assert step(instance, "first_plan").due_at is None  # no episode, so no deadline to count
    instance = finish(instance, "first_plan", cast.case_manager, plan_signed_on="2026-12-20")
    instance = finish(
        instance, "choose_case_manager", cast.supervisor, case_manager=cast.colleague.pk
    )
    assert instance.status == ProcessInstance.Status.COMPLETED


def test_a_case_manager_from_another_agency_is_refused_and_the_step_stays_open(
    cast: Cast, intake: ProcessInstance
) -> None:
    release(client=cast.client, by=cast.case_manager, organization=clinic(cast))
    instance = eligible(cast, intake)
    instance = finish(instance, "assessment", cast.case_manager, assessed_on="2026-12-10")
    instance = finish(instance, "first_plan", cast.case_manager, plan_signed_on="2026-12-20")
    choosing = step(instance, "choose_case_manager")
    with pytest.raises(services.ProcessError, match="this agency's staff"):
        services.step_complete(
            by=cast.supervisor, step=choosing, answers={"case_manager": cast.outsider_cm.pk}
        )
    instance.refresh_from_db()
    assert instance.status == ProcessInstance.Status.RUNNING
    assert open_titles(instance) == ["choose_case_manager"]
    instance = finish(
        instance, "choose_case_manager", cast.supervisor, case_manager=cast.colleague.pk
    )
    assert instance.status == ProcessInstance.Status.COMPLETED


def _to_the_choice(cast: Cast, intake: ProcessInstance) -> ProcessStep:
    release(client=cast.client, by=cast.case_manager, organization=clinic(cast))
    instance = eligible(cast, intake)
    instance = finish(instance, "assessment", cast.case_manager, assessed_on="2026-12-10")
    instance = finish(instance, "first_plan", cast.case_manager, plan_signed_on="2026-12-20")
    return step(instance, "choose_case_manager")


def test_keeping_the_current_case_manager_finishes_intake(
    cast: Cast, intake: ProcessInstance
) -> None:
    choosing = _to_the_choice(cast, intake)
    services.step_complete(
        by=cast.supervisor, step=choosing, answers={"case_manager": cast.case_manager.pk}
    )
    intake.refresh_from_db()
    assert intake.status == ProcessInstance.Status.COMPLETED


def test_a_client_assigned_today_gets_the_new_case_manager_from_tomorrow(
    cast: Cast, intake: ProcessInstance
) -> None:
    today = cast.agency.today()
    CareTeamMember.objects.filter(client=cast.client).update(start_on=today)
    choosing = _to_the_choice(cast, intake)
    services.step_complete(
        by=cast.supervisor, step=choosing, answers={"case_manager": cast.colleague.pk}
    )
    intake.refresh_from_db()
    assert intake.status == ProcessInstance.Status.COMPLETED
    tomorrow = today + datetime.timedelta(days=1)
    primary = CareTeamMember.objects.get(
        client=cast.client, role=CareTeamMember.Role.PRIMARY, end_on__isnull=True
    )
    assert (primary.staff, primary.start_on) == (cast.colleague, tomorrow)


def test_only_a_supervisor_or_an_admin_chooses_the_case_manager(
    cast: Cast, intake: ProcessInstance
) -> None:
    choosing = _to_the_choice(cast, intake)
    with pytest.raises(services.ProcessError, match="This step is for a supervisor"):
        services.step_complete(
            by=cast.case_manager, step=choosing, answers={"case_manager": cast.colleague.pk}
        )
    choosing.refresh_from_db()
    assert choosing.status == ProcessStep.Status.OPEN
    services.step_complete(
        by=cast.admin, step=choosing, answers={"case_manager": cast.colleague.pk}
    )
