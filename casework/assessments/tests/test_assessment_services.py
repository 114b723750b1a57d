"""Giving an assessment: partial saves, flags on the chart at once, signing that locks."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from casework.assessments.models import Assessment
from casework.assessments.services import (
    AssessmentError,
    assessment_addendum_add,
    assessment_save,
    assessment_sign,
    assessment_start,
)
from casework.clients.models import SafetyFlag, TimelineEvent

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 20)


def _phq9(cast) -> Assessment:
    return assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=DAY,
        mode="read_aloud",
    )


def _save(cast, assessment: Assessment, **answers: object):
    return assessment_save(
        assessment=assessment,
        by=cast.case_manager,
        answers=answers,
        expected_version=assessment.version,
    )


def test_a_partial_save_keeps_the_answers_and_gives_no_score(cast):
    assessment, result = _save(cast, _phq9(cast), q1=1, q2=2)
    assert assessment.answers == {"q1": 1, "q2": 2} and result.total is None
    assessment, result = _save(cast, assessment, q3=0)
    assert assessment.answers == {"q1": 1, "q2": 2, "q3": 0}


def test_an_answer_outside_the_options_is_refused(cast):
    with pytest.raises(AssessmentError, match="Choose one of the answers") as raised:
        _save(cast, _phq9(cast), q1=7)
    assert raised.value.field == "q1"


def test_item_9_puts_a_suicide_risk_flag_on_the_chart_at_once_and_only_once(cast):
    assessment, _ = _save(cast, _phq9(cast), q9=2)
    flag = SafetyFlag.objects.get(client=cast.client, kind=SafetyFlag.Kind.SUICIDE_RISK)
    assert "More than half the days" in flag.detail and "better off dead" in flag.detail
    assert TimelineEvent.objects.filter(client=cast.client, kind="assessment_flag").count() == 1
    _save(cast, assessment, q1=0)
    assert (
        SafetyFlag.objects.filter(client=cast.client, kind=SafetyFlag.Kind.SUICIDE_RISK).count()
        == 1
    )


def test_signing_needs_every_answer_then_fixes_the_score_and_locks(cast):
    assessment, _ = _save(cast, _phq9(cast), q1=3, q2=3)
    with pytest.raises(AssessmentError, match="7 question"):
        assessment_sign(assessment=assessment, by=cast.case_manager)
    answers = {f"q{n}": 2 for n in range(3, 10)}
    assessment, _ = _save(cast, assessment, **answers)
    signed = assessment_sign(assessment=assessment, by=cast.case_manager)
    assert (signed.total, signed.band) == (20, "Severe")
    assert [f["kind"] for f in signed.flags] == ["suicide_risk"]
    assert assessment_sign(assessment=signed, by=cast.case_manager).pk == signed.pk  # twice: once
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        Assessment.objects.filter(pk=signed.pk).update(total=0)
    with pytest.raises(AssessmentError, match="addendum"):
        _save(cast, Assessment.objects.get(pk=signed.pk), q1=0)
    assessment_addendum_add(
        assessment=signed, by=cast.case_manager, text="Client clarified item 5."
    )
    signed.refresh_from_db()
    assert signed.total == 20


def test_a_stale_copy_and_another_agency_are_refused(cast):
    assessment = _phq9(cast)
    _save(cast, assessment, q1=1)
    with pytest.raises(AssessmentError, match="saved elsewhere"):
        _save(cast, assessment, q1=2)
    with pytest.raises(AssessmentError, match="role"):
        assessment_start(
            client=cast.client,
            author=cast.outsider_cm,
            instrument_key="phq9",
            administered_on=DAY,
            mode="phone",
        )
