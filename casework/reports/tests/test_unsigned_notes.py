"""Unsigned notes by age: drafts per author in buckets of days since the service date."""

from __future__ import annotations

import datetime

import pytest

from casework.core.models import AuditEvent
from casework.notes.models import Note
from casework.reports.selectors import unsigned_notes_report
from casework.testing.billing import draft_note

from .conftest import add_activity, csv_rows, query_count, sign

pytestmark = pytest.mark.django_db

URL = "/reports/unsigned-notes/"


def _drafts(author, client, *ages: int) -> None:
    today = client.agency.today()
    for age in ages:
        draft_note(
            author=author,
            client=client,
            code=None,
            day=today - datetime.timedelta(days=age),
        )


@pytest.fixture
def drafts(cast):
    # Case manager: one in each bucket edge, and two over 14 days.
    _drafts(cast.case_manager, cast.client, 0, 1, 2, 3, 4, 7, 8, 14, 15, 40)
    _drafts(cast.colleague, cast.client, 5)
    _drafts(cast.other_team_cm, cast.other_client, 1)
    signed = draft_note(
        author=cast.colleague,
        client=cast.client,
        code=None,
        day=cast.agency.today() - datetime.timedelta(days=30),
    )
    sign(signed, cast.colleague)  # signed notes are not unsigned
    _drafts(cast.outsider_cm, cast.outsider_client, 20)


def _by_staff(user, **kwargs):
    report = unsigned_notes_report(user=user, today=user.agency.today(), **kwargs)
    assert report is not None
    return {row.staff_id: row for row in report.rows}, report


def test_drafts_are_counted_per_author_and_age_bucket(cast, drafts):
    rows, report = _by_staff(cast.admin)
    today = cast.agency.today()
    cm = rows[cast.case_manager.pk]
    assert cm.counts == (2, 2, 2, 2, 2) and cm.total == 10
    assert cm.oldest == today - datetime.timedelta(days=40) and cm.oldest_days == 40
    assert rows[cast.colleague.pk].counts == (0, 0, 1, 0, 0)
    assert rows[cast.other_team_cm.pk].counts == (1, 0, 0, 0, 0)
    assert cast.outsider_cm.pk not in rows
    assert report.rows[0].staff_id == cast.case_manager.pk  # oldest first
    assert report.total.counts == (3, 2, 3, 2, 2) and report.total.total == 12


def test_a_service_date_range_narrows_the_drafts(cast, drafts):
    today = cast.agency.today()
    rows, _ = _by_staff(
        cast.admin,
        start=today - datetime.timedelta(days=14),
        end=today - datetime.timedelta(days=2),
    )
    assert rows[cast.case_manager.pk].counts == (0, 2, 2, 2, 0)
    assert cast.other_team_cm.pk not in rows


def test_the_page_shows_the_buckets_and_the_oldest_date(cast, drafts, http_as):
    body = http_as(cast.billing).get(URL).content.decode()
    oldest = cast.agency.today() - datetime.timedelta(days=40)
    assert f"{oldest:%m/%d/%Y}" in body and "(40 days)" in body
    assert '<span class="badge badge--danger">2</span>' in body
    assert "<caption>" in body and 'scope="col"' in body and 'data-label="Over 14 days"' in body


def test_csv_lists_each_author_with_the_bucket_counts(cast, drafts, http_as):
    rows = csv_rows(http_as(cast.admin).get(URL, {"format": "csv"}))
    assert rows[0] == [
        "author",
        "0 to 1 days old",
        "2 to 3 days old",
        "4 to 7 days old",
        "8 to 14 days old",
        "Over 14 days old",
        "total",
        "oldest service date",
        "oldest age (days)",
    ]
    oldest = cast.agency.today() - datetime.timedelta(days=40)
    assert rows[1] == [
        cast.case_manager.full_name,
        "2",
        "2",
        "2",
        "2",
        "2",
        "10",
        oldest.isoformat(),
        "40",
    ]
    assert len(rows) == 4
    assert AuditEvent.objects.filter(object_type="reports.unsigned_notes").exists()


def test_case_managers_see_only_their_own_drafts(cast, drafts, http_as):
    rows, _ = _by_staff(cast.colleague)
    assert set(rows) == {cast.colleague.pk}
    body = http_as(cast.colleague).get(URL).content.decode()
    assert cast.case_manager.full_name not in body


def test_supervisors_see_the_drafts_of_their_team(cast, drafts):
    rows, _ = _by_staff(cast.supervisor)
    assert set(rows) == {cast.case_manager.pk, cast.colleague.pk}


def test_auditors_are_refused_and_other_agencies_see_none_of_ours(cast, drafts, http_as):
    assert http_as(cast.auditor).get(URL).status_code == 403
    body = http_as(cast.outsider_admin).get(URL).content.decode()
    assert cast.case_manager.full_name not in body and cast.outsider_cm.full_name in body


def test_nothing_waiting_says_so(cast, http_as):
    body = http_as(cast.case_manager).get(URL).content.decode()
    assert "No unsigned notes" in body


def test_bad_dates_give_a_message_not_an_error(cast, http_as):
    http = http_as(cast.supervisor)
    for params, message in (
        ({"start": "2026-10-10", "end": "2026-10-01"}, "The end date is before the start date."),
        ({"end": "31/10/2026x"}, "Enter a valid date."),
    ):
        response = http.get(URL, params)
        assert response.status_code == 200 and message in response.content.decode()
        assert http.get(URL, {**params, "format": "csv"}).status_code == 400


def test_queries_do_not_grow_with_drafts_or_authors(cast, world, http_as):
    add_activity(cast, world, 3)
    few = query_count(http_as(cast.admin), URL, {})
    few_supervisor = query_count(http_as(cast.supervisor), URL, {})
    add_activity(cast, world, 27)
    assert query_count(http_as(cast.admin), URL, {}) == few
    assert query_count(http_as(cast.supervisor), URL, {}) == few_supervisor
    rows = csv_rows(http_as(cast.supervisor).get(URL, {"format": "csv"}))
    assert len(rows) == 31
    assert Note.objects.filter(status=Note.Status.DRAFT).count() == 30
