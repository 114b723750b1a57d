"""The read-only FHIR R4 facade: every resource parsed back with the fhir.resources R4B models
(round-trip validation) and checked for its key fields; the same roles and scoping as the API;
reads audited as chart reads; constant query counts."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.goal import Goal
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from rest_framework.test import APIClient

from casework.assessments.models import Assessment
from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.clients.models import Client
from casework.core.models import AuditEvent, User
from casework.plans.models import ServicePlan
from casework.plans.services import (
    goal_save,
    intervention_save,
    objective_save,
    objective_status_set,
    plan_review_start,
    plan_update,
)
from casework.testing.personas import Cast
from casework.testing.plans import complete_draft, sign, signed_plan

ApiAs = Callable[[User | None], APIClient]
BASE = "/api/fhir/r4"
FHIR_JSON = "application/fhir+json"
PHQ9_MODERATE = {f"q{n}": 1 for n in range(1, 9)} | {"q1": 3, "q2": 3, "q9": 0}  # total 12


def fhir_get(http: APIClient, path: str, **params: Any) -> Any:
    response = http.get(f"{BASE}/{path}", params)
    assert response["Content-Type"] == FHIR_JSON, (path, response.status_code)
    return response


def bundle_of(response: Any) -> Bundle:
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.type == "searchset"
    assert bundle.total == len(bundle.entry or [])
    return bundle


def resources(bundle: Bundle) -> list[Any]:
    return [entry.resource for entry in bundle.entry or []]


def outcome_of(response: Any, code: str) -> OperationOutcome:
    outcome = OperationOutcome.model_validate_json(response.content)
    assert outcome.issue[0].code == code
    return outcome


def signed_phq9(cast: Cast, day: datetime.date | None = None) -> Assessment:
    draft = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=day or cast.agency.today(),
        mode="in_person",
    )
    draft, _ = assessment_save(
        assessment=draft, by=cast.case_manager, answers=PHQ9_MODERATE, expected_version=1
    )
    return assessment_sign(assessment=draft, by=cast.case_manager)


def phq9_draft(cast: Cast) -> Assessment:
    draft = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=cast.agency.today(),
        mode="phone",
    )
    return assessment_save(
        assessment=draft, by=cast.case_manager, answers={"q1": 2}, expected_version=1
    )[0]


def reviewed(cast: Cast, plan: ServicePlan) -> ServicePlan:
    """The plan's review, signed: version 2 replaces version 1."""
    review = plan_review_start(plan=plan, by=cast.case_manager, starts_on=cast.agency.today())
    review = plan_update(
        plan=review,
        by=cast.case_manager,
        expected_revision=review.revision,
        starts_on=review.starts_on,
        participation="Reviewed together at home.",
    )
    return sign(review, cast.case_manager)


# --- Questionnaire ----------------------------------------------------------------------------


def test_an_instrument_is_a_questionnaire_with_scored_choices(cast: Cast, api_as: ApiAs) -> None:
    response = fhir_get(api_as(cast.case_manager), "Questionnaire/phq9")
    assert response.status_code == 200
    questionnaire = Questionnaire.model_validate_json(response.content)
    assert (questionnaire.id, questionnaire.status, questionnaire.version) == (
        "phq9",
        "active",
        "1",
    )
    assert questionnaire.url == f"http://testserver{BASE}/Questionnaire/phq9"
    assert questionnaire.title == "Patient Health Questionnaire (PHQ-9)"
    items = questionnaire.item
    assert [i.linkId for i in items[:9]] == [f"q{n}" for n in range(1, 10)]
    first = items[0]
    assert (first.type, first.required) == ("choice", True)
    option = first.answerOption[3]
    assert (option.valueCoding.code, option.valueCoding.display) == ("3", "Nearly every day")
    assert option.extension[0].url == "http://hl7.org/fhir/StructureDefinition/ordinalValue"
    assert option.extension[0].valueDecimal == 3
    assert [(i.linkId, i.type, i.readOnly) for i in items[9:]] == [
        ("score.total", "integer", True),
        ("score.band", "string", True),
    ]


def test_every_instrument_is_listed_and_any_staff_member_reads_them(
    cast: Cast, api_as: ApiAs
) -> None:
    bundle = bundle_of(fhir_get(api_as(cast.auditor), "Questionnaire"))
    ids = {q.id for q in resources(bundle)}
    assert {"phq9", "gad7", "auditc", "dast10", "psychosocial", "ssm"} <= ids
    psychosocial = next(q for q in resources(bundle) if q.id == "psychosocial")
    assert {i.type for i in psychosocial.item} >= {"text", "choice"}
    outcome_of(fhir_get(api_as(cast.case_manager), "Questionnaire/nope"), "not-found")


