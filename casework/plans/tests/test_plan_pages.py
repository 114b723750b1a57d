"""Plan pages: write from the chart, keep what was typed on a mistake, sign, review, PDF, CSV."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.clients.models import Episode
from casework.core.models import AuditEvent, Program
from casework.plans import services
from casework.plans.models import PlanGoal, ServicePlan
from casework.testing.factories import ClientFactory, assign
from casework.testing.plans import complete_draft, signed_plan

pytestmark = pytest.mark.django_db


def test_a_case_manager_writes_and_signs_a_plan_from_the_chart(cast, http_as):
    http = http_as(cast.case_manager)
    chart = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert "Write the first plan" in chart
    started = http.post(f"/plans/new/{cast.client.pk}/")
    plan = ServicePlan.objects.get()
    assert started["Location"] == f"/plans/{plan.pk}/"
    today = cast.agency.today()
    saved = http.post(
        f"/plans/{plan.pk}/edit/",
        {
            "revision": plan.revision,
            "starts_on": today.isoformat(),
            "strengths": "Cooks for her neighbours",
            "barriers": "",
            "participation": "Wrote her goals in her own words",
        },
    )
    assert saved.status_code == 302
    http.post(f"/plans/{plan.pk}/need/add/", {"need-area": "housing", "need-text": "A safe place"})
    http.post(f"/plans/{plan.pk}/goal/add/", {"goal-text": "Move into my own studio"})
    goal = PlanGoal.objects.get()
    http.post(
        f"/plans/{plan.pk}/objective/add/",
        {
            "objective-goal": goal.pk,
            "objective-text": "Visit three apartments",
            "objective-measure": "Three visits",
            "objective-target_on": (today + datetime.timedelta(days=30)).isoformat(),
        },
    )
    objective = goal.objectives.get()
    http.post(
        f"/plans/{plan.pk}/intervention/add/",
        {
            "intervention-objective": objective.pk,
            "intervention-action": "Drive her to the viewings",
            "intervention-responsible": "Case manager",
            "intervention-frequency": "As scheduled",
            "intervention-service_code": "",
        },
    )
    page = http.get(f"/plans/{plan.pk}/").content.decode()
    assert "Everything the plan needs is there." in page
    plan.refresh_from_db()
    signed = http.post(
        f"/plans/{plan.pk}/sign/",
        {
            "revision": plan.revision,
            "role": "client",
            "method": "on_screen",
            "name": "María O'Connor-Núñez",
            "signed_on": today.isoformat(),
            "attest": "on",
        },
    )
    assert signed.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "signed"
    chart = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert "Visit three apartments" in chart and "Not started" in chart


def test_a_wrong_target_date_keeps_everything_typed_and_says_why(cast, http_as):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    goal = plan.goals.get()
    http = http_as(cast.case_manager)
    early = plan.starts_on - datetime.timedelta(days=10)
    response = http.post(
        f"/plans/{plan.pk}/objective/add/",
        {
            "objective-goal": goal.pk,
            "objective-text": "Call the landlord — café on 5th ☕",
            "objective-measure": "One call a week",
            "objective-target_on": early.isoformat(),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"The target date ({early:%m/%d/%Y}) is before the plan starts" in page
    assert "Call the landlord — café on 5th ☕" in page and "One call a week" in page
    assert goal.objectives.count() == 1


def test_the_plan_form_refuses_a_stale_page_and_keeps_the_text(cast, http_as):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    opened = plan.revision
    services.plan_update(
        plan=plan, by=cast.colleague, expected_revision=opened, starts_on=plan.starts_on
    )
    http = http_as(cast.case_manager)
    response = http.post(
        f"/plans/{plan.pk}/edit/",
        {
            "revision": opened,
            "starts_on": plan.starts_on.isoformat(),
            "strengths": "Typed while someone else saved",
            "participation": "x",
        },
    )
    assert response.status_code == 400
    assert "Typed while someone else saved" in response.content.decode()
    assert "changed these fields since you opened the plan" in response.content.decode()


def test_a_signed_plan_cannot_be_changed_through_the_forms(cast, http_as):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    http = http_as(cast.case_manager)
    response = http.post(
        f"/plans/{plan.pk}/edit/",
        {"revision": plan.revision, "starts_on": plan.starts_on.isoformat(), "strengths": "new"},
    )
    assert response.status_code == 302
    page = http.get(response["Location"]).content.decode()
    assert "signed and cannot change" in page
    goal = plan.goals.get()
    edit = http.post(f"/plans/{plan.pk}/goal/{goal.pk}/", {"goal-text": "Changed"})
    assert edit.status_code == 302
    plan.refresh_from_db()
    assert plan.strengths != "new" and plan.goals.get().text == goal.text


def test_a_review_becomes_version_2_and_shows_what_changed(cast, http_as):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    http = http_as(cast.case_manager)
    response = http.post(f"/plans/{plan.pk}/review/", {"starts_on": plan.starts_on.isoformat()})
    review = ServicePlan.objects.get(number=2)
    assert response["Location"] == f"/plans/{review.pk}/"
    http.post(f"/plans/{review.pk}/goal/add/", {"goal-text": "Volunteer at the food bank"})
    page = http.get(f"/plans/{review.pk}/").content.decode()
    assert "What changed since version 1" in page and "Volunteer at the food bank" in page
    history = http.get(f"/plans/client/{cast.client.pk}/").content.decode()
    assert "Version 2" in history and "Version 1" in history


def test_the_supervisor_signs_from_the_plan_page(cast, http_as):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    http = http_as(cast.supervisor)
    page = http.get(f"/plans/{plan.pk}/").content.decode()
    assert "Sign as supervisor" in page
    http.post(f"/plans/{plan.pk}/signature/", {"role": "supervisor"})
    assert plan.signatures.filter(role="supervisor", user=cast.supervisor).exists()


def test_progress_recorded_on_the_plan_shows_on_the_chart(cast, http_as):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    key = plan.objectives.get().key
    http = http_as(cast.case_manager)
    http.post(f"/plans/{plan.pk}/objective/{key}/progress/", {"status": "met", "comment": "Done!"})
    chart = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert ">Met<" in chart


def test_the_pdf_is_in_plain_language_and_audited(cast, http_as):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    response = http_as(cast.case_manager).get(f"/plans/{plan.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "My service plan" in text
    assert "Live in my own apartment" in text and "How we will know" in text
    assert AuditEvent.objects.filter(action="export", object_type="plans.serviceplan").exists()


def test_the_goals_csv_lists_my_caseload_and_escapes_formulas(cast, http_as):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    services.goal_save(plan=plan, by=cast.case_manager, text="=HYPERLINK(1)", need_id=None)
    goal = plan.goals.get(text="=HYPERLINK(1)")
    objective = services.objective_save(
        plan=plan,
        by=cast.case_manager,
        goal_id=goal.pk,
        text="Step",
        measure="Done",
        target_on=plan.starts_on,
    )
    services.intervention_save(
        plan=plan,
        by=cast.case_manager,
        objective_id=objective.pk,
        action="Help",
        responsible="CM",
        frequency="Weekly",
    )
    plan.refresh_from_db()
    from casework.testing.plans import sign

    sign(plan, cast.case_manager)
    response = http_as(cast.case_manager).get("/plans/goals.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["client", "record number", "plan version"]
    assert {row[6] for row in rows[1:]} == {"Live in my own apartment (1)", "'=HYPERLINK(1)"}
    assert AuditEvent.objects.filter(action="export", object_type="plans.goals").exists()
    outsider = http_as(cast.outsider_cm).get("/plans/goals.csv?scope=all")
    assert len(list(csv.reader(io.StringIO(outsider.content.decode())))) == 1


def test_the_chart_shows_when_the_first_plan_is_due_from_admission(cast, http_as):
    program = Program.objects.create(agency=cast.agency, name="ICM")
    admitted = cast.agency.today() - datetime.timedelta(days=40)
    Episode.objects.create(
        agency=cast.agency, client=cast.client, program=program, admitted_on=admitted
    )
    chart = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/").content.decode()
    due = admitted + datetime.timedelta(days=30)
    assert f'First plan due <span class="badge badge--warn">{due:%m/%d/%Y}, overdue' in chart


def _chart_queries(http, client_id: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(f"/clients/{client_id}/").status_code == 200
    return len(queries)


def _give(client, by, instrument: str, answers: dict, days_ago: int) -> None:
    assessment = assessment_start(
        client=client,
        author=by,
        instrument_key=instrument,
        administered_on=client.agency.today() - datetime.timedelta(days=days_ago),
        mode="in_person",
    )
    assessment, _ = assessment_save(
        assessment=assessment, by=by, answers=answers, expected_version=assessment.version
    )
    assessment_sign(assessment=assessment, by=by)


def test_the_chart_assessment_and_plan_sections_take_the_same_queries_small_or_large(cast, http_as):
    second = ClientFactory(agency=cast.agency)
    assign(second, cast.case_manager)
    small = signed_plan(client=cast.client, by=cast.case_manager, goals=1)
    large = signed_plan(client=second, by=cast.case_manager, goals=6)
    for plan in (small, large):
        for objective in plan.objectives.all():
            services.objective_status_set(
                client=plan.client, by=cast.case_manager, objective_key=objective.key, status="met"
            )
    phq9 = {f"q{n}": 1 for n in range(1, 10)} | {"q9": 0}
    gad7 = {f"q{n}": 2 for n in range(1, 8)}
    _give(cast.client, cast.case_manager, "phq9", phq9, days_ago=10)
    for days_ago in range(10, 100, 15):
        _give(second, cast.case_manager, "phq9", phq9, days_ago=days_ago)
        _give(second, cast.case_manager, "gad7", gad7, days_ago=days_ago)
    http = http_as(cast.supervisor)
    _chart_queries(http, cast.client.pk)  # warm caches (session, content types)
    assert _chart_queries(http, cast.client.pk) == _chart_queries(http, second.pk)


def test_outsiders_cannot_open_or_change_a_plan(cast, http_as):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    for outsider in (cast.outsider_cm, cast.other_team_cm):
        http = http_as(outsider)
        assert http.get(f"/plans/{plan.pk}/").status_code == 404
        assert http.post(f"/plans/{plan.pk}/goal/add/", {"goal-text": "x"}).status_code == 404
    assert http_as(cast.billing).get(f"/plans/{plan.pk}/").status_code == 403
    assert plan.goals.count() == 1


def test_a_year_typo_in_the_start_date_is_a_message_not_an_error_page(cast, http_as):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    response = http_as(cast.case_manager).post(
        f"/plans/{plan.pk}/edit/",
        {
            "revision": plan.revision,
            "starts_on": "9999-12-20",
            "strengths": "Kept",
            "participation": "x",
        },
    )
    assert response.status_code == 400
    assert "Check the year" in response.content.decode() and "Kept" in response.content.decode()


def test_opening_the_sign_page_and_a_part_is_an_audited_chart_read(cast, http_as):
    plan = complete_draft(client=cast.client, by=cast.case_manager)
    http = http_as(cast.case_manager)
    before = AuditEvent.objects.filter(action="view", client_id=cast.client.pk).count()
    assert http.get(f"/plans/{plan.pk}/sign/?revision={plan.revision}").status_code == 200
    assert http.get(f"/plans/{plan.pk}/goal/{plan.goals.get().pk}/").status_code == 200
    assert AuditEvent.objects.filter(action="view", client_id=cast.client.pk).count() == before + 2


def test_a_refused_paper_signature_says_which_field_is_wrong(cast, http_as):
    plan = signed_plan(client=cast.client, by=cast.case_manager)
    http = http_as(cast.case_manager)
    response = http.post(
        f"/plans/{plan.pk}/signature/",
        {"role": "client", "method": "paper", "name": "M", "signed_on": "31/12/2025"},
        follow=True,
    )
    assert "Date signed: Enter a valid date." in response.content.decode()
