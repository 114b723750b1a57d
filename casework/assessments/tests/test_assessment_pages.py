"""Assessment pages: start from the chart, answer in parts, sign, see the trend."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.assessments.models import Assessment
from casework.assessments.services import assessment_save, assessment_sign, assessment_start

pytestmark = pytest.mark.django_db


def _signed_phq9(cast, day: datetime.date, each: int) -> Assessment:
    assessment = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=day,
        mode="in_person",
    )
    assessment, _ = assessment_save(
        assessment=assessment,
        by=cast.case_manager,
        answers={f"q{n}": each for n in range(1, 9)} | {"q9": 0},
        expected_version=assessment.version,
    )
    return assessment_sign(assessment=assessment, by=cast.case_manager)


def test_a_case_manager_gives_a_phq9_from_start_to_signature(cast, http_as):
    http = http_as(cast.case_manager)
    started = http.post(
        f"/assessments/new/{cast.client.pk}/",
        {"instrument": "phq9", "administered_on": "2026-11-20", "mode": "read_aloud"},
    )
    assert started.status_code == 302
    url = started["Location"]
    assessment = Assessment.objects.get()
    partial = http.post(
        url, {"version": assessment.version, "q1": "2", "q2": "1", "action": "save"}
    )
    assert partial.status_code == 302
    page = http.get(url).content.decode()
    assert "7 questions still to answer" in page
    answers = {f"q{n}": "1" for n in range(3, 10)}
    assessment.refresh_from_db()
    http.post(
        url, {"version": assessment.version, "q1": "2", "q2": "1", **answers, "action": "sign"}
    )
    assessment.refresh_from_db()
    assert (assessment.status, assessment.total, assessment.band) == ("signed", 10, "Moderate")
    chart = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert "PHQ9 11/20/2026" in chart and "suicide" in chart.lower()


def test_signing_an_incomplete_assessment_keeps_the_answers_and_says_what_is_missing(cast, http_as):
    http = http_as(cast.case_manager)
    assessment = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="gad7",
        administered_on=datetime.date(2026, 11, 20),
        mode="phone",
    )
    response = http.post(
        f"/assessments/{assessment.pk}/",
        {"version": assessment.version, "q1": "3", "action": "sign"},
    )
    assert (
        response.status_code == 400
        and "6 question(s) still need an answer" in response.content.decode()
    )
    assessment.refresh_from_db()
    assert assessment.answers == {"q1": 3} and assessment.status == "draft"


def test_the_trend_shows_every_signed_score_with_a_chart(cast, http_as):
    for month, each in ((3, 2), (6, 1), (9, 0)):
        _signed_phq9(cast, datetime.date(2026, month, 1), each)
    body = (
        http_as(cast.case_manager)
        .get(f"/assessments/client/{cast.client.pk}/trend/phq9/")
        .content.decode()
    )
    assert body.count("<circle") == 3 and "<svg" in body
    assert "16" in body and "Moderately severe" in body and "Minimal" in body


def test_the_trend_page_runs_a_constant_number_of_queries(cast, http_as):
    http = http_as(cast.case_manager)
    url = f"/assessments/client/{cast.client.pk}/trend/phq9/"
    _signed_phq9(cast, datetime.date(2026, 1, 1), 1)
    http.get(url)
    with CaptureQueriesContext(connection) as few:
        http.get(url)
    for month in range(2, 9):
        _signed_phq9(cast, datetime.date(2026, month, 1), 1)
    with CaptureQueriesContext(connection) as many:
        http.get(url)
    assert len(many) == len(few)


def test_others_cannot_see_a_draft_or_change_a_signed_assessment(cast, http_as):
    draft = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=datetime.date(2026, 11, 20),
        mode="in_person",
    )
    assert http_as(cast.colleague).get(f"/assessments/{draft.pk}/").status_code == 404
    assert http_as(cast.billing).get(f"/assessments/{draft.pk}/").status_code == 403
    signed = _signed_phq9(cast, datetime.date(2026, 11, 1), 1)
    refused = http_as(cast.colleague).post(f"/assessments/{signed.pk}/", {"version": 9, "q1": "0"})
    assert refused.status_code == 403


def test_the_chart_says_when_each_instrument_is_due_again(cast, http_as):
    from casework.assessments.selectors import assessments_due

    _signed_phq9(cast, datetime.date(2026, 1, 5), 1)
    _signed_phq9(cast, datetime.date(2026, 3, 2), 1)
    due = assessments_due(user=cast.case_manager, client_id=cast.client.pk)
    assert [(d.instrument, d.due_on) for d in due] == [("phq9", datetime.date(2026, 5, 31))]
    chart = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/").content.decode()
    assert "overdue since 05/31/2026" in chart