def test_anonymous_callers_get_401_as_an_operation_outcome(cast: Cast, api_as: ApiAs) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    http = api_as(None)
    for path in (
        "Questionnaire/phq9",
        f"QuestionnaireResponse?patient={cast.client.pk}",
        f"CarePlan/{plan.pk}",
        f"Goal/{plan.objectives.get().key}",
    ):
        response = http.get(f"{BASE}/{path}")
        assert response.status_code == 401, path
        assert response["Content-Type"] == FHIR_JSON
        outcome_of(response, "login")


# --- QuestionnaireResponse -------------------------------------------------------------------


def test_assessments_are_questionnaire_responses_of_the_patient(cast: Cast, api_as: ApiAs) -> None:
    signed = signed_phq9(cast, cast.agency.today() - datetime.timedelta(days=3))
    draft = phq9_draft(cast)
    bundle = bundle_of(
        fhir_get(api_as(cast.case_manager), "QuestionnaireResponse", patient=cast.client.pk)
    )
    found = {r.id: r for r in resources(bundle)}
    assert set(found) == {str(signed.pk), str(draft.pk)}
    assert all(isinstance(r, QuestionnaireResponse) for r in found.values())
    assert bundle.entry[0].fullUrl.endswith(f"{BASE}/QuestionnaireResponse/{draft.pk}")
    completed = found[str(signed.pk)]
    assert completed.status == "completed"
    assert completed.subject.reference == f"Patient/{cast.client.pk}"
    assert completed.questionnaire == f"http://testserver{BASE}/Questionnaire/phq9|1"
    answers = {i.linkId: i.answer[0] for i in completed.item}
    assert (answers["q1"].valueCoding.code, answers["q1"].valueCoding.display) == (
        "3",
        "Nearly every day",
    )
    assert answers["score.total"].valueInteger == 12
    assert answers["score.band"].valueString == "Moderate"
    in_progress = found[str(draft.pk)]
    assert in_progress.status == "in-progress"
    assert [i.linkId for i in in_progress.item] == ["q1"]


def test_a_colleague_does_not_see_someone_elses_draft(cast: Cast, api_as: ApiAs) -> None:
    signed = signed_phq9(cast)
    draft = phq9_draft(cast)
    http = api_as(cast.colleague)
    bundle = bundle_of(fhir_get(http, "QuestionnaireResponse", patient=f"Patient/{cast.client.pk}"))
    assert [r.id for r in resources(bundle)] == [str(signed.pk)]
    outcome_of(fhir_get(http, f"QuestionnaireResponse/{draft.pk}"), "not-found")
    read = fhir_get(http, f"QuestionnaireResponse/{signed.pk}")
    assert QuestionnaireResponse.model_validate_json(read.content).id == str(signed.pk)


