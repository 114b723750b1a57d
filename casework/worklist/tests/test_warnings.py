"""Early-warning rules: each fires at its threshold and not below it, once per piece of evidence."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from casework.assessments.models import Assessment
from casework.clients.models import Client
from casework.core.audit import AuditEvent
from casework.notes.models import Note
from casework.schedule.models import Appointment, AppointmentClient
from casework.testing.factories import ClientFactory, assign
from casework.worklist.models import ClientWarning, WarningKind, WarningRule
from casework.worklist.warnings import (
    client_warnings,
    evaluate_agency,
    evaluate_client,
    open_warnings_for,
    rules_for,
)

pytestmark = pytest.mark.django_db
Kind = WarningKind


def _now() -> datetime.datetime:
    return timezone.now()


def visit(cast, *, days_ago: float, status: str, client: Client | None = None) -> Appointment:
    start = _now() - datetime.timedelta(days=days_ago)
    appointment = Appointment.objects.create(
        agency=cast.agency,
        kind="home_visit",
        staff=cast.case_manager,
        start_at=start,
        end_at=start + datetime.timedelta(hours=1),
        place_type="client_home",
        status=status,
        created_by=cast.case_manager,
    )
    AppointmentClient.objects.create(
        agency=cast.agency, appointment=appointment, client=client or cast.client
    )
    return appointment


def signed_note(
    cast, *, days_ago: int = 0, client: Client | None = None, signed: bool = True, **fields
) -> Note:
    day = cast.agency.today() - datetime.timedelta(days=days_ago)
    return Note.objects.create(
        agency=cast.agency,
        client=client or cast.client,
        author=cast.case_manager,
        service_date=day,
        status=Note.Status.SIGNED if signed else Note.Status.DRAFT,
        signed_at=_now() if signed else None,
        contact_type=fields.pop("contact_type", "face_to_face"),
        **fields,
    )


def phq9(cast, *, total: int, days_ago: int, item9: int = 0, signed: bool = True) -> Assessment:
    answers = {f"q{n}": 0 for n in range(1, 10)} | {"q9": item9}
    return Assessment.objects.create(
        agency=cast.agency,
        client=cast.client,
        author=cast.case_manager,
        instrument="phq9",
        instrument_version="1",
        administered_on=cast.agency.today() - datetime.timedelta(days=days_ago),
        answers=answers,
        status=Assessment.Status.SIGNED if signed else Assessment.Status.DRAFT,
        total=total,
        signed_at=_now() if signed else None,
    )


def rule(cast, kind: str, *, enabled: bool = True, threshold: int | None = None) -> None:
    WarningRule.objects.update_or_create(
        agency=cast.agency, kind=kind, defaults={"is_enabled": enabled, "threshold": threshold}
    )


# --- missed appointments in a row -----------------------------------------------------------


def test_two_no_shows_in_a_row_raise_a_warning_with_the_appointments(cast):
    visit(cast, days_ago=14, status="no_show")
    last = visit(cast, days_ago=7, status="no_show")
    raised = evaluate_client(client_id=cast.client.pk)
    assert [w.kind for w in raised] == [Kind.MISSED_IN_A_ROW]
    warning = raised[0]
    assert warning.evidence_key == f"appointment:{last.pk}"
    assert warning.evidence.startswith("Missed 2 appointments in a row: home visit ")
    assert warning.evidence.count("home visit") == 2


def test_one_no_show_is_below_the_threshold(cast):
    visit(cast, days_ago=14, status="attended")
    visit(cast, days_ago=7, status="no_show")
    assert evaluate_client(client_id=cast.client.pk) == []


def test_an_attended_visit_breaks_the_run_and_a_cancellation_does_not(cast):
    visit(cast, days_ago=21, status="no_show")
    visit(cast, days_ago=14, status="attended")
    visit(cast, days_ago=7, status="no_show")
    assert evaluate_client(client_id=cast.client.pk) == []
    visit(cast, days_ago=5, status="cancelled")
    visit(cast, days_ago=3, status="no_show")
    assert [w.kind for w in evaluate_client(client_id=cast.client.pk)] == [Kind.MISSED_IN_A_ROW]


def test_the_agencys_own_threshold_is_honoured(cast):
    rule(cast, Kind.MISSED_IN_A_ROW, threshold=3)
    visit(cast, days_ago=14, status="no_show")
    visit(cast, days_ago=7, status="no_show")
    assert evaluate_client(client_id=cast.client.pk) == []
    visit(cast, days_ago=1, status="no_show")
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert warning.evidence.startswith("Missed 3 appointments in a row")


def test_a_further_miss_is_not_warned_again_while_the_first_warning_is_open(cast):
    visit(cast, days_ago=14, status="no_show")
    visit(cast, days_ago=7, status="no_show")
    assert len(evaluate_client(client_id=cast.client.pk)) == 1
    visit(cast, days_ago=1, status="no_show")
    assert evaluate_client(client_id=cast.client.pk) == []


def test_future_appointments_do_not_count(cast):
    visit(cast, days_ago=7, status="no_show")
    visit(cast, days_ago=-2, status="no_show")  # recorded ahead of time: not yet a miss
    assert evaluate_client(client_id=cast.client.pk) == []


# --- no contact -------------------------------------------------------------------------------


def test_no_contact_for_thirty_days_raises_a_warning(cast):
    note = signed_note(cast, days_ago=30)
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert warning.kind == Kind.NO_CONTACT
    assert warning.evidence_key == f"contact:{note.service_date.isoformat()}"
    assert warning.evidence.startswith("No contact for 30 days: last contact ")


def test_twenty_nine_days_without_contact_is_below_the_threshold(cast):
    signed_note(cast, days_ago=29)
    assert evaluate_client(client_id=cast.client.pk) == []


def test_a_collateral_contact_is_not_contact_with_the_client(cast):
    signed_note(cast, days_ago=40)
    signed_note(cast, days_ago=2, contact_type="collateral")
    assert [w.kind for w in evaluate_client(client_id=cast.client.pk)] == [Kind.NO_CONTACT]


def test_a_client_twice_past_a_stricter_contact_standard_raises_the_warning(cast):
    Client.objects.filter(pk=cast.client.pk).update(contact_every_days=7)
    signed_note(cast, days_ago=13)
    # Past the standard (My day lists "See …") but not yet twice past it.
    assert evaluate_client(client_id=cast.client.pk) == []
    (warning,) = evaluate_client(client_id=cast.client.pk, now=_now() + datetime.timedelta(days=1))
    assert "standard is every 7 days" in warning.evidence


def test_an_agency_threshold_for_no_contact_is_honoured(cast):
    rule(cast, Kind.NO_CONTACT, threshold=45)
    signed_note(cast, days_ago=44)
    assert evaluate_client(client_id=cast.client.pk) == []


def test_a_client_never_seen_counts_from_registration(cast):
    Client.objects.filter(pk=cast.client.pk).update(created_at=_now() - datetime.timedelta(days=31))
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert warning.evidence_key == "contact:none"
    assert warning.evidence.startswith("No contact recorded since registration")


def test_inactive_clients_are_not_evaluated(cast):
    signed_note(cast, days_ago=60)
    Client.objects.filter(pk=cast.client.pk).update(status=Client.Status.DISCHARGED)
    assert evaluate_client(client_id=cast.client.pk) == []


# --- PHQ-9 ------------------------------------------------------------------------------------


def test_a_phq9_rise_of_five_points_raises_a_warning(cast):
    phq9(cast, total=8, days_ago=60)
    latest = phq9(cast, total=13, days_ago=1)
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert warning.kind == Kind.PHQ9_RISE
    assert warning.evidence_key == f"assessment:{latest.pk}"
    assert warning.evidence.startswith("PHQ-9 rose from 8 to 13 (")


def test_a_phq9_rise_of_four_points_is_below_the_threshold(cast):
    phq9(cast, total=8, days_ago=60)
    phq9(cast, total=12, days_ago=1)
    assert evaluate_client(client_id=cast.client.pk) == []


def test_only_the_last_two_phq9s_are_compared(cast):
    phq9(cast, total=2, days_ago=120)
    phq9(cast, total=12, days_ago=60)
    phq9(cast, total=13, days_ago=1)
    assert evaluate_client(client_id=cast.client.pk) == []


def test_phq9_item_9_above_zero_raises_a_warning(cast):
    phq9(cast, total=6, days_ago=1, item9=1)
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert warning.kind == Kind.PHQ9_ITEM9
    assert "item 9" in warning.evidence


def test_phq9_item_9_at_zero_is_silent(cast):
    phq9(cast, total=6, days_ago=1, item9=0)
    assert evaluate_client(client_id=cast.client.pk) == []


def test_a_draft_phq9_is_not_read(cast):
    phq9(cast, total=2, days_ago=30)
    phq9(cast, total=20, days_ago=1, item9=3, signed=False)
    assert evaluate_client(client_id=cast.client.pk) == []


# --- what signed notes record -----------------------------------------------------------------


@pytest.mark.parametrize("adherence", ["stopped", "not_taking"])
def test_medication_stopped_or_not_taken_raises_a_warning(cast, adherence):
    note = signed_note(cast, medication_adherence=adherence)
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert (warning.kind, warning.evidence_key) == (Kind.MEDICATION, f"note:{note.pk}")


@pytest.mark.parametrize("adherence", ["", "taking", "some_missed"])
def test_other_medication_answers_are_silent(cast, adherence):
    signed_note(cast, medication_adherence=adherence)
    assert evaluate_client(client_id=cast.client.pk) == []


def test_a_draft_note_is_not_read(cast):
    signed_note(cast, medication_adherence="stopped", events=["er_visit"], signed=False)
    assert evaluate_client(client_id=cast.client.pk) == []


@pytest.mark.parametrize("event", ["er_visit", "hospitalized"])
def test_an_er_visit_or_hospitalization_raises_a_warning(cast, event):
    signed_note(cast, events=[event])
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert warning.kind == Kind.ER_OR_HOSPITAL


def test_both_in_one_note_raise_one_warning(cast):
    signed_note(cast, events=["er_visit", "hospitalized"])
    (warning,) = evaluate_client(client_id=cast.client.pk)
    assert "emergency-room visit and hospitalized" in warning.evidence


def test_lost_housing_raises_a_warning(cast):
    signed_note(cast, events=["housing_lost"])
    assert [w.kind for w in evaluate_client(client_id=cast.client.pk)] == [Kind.HOUSING_LOST]


def test_a_jail_stay_or_no_event_raises_nothing(cast):
    signed_note(cast, events=["jail"])
    signed_note(cast, events=[])
    assert evaluate_client(client_id=cast.client.pk) == []


# --- running the rules ------------------------------------------------------------------------


def test_running_twice_raises_each_warning_once(cast):
    signed_note(cast, events=["housing_lost"], medication_adherence="stopped")
    assert len(evaluate_client(client_id=cast.client.pk)) == 2
    assert evaluate_client(client_id=cast.client.pk) == []
    assert ClientWarning.objects.filter(client=cast.client).count() == 2


def test_a_disabled_rule_is_silent(cast):
    rule(cast, Kind.MEDICATION, enabled=False)
    signed_note(cast, medication_adherence="stopped")
    assert evaluate_client(client_id=cast.client.pk) == []


def test_rules_for_gives_every_kind_with_defaults_and_the_agencys_own(cast):
    rule(cast, Kind.PHQ9_RISE, threshold=7)
    rule(cast, Kind.HOUSING_LOST, enabled=False)
    rules = rules_for(cast.agency)
    assert set(rules) == set(Kind.values)
    assert rules[Kind.PHQ9_RISE].threshold == 7
    assert rules[Kind.MISSED_IN_A_ROW].threshold == 2
    assert rules[Kind.NO_CONTACT].threshold == 30
    assert not rules[Kind.HOUSING_LOST].enabled and rules[Kind.MEDICATION].enabled
    assert rules[Kind.MEDICATION].threshold is None


def test_the_evidence_stays_out_of_the_audit_log(cast):
    signed_note(cast, medication_adherence="stopped")
    (warning,) = evaluate_client(client_id=cast.client.pk)
    event = AuditEvent.objects.get(object_type="worklist.clientwarning", object_id=str(warning.pk))
    assert event.actor_label == "rule" and event.client_id == cast.client.pk
    assert "stopped" not in str(event.detail) and "medication" not in str(event.detail)


def _history(cast, count: int) -> None:
    for n in range(count):
        visit(cast, days_ago=100 + n, status="attended")
        signed_note(cast, days_ago=n, medication_adherence="taking", events=["jail"])
        phq9(cast, total=5, days_ago=200 + n)


def test_evaluating_a_client_takes_the_same_queries_however_long_the_chart(cast):
    _history(cast, 2)
    evaluate_client(client_id=cast.client.pk)
    with CaptureQueriesContext(connection) as short:
        evaluate_client(client_id=cast.client.pk)
    _history(cast, 12)
    evaluate_client(client_id=cast.client.pk)
    with CaptureQueriesContext(connection) as long:
        evaluate_client(client_id=cast.client.pk)
    assert len(long) == len(short) <= 12


def test_the_nightly_run_covers_every_active_client_of_the_agency(cast):
    others = [ClientFactory(agency=cast.agency, created_by=cast.case_manager) for _ in range(3)]
    for client in others:
        signed_note(cast, client=client, events=["er_visit"])
    signed_note(cast, events=["housing_lost"])
    signed_note(cast, client=cast.outsider_client, events=["er_visit"])
    assert evaluate_agency(agency_id=cast.agency.pk) == 4
    assert evaluate_agency(agency_id=cast.agency.pk) == 0
    assert not ClientWarning.objects.filter(client=cast.outsider_client).exists()


def test_the_run_warnings_command_reports_a_count_only(cast, capsys):
    signed_note(cast, events=["housing_lost"])
    call_command("run_warnings")
    out = capsys.readouterr().out
    assert out.strip() == "Early warnings raised: 1."


# --- who sees them ----------------------------------------------------------------------------


def test_open_warnings_go_to_the_primary_case_manager_and_their_supervisor(cast):
    signed_note(cast, events=["housing_lost"])
    evaluate_client(client_id=cast.client.pk)
    assert len(open_warnings_for(user=cast.case_manager)) == 1
    assert len(open_warnings_for(user=cast.supervisor)) == 1
    assert open_warnings_for(user=cast.colleague) == []  # on the team, not the primary
    assert open_warnings_for(user=cast.other_team_cm) == []
    assert open_warnings_for(user=cast.outsider_cm) == []
    assert open_warnings_for(user=cast.billing) == []


def test_open_warnings_take_the_same_queries_however_many(cast):
    for _ in range(2):
        signed_note(cast, events=["housing_lost"])
    evaluate_client(client_id=cast.client.pk)
    open_warnings_for(user=cast.case_manager)  # loads the user's agency once
    with CaptureQueriesContext(connection) as few:
        open_warnings_for(user=cast.case_manager)
    second = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    assign(second, cast.case_manager)
    for _ in range(5):
        signed_note(cast, client=second, events=["er_visit"], medication_adherence="stopped")
    evaluate_client(client_id=second.pk)
    with CaptureQueriesContext(connection) as many:
        found = open_warnings_for(user=cast.case_manager)
        [w.client.display_name for w in found]
    assert len(found) == 12
    # One query, after the access layer's two small ones (the team, any emergency access).
    assert len(many) == len(few) == 3


def test_the_chart_card_lists_open_warnings_first(cast):
    signed_note(cast, events=["housing_lost"])
    evaluate_client(client_id=cast.client.pk)
    assert [w.kind for w in client_warnings(client=cast.client)] == [Kind.HOUSING_LOST]
