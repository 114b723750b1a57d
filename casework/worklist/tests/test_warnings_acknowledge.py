"""Acknowledging an early warning with a plan, the rules page, and warnings raised on change."""

from __future__ import annotations

import datetime

import pytest

from casework.assessments.services import assessment_save, assessment_sign, assessment_start
from casework.notes.models import Note
from casework.testing.billing import billable_world, draft_note
from casework.worklist.models import ClientWarning, Task, WarningKind, WarningRule
from casework.worklist.warnings import WarningError, warning_acknowledge

pytestmark = pytest.mark.django_db
Kind = WarningKind
DAY = datetime.date(2026, 11, 16)


def raised(cast, kind: str = Kind.HOUSING_LOST) -> ClientWarning:
    return ClientWarning.objects.create(
        agency=cast.agency,
        client=cast.client,
        kind=kind,
        evidence_key="note:1",
        evidence="Note of 1 Dec: lost housing",
    )


def tomorrow(cast) -> datetime.date:
    return cast.agency.today() + datetime.timedelta(days=1)


# --- the service ------------------------------------------------------------------------------


def test_acknowledging_makes_one_plan_task_and_stamps_the_warning(cast):
    warning = raised(cast)
    done = warning_acknowledge(
        warning=warning, by=cast.case_manager, plan="Call the shelter today", due_on=tomorrow(cast)
    )
    task = done.plan_task
    assert task is not None and task.kind == Task.Kind.WARNING_PLAN
    assert (task.title, task.assignee, task.client) == (
        "Call the shelter today",
        cast.case_manager,
        cast.client,
    )
    assert task.urgent  # housing lost is urgent
    assert done.acknowledged_by == cast.case_manager and done.acknowledged_at is not None


def test_acknowledging_twice_makes_no_second_task(cast):
    warning = raised(cast)
    for _ in range(2):
        warning_acknowledge(
            warning=warning, by=cast.case_manager, plan="Visit", due_on=tomorrow(cast)
        )
    assert Task.objects.filter(kind=Task.Kind.WARNING_PLAN).count() == 1


@pytest.mark.parametrize("plan", ["", "   \n "])
def test_a_warning_is_not_acknowledged_without_a_plan(cast, plan):
    warning = raised(cast)
    with pytest.raises(WarningError, match="Say what you will do about it") as error:
        warning_acknowledge(warning=warning, by=cast.case_manager, plan=plan, due_on=tomorrow(cast))
    assert error.value.field == "plan"
    warning.refresh_from_db()
    assert warning.acknowledged_at is None and not Task.objects.exists()


def test_the_plan_can_go_to_a_colleague_who_works_with_the_client(cast):
    warning = raised(cast)
    done = warning_acknowledge(
        warning=warning,
        by=cast.supervisor,
        plan="Home visit",
        due_on=tomorrow(cast),
        assignee=cast.colleague,
    )
    assert done.plan_task.assignee == cast.colleague


def test_the_plan_cannot_go_to_someone_outside_the_clients_team(cast):
    with pytest.raises(WarningError) as error:
        warning_acknowledge(
            warning=raised(cast),
            by=cast.case_manager,
            plan="Home visit",
            due_on=tomorrow(cast),
            assignee=cast.other_team_cm,
        )
    assert error.value.field == "assignee"


def test_a_past_due_date_is_refused(cast):
    with pytest.raises(WarningError) as error:
        warning_acknowledge(
            warning=raised(cast),
            by=cast.case_manager,
            plan="Visit",
            due_on=cast.agency.today() - datetime.timedelta(days=1),
        )
    assert error.value.field == "due_on"


@pytest.mark.parametrize("who", ["other_team_cm", "billing", "auditor", "outsider_cm"])
def test_only_staff_who_work_with_the_client_acknowledge(cast, who):
    with pytest.raises(WarningError):
        warning_acknowledge(
            warning=raised(cast), by=getattr(cast, who), plan="Visit", due_on=tomorrow(cast)
        )
    assert not Task.objects.exists()


