"""The agency's rules for assessments: intervals that override the instrument's, required
instruments due after admission, and the checks on what an admin may set."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.assessments.models import Assessment, AssessmentRule
from casework.assessments.selectors import Due, assessments_due
from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.assessments.services_rules import (
    RuleError,
    RuleInput,
    assessment_rule_create,
    assessment_rule_delete,
    assessment_rule_update,
)
from casework.clients.models import Client, Episode
from casework.core.models import AuditEvent, Program
from casework.testing.factories import ProgramFactory

pytestmark = pytest.mark.django_db
PHQ9 = "Patient Health Questionnaire (PHQ-9)"


def _signed(cast, instrument: str, day: datetime.date, client: Client | None = None) -> Assessment:
    from casework.assessments.instruments import instruments

    found = instruments()[instrument]
    assessment = assessment_start(
        client=client or cast.client,
        author=cast.case_manager,
        instrument_key=instrument,
        administered_on=day,
        mode="in_person",
    )
    answers = {}
    for item in found.items:
        if item["type"] == "choice":
            answers[item["key"]] = min(o["value"] for o in found.options(item))
        else:
            answers[item["key"]] = "fine"
    assessment, _ = assessment_save(
        assessment=assessment,
        by=cast.case_manager,
        answers=answers,
        expected_version=assessment.version,
    )
    return assessment_sign(assessment=assessment, by=cast.case_manager)


def _rule(
    cast, instrument: str = "phq9", program: Program | None = None, **fields
) -> AssessmentRule:
    return assessment_rule_create(
        agency=cast.agency,
        by=cast.admin,
        wanted=RuleInput(
            instrument=instrument,
            program=program,
            repeat_every_days=fields.pop("repeat_every_days", None),
            **fields,
        ),
    )


def _program(cast, name: str = "Intensive case management") -> Program:
    return ProgramFactory(agency=cast.agency, name=name)


def _enrol(cast, program: Program, admitted_on: datetime.date, **fields) -> Episode:
    return Episode.objects.create(
        agency=cast.agency, client=cast.client, program=program, admitted_on=admitted_on, **fields
    )


def _due(cast) -> dict[str, Due]:
    return {
        d.instrument: d for d in assessments_due(user=cast.case_manager, client_id=cast.client.pk)
    }


# ---------------------------------------------------------------------------- intervals


def test_without_rules_the_instruments_own_interval_applies(cast):
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 4, 5)


def test_an_agency_wide_rule_overrides_the_instruments_interval(cast):
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    _rule(cast, repeat_every_days=30)
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 2, 4)


def test_a_programs_rule_beats_the_agency_wide_rule_for_its_clients_only(cast):
    icm = _program(cast)
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    _rule(cast, repeat_every_days=30)
    _rule(cast, program=icm, repeat_every_days=60)
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 2, 4)  # not enrolled: agency-wide
    _enrol(cast, icm, datetime.date(2025, 6, 1))
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 3, 6)


def test_a_programs_rule_with_a_blank_interval_uses_the_instruments_own(cast):
    icm = _program(cast)
    _enrol(cast, icm, datetime.date(2025, 6, 1))
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    _rule(cast, repeat_every_days=30)
    _rule(cast, program=icm, repeat_every_days=None)
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 4, 5)


def test_an_interval_of_zero_means_never_again(cast):
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    _signed(cast, "gad7", datetime.date(2026, 1, 5))
    _rule(cast, repeat_every_days=0)
    assert set(_due(cast)) == {"gad7"}


def test_in_two_programs_the_shorter_interval_wins(cast):
    icm, sud = _program(cast), _program(cast, "SUD outpatient")
    _enrol(cast, icm, datetime.date(2025, 6, 1))
    _enrol(cast, sud, datetime.date(2025, 7, 1))
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    _rule(cast, program=icm, repeat_every_days=0)
    _rule(cast, program=sud, repeat_every_days=45)
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 2, 19)


def test_a_closed_episode_does_not_bring_its_programs_rule(cast):
    icm = _program(cast)
    _enrol(cast, icm, datetime.date(2025, 6, 1), discharged_on=datetime.date(2025, 12, 1))
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    _rule(cast, program=icm, repeat_every_days=10)
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 4, 5)


def test_another_agencys_rules_never_apply(cast):
    _signed(cast, "phq9", datetime.date(2026, 1, 5))
    AssessmentRule.objects.create(
        agency=cast.outsider_agency, instrument="phq9", repeat_every_days=7
    )
    assert _due(cast)["phq9"].due_on == datetime.date(2026, 4, 5)


# ---------------------------------------------------------------------------- required


def test_a_required_instrument_never_given_is_due_after_admission_plus_the_grace(cast):
    icm = _program(cast)
    today = cast.agency.today()
    admitted = today - datetime.timedelta(days=40)
    _enrol(cast, icm, admitted)
    _rule(cast, "ssm", program=icm, required=True, first_due_days=30)
    _rule(cast, "gad7", program=icm, required=True, first_due_days=60)
    due = _due(cast)
    assert due["ssm"] == Due(
        "ssm", "Self-Sufficiency Matrix", None, admitted + datetime.timedelta(30)
    )
    assert due["ssm"].overdue(today) and due["ssm"].first_time
    assert not due["gad7"].overdue(today)
    assert list(due) == ["ssm", "gad7"]  # soonest first


def test_a_required_instrument_is_only_required_in_its_program(cast):
    icm = _program(cast)
    _rule(cast, "ssm", program=icm, required=True)
    assert "ssm" not in _due(cast)


def test_a_programs_rule_that_does_not_require_it_beats_an_agency_wide_requirement(cast):
    icm = _program(cast)
    _enrol(cast, icm, datetime.date(2026, 1, 1))
    _rule(cast, "ssm", required=True)
    _rule(cast, "ssm", program=icm, repeat_every_days=90)
    assert "ssm" not in _due(cast)


def test_required_agency_wide_counts_from_registration_without_an_episode(cast):
    Client.objects.filter(pk=cast.client.pk).update(
        created_at=datetime.datetime(2026, 3, 1, 20, tzinfo=datetime.UTC)
    )
    _rule(cast, "ssm", required=True, first_due_days=10)
    assert _due(cast)["ssm"].due_on == datetime.date(2026, 3, 11)


def test_once_given_a_required_instrument_repeats_at_its_interval(cast):
    icm = _program(cast)
    _enrol(cast, icm, datetime.date(2026, 1, 1))
    _rule(cast, "phq9", program=icm, required=True, repeat_every_days=30)
    _signed(cast, "phq9", datetime.date(2026, 2, 1))
    assert _due(cast)["phq9"] == Due(
        "phq9", PHQ9, datetime.date(2026, 2, 1), datetime.date(2026, 3, 3)
    )


def test_a_discharged_client_has_nothing_required(cast):
    _rule(cast, "ssm", required=True)
    Client.objects.filter(pk=cast.client.pk).update(status=Client.Status.DISCHARGED)
    assert "ssm" not in _due(cast)


def test_a_client_out_of_sight_has_nothing_due(cast):
    _rule(cast, "ssm", required=True)
    assert assessments_due(user=cast.other_team_cm, client_id=cast.client.pk) == []
    assert assessments_due(user=cast.outsider_cm, client_id=cast.client.pk) == []


def test_the_chart_shows_a_required_instrument_as_due(cast, http_as):
    _rule(cast, "ssm", required=True, first_due_days=0)
    chart = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/").content.decode()
    assert f"Self-Sufficiency Matrix: next due {cast.agency.today():%m/%d/%Y}" in chart


# ---------------------------------------------------------------------------- queries


def _count(cast) -> int:
    assessments_due(user=cast.case_manager, client_id=cast.client.pk)  # warm the user's caches
    with CaptureQueriesContext(connection) as queries:
        assessments_due(user=cast.case_manager, client_id=cast.client.pk)
    return len(queries)


def test_due_dates_take_a_constant_number_of_queries(cast):
    few = _count(cast)
    for n, instrument in enumerate(["phq9", "gad7", "auditc", "dast10", "ssm"]):
        program = _program(cast, f"Program {n}")
        _enrol(cast, program, datetime.date(2026, 1, 1 + n))
        _rule(cast, instrument, required=True)
        _rule(cast, instrument, program=program, repeat_every_days=30 + n)
        for month in (2, 3):
            _signed(cast, instrument, datetime.date(2026, month, 1 + n))
    many = _count(cast)
    assert len(assessments_due(user=cast.case_manager, client_id=cast.client.pk)) == 5
    # Three, after the access layer's two small ones (the team, any emergency access).
    assert many == few == 5


# ---------------------------------------------------------------------------- what an admin may set


@pytest.mark.parametrize("days", [-1, 3651, 100_000])
def test_an_interval_outside_0_to_3650_is_refused(cast, days):
    with pytest.raises(RuleError, match="from 0 to 3650") as raised:
        _rule(cast, repeat_every_days=days)
    assert raised.value.field == "repeat_every_days"
    assert not AssessmentRule.objects.exists()


@pytest.mark.parametrize("days", [0, 1, 3650, None])
def test_an_interval_from_0_to_3650_or_blank_is_kept(cast, days):
    assert _rule(cast, repeat_every_days=days).repeat_every_days == days


def test_a_grace_outside_0_to_3650_is_refused(cast):
    with pytest.raises(RuleError, match="First due after admission: enter a number of days"):
        _rule(cast, required=True, first_due_days=4000)


def test_an_unknown_instrument_is_refused(cast):
    with pytest.raises(RuleError, match="There is no instrument “beck”") as raised:
        _rule(cast, "beck")
    assert raised.value.field == "instrument"


def test_a_second_rule_for_the_same_instrument_and_program_is_refused_by_name(cast):
    icm = _program(cast)
    _rule(cast)
    _rule(cast, program=icm)
    with pytest.raises(RuleError, match=re.escape(f"already a rule for {PHQ9} in all programs")):
        _rule(cast, repeat_every_days=10)
    with pytest.raises(
        RuleError,
        match=re.escape(f"already a rule for {PHQ9} in the program Intensive case management"),
    ):
        _rule(cast, program=icm, repeat_every_days=10)
    _rule(cast, "gad7", program=icm)  # another instrument is fine
    AssessmentRule.objects.create(agency=cast.outsider_agency, instrument="gad7")  # another agency
    assert AssessmentRule.objects.filter(agency=cast.agency).count() == 3


def test_changing_a_rule_into_a_duplicate_is_refused(cast):
    icm = _program(cast)
    _rule(cast)
    mine = _rule(cast, program=icm)
    with pytest.raises(RuleError, match="already a rule"):
        assessment_rule_update(
            rule=mine, by=cast.admin, wanted=RuleInput("phq9", None, repeat_every_days=5)
        )
    same = assessment_rule_update(
        rule=mine, by=cast.admin, wanted=RuleInput("phq9", icm, repeat_every_days=5)
    )
    assert same.repeat_every_days == 5


def test_another_agencys_program_is_refused(cast):
    theirs = ProgramFactory(agency=cast.outsider_agency)
    with pytest.raises(RuleError, match="program of your agency"):
        _rule(cast, program=theirs)


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "billing", "outsider_admin"])
def test_only_the_agencys_admins_change_rules(cast, persona):
    with pytest.raises(PermissionDenied):
        assessment_rule_create(
            agency=cast.agency, by=getattr(cast, persona), wanted=RuleInput("phq9", None, 30)
        )
    rule = _rule(cast, repeat_every_days=30)
    with pytest.raises(PermissionDenied):
        assessment_rule_delete(rule=rule, by=getattr(cast, persona))
    assert AssessmentRule.objects.filter(pk=rule.pk).exists()


def test_every_change_to_a_rule_is_audited(cast):
    rule = _rule(cast, repeat_every_days=30)
    assessment_rule_update(rule=rule, by=cast.admin, wanted=RuleInput("phq9", None, 45))
    assessment_rule_delete(rule=rule, by=cast.admin)
    actions = list(
        AuditEvent.objects.filter(object_type="assessments.assessmentrule", object_id=str(rule.pk))
        .order_by("seq")
        .values_list("action", "actor_id")
    )
    assert actions == [(a, cast.admin.pk) for a in ("create", "update", "delete")]
    assert not AssessmentRule.objects.exists()
