"""The assessment rules pages: agency admins list, add, change and delete rules; nobody else."""

from __future__ import annotations

import pytest

from casework.assessments.models import AssessmentRule
from casework.core.models import AuditEvent
from casework.testing.factories import ProgramFactory

pytestmark = pytest.mark.django_db
LIST = "/assessments/rules/"
NEW = "/assessments/rules/new/"


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "instrument": "phq9",
        "program": "",
        "repeat_every_days": "60",
        "first_due_days": "30",
    }
    return {**data, **overrides}


def test_an_admin_adds_a_rule_and_sees_it_listed(cast, http_as):
    http = http_as(cast.admin)
    assert http.get(NEW).status_code == 200
    response = http.post(NEW, _form(required="on"), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    body = response.content.decode()
    assert "Added the rule for Patient Health Questionnaire (PHQ-9) in all programs." in body
    assert "every 60 days" in body and "Required" in body
    rule = AssessmentRule.objects.get()
    assert (rule.agency_id, rule.repeat_every_days, rule.required) == (cast.agency.pk, 60, True)
    assert AuditEvent.objects.filter(
        object_type="assessments.assessmentrule", action="create", actor_id=cast.admin.pk
    ).exists()


def test_a_blank_interval_is_the_instruments_own(cast, http_as):
    http = http_as(cast.admin)
    http.post(NEW, _form(repeat_every_days=""))
    assert AssessmentRule.objects.get().repeat_every_days is None
    assert "every 90 days" in http.get(LIST).content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"repeat_every_days": "3651"},
            "Repeat every (0 means it is not repeated): enter a number of days from 0 to 3650.",
        ),
        ({"repeat_every_days": "-5"}, "from 0 to 3650"),
        ({"repeat_every_days": "often"}, "Enter a whole number of days, e.g. 90."),
        (
            {"first_due_days": "9999"},
            "First due after admission: enter a number of days from 0 to 3650.",
        ),
        ({"first_due_days": ""}, "Say how many days after admission it is first due."),
        ({"instrument": "beck"}, "There is no instrument “beck”; choose one from the list."),
        ({"instrument": ""}, "Choose an instrument."),
    ],
)
def test_bad_values_get_a_clear_message_and_keep_what_was_typed(cast, http_as, overrides, message):
    response = http_as(cast.admin).post(NEW, _form(**overrides))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert not AssessmentRule.objects.exists()
    if "repeat_every_days" in overrides:
        assert f'value="{overrides["repeat_every_days"]}"' in body


def test_a_duplicate_rule_gets_its_own_message(cast, http_as):
    program = ProgramFactory(agency=cast.agency, name="Housing first")
    http = http_as(cast.admin)
    http.post(NEW, _form(program=program.pk))
    response = http.post(NEW, _form(program=program.pk, repeat_every_days="10"))
    assert response.status_code == 400
    assert (
        "There is already a rule for Patient Health Questionnaire (PHQ-9) in the program Housing "
        "first; change that rule instead." in response.content.decode()
    )
    assert AssessmentRule.objects.count() == 1


def test_another_agencys_program_cannot_be_chosen(cast, http_as):
    theirs = ProgramFactory(agency=cast.outsider_agency)
    response = http_as(cast.admin).post(NEW, _form(program=theirs.pk))
    assert (
        response.status_code == 400
        and "Choose a program of your agency." in response.content.decode()
    )


def test_an_admin_changes_and_deletes_a_rule(cast, http_as):
    http = http_as(cast.admin)
    http.post(NEW, _form())
    rule = AssessmentRule.objects.get()
    edit = f"/assessments/rules/{rule.pk}/edit/"
    assert 'value="60"' in http.get(edit).content.decode()
    response = http.post(edit, _form(repeat_every_days="0"), follow=True)
    assert "Saved the rule for Patient Health Questionnaire (PHQ-9) in all programs." in (
        response.content.decode()
    )
    rule.refresh_from_db()
    assert rule.repeat_every_days == 0
    assert "not repeated" in http.get(LIST).content.decode()
    response = http.post(f"/assessments/rules/{rule.pk}/delete/", follow=True)
    assert "Deleted the rule for Patient Health Questionnaire (PHQ-9) in all programs" in (
        response.content.decode()
    )
    assert not AssessmentRule.objects.exists()
    assert AuditEvent.objects.filter(
        object_type="assessments.assessmentrule", object_id=str(rule.pk), action="delete"
    ).exists()


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "billing", "auditor"])
def test_anyone_but_an_admin_gets_403(cast, http_as, persona):
    rule = AssessmentRule.objects.create(agency=cast.agency, instrument="phq9", repeat_every_days=9)
    http = http_as(getattr(cast, persona))
    assert http.get(LIST).status_code == 403
    assert http.get(NEW).status_code == 403
    assert http.post(NEW, _form()).status_code == 403
    assert http.post(f"/assessments/rules/{rule.pk}/edit/", _form()).status_code == 403
    assert http.post(f"/assessments/rules/{rule.pk}/delete/").status_code == 403
    rule.refresh_from_db()
    assert rule.repeat_every_days == 9 and AssessmentRule.objects.count() == 1


def test_another_agencys_admin_sees_only_their_own_rules(cast, http_as):
    rule = AssessmentRule.objects.create(agency=cast.agency, instrument="phq9", repeat_every_days=9)
    http = http_as(cast.outsider_admin)
    assert "every 9 days" not in http.get(LIST).content.decode()
    assert http.get(f"/assessments/rules/{rule.pk}/edit/").status_code == 404
    assert http.post(f"/assessments/rules/{rule.pk}/delete/").status_code == 404
    assert AssessmentRule.objects.filter(pk=rule.pk).exists()


def test_the_agency_settings_page_links_to_the_rules(cast, http_as):
    assert LIST in http_as(cast.admin).get("/staff/agency/").content.decode()


def test_the_list_runs_a_constant_number_of_queries(cast, http_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = http_as(cast.admin)
    http.get(LIST)
    with CaptureQueriesContext(connection) as few:
        http.get(LIST)
    for n, instrument in enumerate(["phq9", "gad7", "ssm", "auditc"]):
        program = ProgramFactory(agency=cast.agency, name=f"Program {n}")
        AssessmentRule.objects.create(agency=cast.agency, instrument=instrument, program=program)
    with CaptureQueriesContext(connection) as many:
        http.get(LIST)
    assert len(many) == len(few)
