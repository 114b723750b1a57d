"""Urgent flags reach people: the primary case manager and their team supervisors get a notice
on My day at once, and acknowledge it there."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.assessments.models import Assessment
from casework.assessments.services import (
    AssessmentError,
    assessment_save,
    assessment_start,
    flag_notice_acknowledge,
)
from casework.clients.models import CareTeamMember, FlagNotice, SafetyFlag
from casework.core.models import AuditEvent, Role, TeamMembership
from casework.testing.factories import ClientFactory, UserFactory, add_to_team, assign

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 20)


def _phq9(cast, *, client=None, author=None) -> Assessment:
    return assessment_start(
        client=client or cast.client,
        author=author or cast.case_manager,
        instrument_key="phq9",
        administered_on=DAY,
        mode="in_person",
    )


def _save(assessment: Assessment, **answers: object) -> Assessment:
    saved, _ = assessment_save(
        assessment=assessment,
        by=assessment.author,
        answers=answers,
        expected_version=assessment.version,
    )
    return saved


def _recipients(client) -> list[int]:
    return sorted(
        FlagNotice.objects.filter(flag__client=client).values_list("recipient", flat=True)
    )


def test_item_9_on_a_draft_tells_the_primary_case_manager_and_the_team_supervisor(cast, http_as):
    http = http_as(cast.case_manager)
    started = http.post(
        f"/assessments/new/{cast.client.pk}/",
        {"instrument": "phq9", "administered_on": "2026-11-20", "mode": "read_aloud"},
    )
    assessment = Assessment.objects.get()
    saved = http.post(started["Location"], {"version": assessment.version, "q9": "1"})
    assert saved.status_code == 302
    flag = SafetyFlag.objects.get(client=cast.client, kind=SafetyFlag.Kind.SUICIDE_RISK)
    notices = FlagNotice.objects.filter(flag=flag)
    assert sorted(n.recipient_id for n in notices) == sorted(
        [cast.case_manager.pk, cast.supervisor.pk]
    )
    for notice in notices:
        assert notice.assessment_id == assessment.pk and notice.raised_by_id == cast.case_manager.pk
        assert "better off dead" in notice.reason and "Several days" in notice.reason
        assert notice.acknowledged_at is None


def test_nobody_else_is_told_not_a_colleague_another_team_or_another_agency(cast):
    south_supervisor = UserFactory(agency=cast.agency, roles=[Role.SUPERVISOR])
    add_to_team(south_supervisor, cast.other_team, TeamMembership.Kind.SUPERVISOR)
    _save(_phq9(cast), q9=3)
    told = set(FlagNotice.objects.values_list("recipient", flat=True))
    assert told == {cast.case_manager.pk, cast.supervisor.pk}
    for outsider in (cast.colleague, cast.other_team_cm, south_supervisor, cast.outsider_cm):
        assert outsider.pk not in told


def test_the_answer_stays_out_of_the_audit_log(cast):
    _save(_phq9(cast), q9=2)
    details = list(AuditEvent.objects.values_list("detail", flat=True))
    assert details and not any("More than half" in d or "better off" in d for d in details)
    notices = AuditEvent.objects.filter(object_type="clients.flagnotice", action="create")
    assert notices.count() == 2


def test_saving_the_same_draft_again_does_not_repeat_the_notices(cast):
    assessment = _save(_phq9(cast), q9=1)
    assessment = _save(assessment, q1=2)
    assessment = _save(assessment, q9=2)
    assert _recipients(cast.client) == sorted([cast.case_manager.pk, cast.supervisor.pk])


def test_a_new_assessment_raising_an_active_flag_tells_them_again_without_a_second_flag(cast):
    _save(_phq9(cast), q9=1)
    _save(_phq9(cast), q9=1)
    assert SafetyFlag.objects.filter(client=cast.client).count() == 1
    assert len(_recipients(cast.client)) == 4
    assert FlagNotice.objects.values("flag").distinct().count() == 1


def test_an_answer_of_zero_tells_nobody(cast):
    _save(_phq9(cast), q9=0)
    assert not FlagNotice.objects.exists()


def test_a_supervisor_who_gives_the_assessment_is_still_told(cast):
    _save(_phq9(cast, author=cast.supervisor), q9=1)
    assert _recipients(cast.client) == sorted([cast.case_manager.pk, cast.supervisor.pk])


def test_without_a_primary_case_manager_the_giver_and_their_supervisors_are_told(cast):
    CareTeamMember.objects.filter(client=cast.client).update(end_on=cast.agency.today())
    assign(cast.client, cast.colleague, role=CareTeamMember.Role.CASE_MANAGER)
    _save(_phq9(cast, author=cast.colleague), q9=1)
    assert _recipients(cast.client) == sorted([cast.colleague.pk, cast.supervisor.pk])


def test_a_deactivated_supervisor_is_not_told(cast):
    cast.supervisor.is_active = False
    cast.supervisor.save(update_fields=["is_active"])
    _save(_phq9(cast), q9=1)
    assert _recipients(cast.client) == [cast.case_manager.pk]


def test_my_day_lists_the_notice_until_it_is_acknowledged_and_the_row_stays(cast, http_as):
    _save(_phq9(cast), q9=1)
    http = http_as(cast.supervisor)
    page = http.get("/").content.decode()
    assert 'data-kind="flag"' in page
    assert f"/clients/{cast.client.pk}/" in page and "Suicide risk" in page
    assert "Several days" in page and f"Assessment given by {cast.case_manager.full_name}" in page
    notice = FlagNotice.objects.get(recipient=cast.supervisor)
    response = http.post(f"/assessments/flag-notices/{notice.pk}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert 'data-kind="flag"' not in http.get("/").content.decode()
    notice.refresh_from_db()
    assert notice.acknowledged_at is not None
    # The case manager's own notice is untouched, and still on their day.
    assert 'data-kind="flag"' in http_as(cast.case_manager).get("/").content.decode()
    assert FlagNotice.objects.filter(acknowledged_at__isnull=True).count() == 1


def test_acknowledging_twice_changes_nothing_the_second_time(cast):
    _save(_phq9(cast), q9=1)
    notice = FlagNotice.objects.get(recipient=cast.case_manager)
    assert flag_notice_acknowledge(notice=notice, by=cast.case_manager) is True
    first = FlagNotice.objects.get(pk=notice.pk).acknowledged_at
    assert flag_notice_acknowledge(notice=notice, by=cast.case_manager) is False
    assert FlagNotice.objects.get(pk=notice.pk).acknowledged_at == first
    audited = AuditEvent.objects.filter(
        object_type="clients.flagnotice", object_id=str(notice.pk), action="update"
    )
    assert audited.count() == 1


@pytest.mark.parametrize("persona", ["colleague", "other_team_cm", "outsider_cm", "outsider_admin"])
def test_only_the_recipient_can_acknowledge(cast, http_as, persona):
    _save(_phq9(cast), q9=1)
    notice = FlagNotice.objects.get(recipient=cast.case_manager)
    other = getattr(cast, persona)
    response = http_as(other).post(f"/assessments/flag-notices/{notice.pk}/acknowledge/")
    assert response.status_code == 404
    assert 'data-kind="flag"' not in http_as(other).get("/").content.decode()
    with pytest.raises(AssessmentError, match="Only the person"):
        flag_notice_acknowledge(notice=notice, by=other)
    notice.refresh_from_db()
    assert notice.acknowledged_at is None


def test_the_supervisor_cannot_acknowledge_the_case_managers_notice(cast, http_as):
    _save(_phq9(cast), q9=1)
    notice = FlagNotice.objects.get(recipient=cast.case_manager)
    response = http_as(cast.supervisor).post(f"/assessments/flag-notices/{notice.pk}/acknowledge/")
    assert response.status_code == 404
    assert FlagNotice.objects.get(pk=notice.pk).acknowledged_at is None


def test_acknowledging_needs_a_post(cast, http_as):
    _save(_phq9(cast), q9=1)
    notice = FlagNotice.objects.get(recipient=cast.case_manager)
    url = f"/assessments/flag-notices/{notice.pk}/acknowledge/"
    assert http_as(cast.case_manager).get(url).status_code == 405


def _my_day_queries(http) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get("/").status_code == 200
    return len(queries)


def test_my_day_runs_the_same_number_of_queries_for_one_notice_or_many(cast, http_as):
    _save(_phq9(cast), q9=1)
    http = http_as(cast.supervisor)
    http.get("/")
    few = _my_day_queries(http)
    for n in range(6):
        client = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
        assign(client, cast.case_manager if n % 2 else cast.colleague)
        _save(_phq9(cast, client=client, author=cast.case_manager), q9=2)
    assert FlagNotice.objects.filter(recipient=cast.supervisor).count() == 7
    page = http.get("/").content.decode()
    assert page.count("Assessment given by") == 7
    assert _my_day_queries(http) == few
