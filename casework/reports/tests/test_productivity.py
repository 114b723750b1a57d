"""Productivity: signed notes, documented and billable hours, units and amounts per staff member."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from casework.core.models import AuditEvent
from casework.reports.forms import month_of
from casework.reports.selectors import Period, productivity_report

from .conftest import FIRST_WEEK, OCTOBER, add_activity, csv_rows, query_count

pytestmark = pytest.mark.django_db

URL = "/reports/productivity/"


def _rows(user, params=OCTOBER, target=Decimal(20)):
    report = productivity_report(
        user=user,
        period=Period(
            datetime.date.fromisoformat(params["start"]), datetime.date.fromisoformat(params["end"])
        ),
        target_per_week=target,
    )
    assert report is not None
    return {row.staff_id: row for row in report.rows}, report


def test_numbers_follow_the_signed_notes_and_non_void_charges(cast, october):
    rows, report = _rows(cast.billing)

    cm = rows[cast.case_manager.pk]
    # Four signed notes (the voided one is out): 38 + 22 + 45 + 20 minutes documented;
    # charges 38 + 22 + 45 = 105 billable minutes, 3 + 1 + 1 units, $75 + $25 + $60.
    assert (cm.signed_notes, cm.minutes_documented, cm.billable_minutes) == (4, 125, 105)
    assert (cm.billable_hours, cm.units, cm.amount) == (Decimal("1.8"), 5, Decimal("160.00"))
    colleague = rows[cast.colleague.pk]  # the held charge counts: it is not void
    assert (colleague.signed_notes, colleague.billable_hours, colleague.units) == (
        1,
        Decimal("0.5"),
        2,
    )
    assert colleague.amount == Decimal("50.00")
    assert (report.total.units, report.total.amount) == (7, Decimal("210.00"))


def test_staff_with_a_caseload_show_with_zeros_and_others_only_with_work(cast, october):
    rows, _ = _rows(cast.admin)
    assert rows[cast.supervisor.pk].signed_notes == 0
    assert rows[cast.other_team_cm.pk].billable_minutes == 0
    assert cast.billing.pk not in rows and cast.auditor.pk not in rows


def test_target_is_prorated_by_weeks_and_gives_the_share_reached(cast, october, http_as):
    rows, report = _rows(cast.billing, FIRST_WEEK, target=Decimal("3.5"))
    assert report.target_hours == Decimal("3.5")  # seven days: one week
    assert rows[cast.case_manager.pk].percent_of_target == 50  # 105 of 210 minutes
    assert rows[cast.colleague.pk].percent_of_target == 14  # 30 of 210
    _, month = _rows(cast.billing, OCTOBER)
    assert month.target_hours == Decimal("88.6")  # 20 h x 31 / 7

    body = http_as(cast.billing).get(URL, {**FIRST_WEEK, "target": "3.5"}).content.decode()
    assert 'width="50%"' in body and "50 %" in body and "$160.00" in body


def test_a_zero_target_shows_no_percentage(cast, october):
    rows, _ = _rows(cast.billing, OCTOBER, target=Decimal(0))
    assert rows[cast.case_manager.pk].percent_of_target is None


def test_the_period_defaults_to_the_agencys_current_month(cast, http_as):
    start, end = month_of(cast.agency.today())
    body = http_as(cast.admin).get(URL).content.decode()
    assert f'value="{start:%Y-%m-%d}"' in body and f'value="{end:%Y-%m-%d}"' in body
    assert 'value="20"' in body


def test_csv_has_the_page_numbers_and_the_export_is_audited(cast, october, http_as):
    response = http_as(cast.billing).get(URL, {**FIRST_WEEK, "target": "3.5", "format": "csv"})
    rows = csv_rows(response)
    assert rows[0] == [
        "staff",
        "signed notes",
        "minutes documented",
        "billable minutes",
        "billable hours",
        "units",
        "amount",
        "target hours",
        "percent of target",
    ]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name[cast.case_manager.full_name] == [
        cast.case_manager.full_name,
        "4",
        "125",
        "105",
        "1.8",
        "5",
        "160.00",
        "3.5",
        "50",
    ]
    assert "attachment" in response["Content-Disposition"]
    assert "2026-10-05-to-2026-10-11" in response["Content-Disposition"]
    event = AuditEvent.objects.get(actor_id=cast.billing.pk, action="export")
    assert event.object_type == "reports.productivity" and '"rows":' in event.detail


def test_case_managers_see_their_own_row_only(cast, october, http_as):
    rows, _ = _rows(cast.case_manager)
    assert set(rows) == {cast.case_manager.pk}
    body = http_as(cast.case_manager).get(URL, OCTOBER).content.decode()
    assert cast.case_manager.full_name in body and cast.colleague.full_name not in body


def test_supervisors_see_the_teams_they_supervise(cast, october):
    rows, _ = _rows(cast.supervisor)
    assert set(rows) == {cast.case_manager.pk, cast.colleague.pk, cast.supervisor.pk}
    assert cast.other_team_cm.pk not in rows


def test_auditors_and_people_without_a_role_are_refused(cast, http_as):
    assert http_as(cast.auditor).get(URL).status_code == 403
    assert http_as(cast.auditor).get(URL, {"format": "csv"}).status_code == 403


def test_another_agencys_admin_sees_none_of_our_staff(cast, october, http_as):
    response = http_as(cast.outsider_admin).get(URL, OCTOBER)
    body = response.content.decode()
    assert response.status_code == 200
    for person in (cast.case_manager, cast.colleague, cast.supervisor):
        assert person.full_name not in body
    assert "$160.00" not in body and "$210.00" not in body
    rows = csv_rows(http_as(cast.outsider_admin).get(URL, {**OCTOBER, "format": "csv"}))
    assert [row[0] for row in rows[1:]] == [cast.outsider_cm.full_name]


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"start": "2026-10-31", "end": "2026-10-01"}, "The end date is before the start date."),
        ({"start": "yesterday", "end": "2026-10-31"}, "Enter a valid date."),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "Enter a valid date."),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "at most two years"),
        ({"target": "lots"}, "Enter a number."),
        ({"target": "-5"}, "greater than or equal to 0"),
        ({"target": "NaN"}, "Enter a number."),
    ],
)
def test_bad_filters_give_a_message_not_an_error(cast, http_as, params, message):
    http = http_as(cast.admin)
    response = http.get(URL, params)
    body = response.content.decode()
    assert response.status_code == 200 and message in body
    assert "Fix the filters above" in body and "Download CSV" not in body
    assert http.get(URL, {**params, "format": "csv"}).status_code == 400
    assert not AuditEvent.objects.filter(action="export").exists()


def test_blank_filters_fall_back_to_the_defaults(cast, http_as):
    response = http_as(cast.admin).get(URL, {"start": "", "end": " ", "target": ""})
    assert response.status_code == 200 and "Fix the filters" not in response.content.decode()


def test_queries_do_not_grow_with_staff_or_charges(cast, world, http_as):
    params = {**OCTOBER, "target": "20"}
    add_activity(cast, world, 3)
    few = query_count(http_as(cast.admin), URL, params)
    few_csv = query_count(http_as(cast.admin), URL, {**params, "format": "csv"})
    few_supervisor = query_count(http_as(cast.supervisor), URL, params)
    add_activity(cast, world, 27)
    http = http_as(cast.admin)
    assert query_count(http, URL, params) == few
    assert query_count(http, URL, {**params, "format": "csv"}) == few_csv
    assert query_count(http_as(cast.supervisor), URL, params) == few_supervisor
    rows = csv_rows(http.get(URL, {**params, "format": "csv"}))
    assert sum(1 for row in rows[1:] if row[3] == "30") == 30