# --- the acknowledge page ---------------------------------------------------------------------


def test_the_page_shows_the_evidence_and_a_form_with_tomorrow_and_me(cast, http_as):
    warning = raised(cast)
    response = http_as(cast.case_manager).get(f"/warnings/{warning.pk}/acknowledge/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Note of 1 Dec: lost housing" in body
    assert f'value="{tomorrow(cast).isoformat()}"' in body
    assert f'<option value="{cast.case_manager.pk}" selected>' in body


def test_posting_a_plan_acknowledges_and_goes_back_to_the_chart(cast, http_as):
    warning = raised(cast)
    response = http_as(cast.case_manager).post(
        f"/warnings/{warning.pk}/acknowledge/",
        {
            "plan": "Call Dr. Lee",
            "due_on": tomorrow(cast).isoformat(),
            "assignee": cast.colleague.pk,
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/clients/{cast.client.pk}/"
    warning.refresh_from_db()
    assert warning.plan_task.title == "Call Dr. Lee"
    assert warning.plan_task.assignee == cast.colleague


def test_a_refused_plan_keeps_what_was_typed(cast, http_as):
    warning = raised(cast)
    response = http_as(cast.case_manager).post(
        f"/warnings/{warning.pk}/acknowledge/",
        {"plan": "Visit Thursday", "due_on": "2001-01-01", "assignee": cast.case_manager.pk},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Visit Thursday" in body and "in the past" in body
    response = http_as(cast.case_manager).post(
        f"/warnings/{warning.pk}/acknowledge/",
        {"plan": "", "due_on": tomorrow(cast).isoformat(), "assignee": cast.case_manager.pk},
    )
    assert response.status_code == 400
    assert "Say what you will do about it" in response.content.decode()
    assert not Task.objects.exists()


def test_an_acknowledged_warning_shows_its_plan(cast, http_as):
    warning = raised(cast)
    warning_acknowledge(
        warning=warning, by=cast.case_manager, plan="Call the shelter", due_on=tomorrow(cast)
    )
    http = http_as(cast.supervisor)
    body = http.get(f"/warnings/{warning.pk}/acknowledge/").content.decode()
    assert "Call the shelter" in body and "<textarea" not in body
    again = http.post(f"/warnings/{warning.pk}/acknowledge/", {"plan": "Another"})
    assert again.status_code == 302
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("other_team_cm", 404), ("outsider_cm", 404), ("outsider_admin", 404), ("billing", 403)],
)
def test_outsiders_are_refused_the_acknowledge_page(cast, http_as, who, status):
    warning = raised(cast)
    http = http_as(getattr(cast, who))
    assert http.get(f"/warnings/{warning.pk}/acknowledge/").status_code == status
    response = http.post(
        f"/warnings/{warning.pk}/acknowledge/",
        {"plan": "x", "due_on": tomorrow(cast).isoformat(), "assignee": cast.case_manager.pk},
    )
    assert response.status_code == status
    assert not Task.objects.exists()


def test_the_chart_card_renders_the_warnings(cast):
    from django.template.loader import render_to_string

    from casework.worklist.warnings import client_warnings

    open_one = raised(cast)
    html = render_to_string(
        "worklist/_warnings_card.html",
        {"client_warnings": client_warnings(client=cast.client), "may_write_notes": True},
    )
    assert "Note of 1 Dec: lost housing" in html
    assert f"/warnings/{open_one.pk}/acknowledge/" in html
    assert render_to_string("worklist/_warnings_card.html", {"client_warnings": []}).strip() == ""


# --- the rules page ---------------------------------------------------------------------------


def _rules_form(**changes: str) -> dict[str, str]:
    data = {f"{kind}-enabled": "on" for kind in Kind.values}
    data.update(changes)
    return data


def test_admins_see_every_rule_with_its_default(cast, http_as):
    response = http_as(cast.admin).get("/warnings/rules/")
    body = response.content.decode()
    assert response.status_code == 200
    for label in Kind.labels:
        assert str(label) in body
    assert "Blank uses the default: 30 days." in body


def test_admins_set_a_threshold_and_turn_a_rule_off(cast, http_as):
    data = _rules_form(**{"missed_in_a_row-threshold": "3"})
    del data["housing_lost-enabled"]
    response = http_as(cast.admin).post("/warnings/rules/", data)
    assert response.status_code == 302
    rules = {r.kind: r for r in WarningRule.objects.filter(agency=cast.agency)}
    assert rules[Kind.MISSED_IN_A_ROW].threshold == 3
    assert not rules[Kind.HOUSING_LOST].is_enabled
    assert rules[Kind.MEDICATION].is_enabled


def test_a_threshold_out_of_range_is_refused_with_the_typing_kept(cast, http_as):
    response = http_as(cast.admin).post(
        "/warnings/rules/",
        _rules_form(**{"phq9_rise-threshold": "0", "no_contact-threshold": "21"}),
    )
    assert response.status_code == 400
    assert 'value="21"' in response.content.decode()
    assert not WarningRule.objects.exists()


@pytest.mark.parametrize("who", ["case_manager", "supervisor", "billing", "outsider_cm"])
def test_only_agency_admins_reach_the_rules(cast, http_as, who):
    http = http_as(getattr(cast, who))
    assert http.get("/warnings/rules/").status_code == 403
    assert http.post("/warnings/rules/", _rules_form()).status_code == 403
    assert not WarningRule.objects.exists()


def test_an_admin_of_another_agency_changes_only_their_own_rules(cast, http_as):
    http_as(cast.outsider_admin).post("/warnings/rules/", _rules_form())
    assert not WarningRule.objects.filter(agency=cast.agency).exists()


# --- raised on change -------------------------------------------------------------------------


def test_signing_a_note_that_says_stopped_raises_the_warning_in_the_same_request(cast, http_as):
    world = billable_world(cast)
    note = draft_note(author=cast.case_manager, client=cast.client, code=world.t1016, day=DAY)
    response = http_as(cast.case_manager).post(
        f"/notes/{note.pk}/edit/",
        {
            "service_date": DAY.isoformat(),
            "start_time": "10:00",
            "end_time": "10:38",
            "contact_type": "face_to_face",
            "place_of_service": "12",
            "service_code": str(world.t1016.pk),
            "present": "Client",
            "template": "dap",
            "version": str(note.version),
            "section_data": "Home visit.",
            "section_assessment": "Stopped his medication last week.",
            "section_plan": "Call the prescriber.",
            "medication_adherence": "stopped",
            "action": "sign",
            "attest": "on",
            "late_reason": "Caught up after a crisis week.",
        },
    )
    assert response.status_code == 302
    assert Note.objects.get(pk=note.pk).status == Note.Status.SIGNED
    warning = ClientWarning.objects.get(client=cast.client, kind=Kind.MEDICATION)
    assert warning.evidence_key == f"note:{note.pk}"


def test_signing_a_phq9_with_item_9_raises_the_warning(cast):
    assessment = assessment_start(
        client=cast.client,
        author=cast.case_manager,
        instrument_key="phq9",
        administered_on=cast.agency.today(),
        mode="in_person",
    )
    assessment, _ = assessment_save(
        assessment=assessment,
        by=cast.case_manager,
        answers={f"q{n}": 1 for n in range(1, 9)} | {"q9": 2},
        expected_version=assessment.version,
    )
    assert not ClientWarning.objects.exists()  # a draft is not read
    assessment_sign(assessment=assessment, by=cast.case_manager)
    assert ClientWarning.objects.get(client=cast.client).kind == Kind.PHQ9_ITEM9