def test_a_search_needs_a_patient_it_can_understand(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    outcome_of(fhir_get(http, "QuestionnaireResponse"), "invalid")
    outcome_of(fhir_get(http, "CarePlan", patient="abc"), "invalid")
    outcome_of(fhir_get(http, "Goal", patient=""), "invalid")
    outcome_of(fhir_get(http, "QuestionnaireResponse/abc"), "not-found")
    outcome_of(fhir_get(http, "Goal/not-a-uuid"), "not-found")
    outcome_of(fhir_get(http, "Patient/1"), "not-found")


# --- CarePlan ----------------------------------------------------------------------------------


def test_signed_plan_versions_are_care_plans_active_and_revoked(cast: Cast, api_as: ApiAs) -> None:
    first = signed_plan(client=cast.client, by=cast.case_manager)
    second = reviewed(cast, first)
    objective = second.objectives.get()
    objective_status_set(
        client=cast.client, by=cast.case_manager, objective_key=objective.key, status="progressing"
    )
    bundle = bundle_of(fhir_get(api_as(cast.case_manager), "CarePlan", patient=cast.client.pk))
    plans = resources(bundle)
    assert [p.id for p in plans] == [str(second.pk), str(first.pk)]
    current, earlier = plans
    assert all(isinstance(p, CarePlan) for p in plans)
    assert (current.status, current.intent, earlier.status) == ("active", "plan", "revoked")
    assert current.subject.reference == f"Patient/{cast.client.pk}"
    assert current.replaces[0].reference == f"CarePlan/{first.pk}"
    assert current.title == "Individual service plan, version 2"
    assert [g.reference for g in current.goal] == [f"Goal/{objective.key}"]
    activity = current.activity[0].detail
    assert (activity.status, activity.description, activity.scheduledString) == (
        "in-progress",
        "Help fill in the applications",
        "Weekly",
    )
    assert activity.performer[0].display == "Case manager"
    assert activity.goal[0].reference == f"Goal/{objective.key}"
    assert str(earlier.period.end) == second.starts_on.isoformat()
    assert current.addresses[0].display == "Housing: A place of my own"
    read = fhir_get(api_as(cast.case_manager), f"CarePlan/{first.pk}")
    assert CarePlan.model_validate_json(read.content).status == "revoked"


def test_a_draft_plan_is_not_a_care_plan(cast: Cast, api_as: ApiAs) -> None:
    draft = complete_draft(client=cast.client, by=cast.case_manager)
    http = api_as(cast.case_manager)
    assert resources(bundle_of(fhir_get(http, "CarePlan", patient=cast.client.pk))) == []
    assert resources(bundle_of(fhir_get(http, "Goal", patient=cast.client.pk))) == []
    outcome_of(fhir_get(http, f"CarePlan/{draft.pk}"), "not-found")
    outcome_of(fhir_get(http, f"Goal/{draft.objectives.get().key}"), "not-found")


def test_the_plan_of_a_discharged_client_is_completed(cast: Cast, api_as: ApiAs) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    Client.objects.filter(pk=cast.client.pk).update(status=Client.Status.DISCHARGED)
    read = fhir_get(api_as(cast.case_manager), f"CarePlan/{plan.pk}")
    assert CarePlan.model_validate_json(read.content).status == "completed"


# --- Goal --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "lifecycle", "achievement"),
    [
        (None, "accepted", "in-progress"),
        ("not_started", "accepted", "in-progress"),
        ("progressing", "active", "improving"),
        ("met", "completed", "achieved"),
        ("discontinued", "cancelled", "not-achieved"),
    ],
)
def test_each_objective_of_the_current_plan_is_a_goal(
    cast: Cast, api_as: ApiAs, status: str | None, lifecycle: str, achievement: str
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    objective = plan.objectives.get()
    if status is not None:
        objective_status_set(
            client=cast.client,
            by=cast.case_manager,
            objective_key=objective.key,
            status=status,
            comment="Checked in.",
        )
    http = api_as(cast.case_manager)
    goals = resources(bundle_of(fhir_get(http, "Goal", patient=cast.client.pk)))
    read = Goal.model_validate_json(fhir_get(http, f"Goal/{objective.key}").content)
    for goal in (goals[0], read):
        assert isinstance(goal, Goal)
        assert goal.id == str(objective.key)
        assert goal.lifecycleStatus == lifecycle
        coding = goal.achievementStatus.coding[0]
        assert (coding.system, coding.code) == (
            "http://terminology.hl7.org/CodeSystem/goal-achievement",
            achievement,
        )
        assert goal.description.text == "Apply to two housing programs"
        assert goal.subject.reference == f"Patient/{cast.client.pk}"
        assert str(goal.target[0].dueDate) == objective.target_on.isoformat()
        assert goal.target[0].detailString == "Two applications submitted"
        assert (goal.statusReason == "Checked in.") is (status is not None)
    assert len(goals) == 1


def test_goals_follow_the_current_version(cast: Cast, api_as: ApiAs) -> None:
    first = signed_plan(client=cast.client, by=cast.case_manager, goals=2)
    second = reviewed(cast, first)
    http = api_as(cast.case_manager)
    goals = resources(bundle_of(fhir_get(http, "Goal", patient=cast.client.pk)))
    assert {g.id for g in goals} == {str(o.key) for o in second.objectives.all()}
    assert {g.id for g in goals} == {str(o.key) for o in first.objectives.all()}  # same keys


# --- outsiders ---------------------------------------------------------------------------------


def _every_read(cast: Cast, plan: ServicePlan, assessment: Assessment) -> list[str]:
    key = plan.objectives.get().key
    return [
        f"QuestionnaireResponse?patient={cast.client.pk}",
        f"QuestionnaireResponse/{assessment.pk}",
        f"CarePlan?patient={cast.client.pk}",
        f"CarePlan/{plan.pk}",
        f"Goal?patient={cast.client.pk}",
        f"Goal/{key}",
    ]


def test_another_agency_and_another_team_get_404_and_nothing_leaks(
    cast: Cast, api_as: ApiAs
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    assessment = signed_phq9(cast)
    for user in (cast.outsider_cm, cast.outsider_admin, cast.other_team_cm):
        http = api_as(user)
        for path in _every_read(cast, plan, assessment):
            response = http.get(f"{BASE}/{path}")
            assert response.status_code == 404, (user, path)
            body = response.content.decode()
            assert cast.client.legal_last_name not in body and "apartment" not in body
            outcome_of(response, "not-found")
    assert not AuditEvent.objects.filter(
        action="view", actor_id__in=[cast.outsider_cm.pk, cast.other_team_cm.pk]
    ).exists()


@pytest.mark.parametrize("persona", ["auditor", "billing"])
def test_roles_that_may_not_read_narratives_get_403(
    cast: Cast, api_as: ApiAs, persona: str
) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    assessment = signed_phq9(cast)
    http = api_as(getattr(cast, persona))
    for path in _every_read(cast, plan, assessment):
        response = http.get(f"{BASE}/{path}")
        assert response.status_code == 403, path
        outcome_of(response, "forbidden")
        assert "apartment" not in response.content.decode()


def test_fhir_reads_are_audited_as_chart_reads(cast: Cast, api_as: ApiAs) -> None:
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    assessment = signed_phq9(cast)
    http = api_as(cast.supervisor)
    for path in _every_read(cast, plan, assessment):
        assert http.get(f"{BASE}/{path}").status_code == 200, path
    events = AuditEvent.objects.filter(action="view", actor_id=cast.supervisor.pk)
    assert set(events.values_list("client_id", flat=True)) == {cast.client.pk}
    assert events.count() == 6
    assert any("fhir CarePlan" in e.detail for e in events)


def test_fhir_answers_fhir_json_whatever_the_caller_accepts(cast: Cast, api_as: ApiAs) -> None:
    http = api_as(cast.case_manager)
    for accept in ("application/json", "application/fhir+json", "*/*", "text/html"):
        response = http.get(f"{BASE}/Questionnaire/gad7", HTTP_ACCEPT=accept)
        assert response.status_code == 200 and response["Content-Type"] == FHIR_JSON


# --- query counts ------------------------------------------------------------------------------


def _queries(http: APIClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = http.get(f"{BASE}/{path}")
    assert response.status_code == 200
    return len(queries)


def review_with_another_goal(cast: Cast, plan: ServicePlan) -> ServicePlan:
    """The plan's review, with one more goal (an objective and an intervention), signed."""
    review = plan_review_start(plan=plan, by=cast.case_manager, starts_on=cast.agency.today())
    goal = goal_save(plan=review, by=cast.case_manager, text="Another goal", need_id=None)
    objective = objective_save(
        plan=review,
        by=cast.case_manager,
        goal_id=goal.pk,
        text="Another step",
        measure="Done",
        target_on=cast.agency.today() + datetime.timedelta(days=30),
    )
    intervention_save(
        plan=review,
        by=cast.case_manager,
        objective_id=objective.pk,
        action="Help",
        responsible="Case manager",
        frequency="Weekly",
    )
    review.refresh_from_db()
    review = plan_update(
        plan=review,
        by=cast.case_manager,
        expected_revision=review.revision,
        starts_on=review.starts_on,
        participation="Together.",
    )
    return sign(review, cast.case_manager)


def test_searches_run_the_same_number_of_queries_for_1_and_5_results(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    http.get(f"{BASE}/Questionnaire")  # first use of the token records last_used_at
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    signed_phq9(cast)
    searches = [
        f"{kind}?patient={cast.client.pk}" for kind in ("QuestionnaireResponse", "CarePlan", "Goal")
    ]
    with_1 = [_queries(http, path) for path in searches]
    for _ in range(4):
        signed_phq9(cast)
        plan = review_with_another_goal(cast, plan)
        objective_status_set(
            client=cast.client,
            by=cast.case_manager,
            objective_key=plan.objectives.last().key,  # type: ignore[union-attr]
            status="progressing",
        )
    counts = [len(resources(bundle_of(fhir_get(http, path)))) for path in searches]
    assert counts == [5, 5, 5]
    assert [_queries(http, path) for path in searches] == with_1
