"""Authorization use: authorised, used (non-void charges), remaining, days left, and flags."""

from __future__ import annotations

import datetime
import json

import pytest

from casework.billing.models import Authorization, Payer
from casework.core.models import AuditEvent
from casework.notes.models import Note
from casework.notes.services import note_void
from casework.reports.selectors import Period
from casework.reports.selectors_billing import authorization_use_report
from casework.testing.billing import draft_note

from .conftest import OCTOBER, add_activity, csv_rows, query_count, sign

pytestmark = pytest.mark.django_db

URL = "/reports/authorizations/"
PERIOD = Period(datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))


def _authorization(cast, payer, number, codes, units, start, end):
    authorization = Authorization.objects.create(
        agency=cast.agency if payer.agency_id == cast.agency.pk else payer.agency,
        client=cast.client if payer.agency_id == cast.agency.pk else cast.outsider_client,
        payer=payer,
        number=number,
        units=units,
        start_on=start,
        end_on=end,
    )
    authorization.service_codes.set(codes)
    return authorization


@pytest.fixture
def authorizations(cast, world):
    oct1, d = datetime.date(2026, 10, 1), datetime.date
    nearly = _authorization(
        cast, world.payer, "NEARLY-USED", [world.t1016], 5, oct1, d(2026, 12, 31)
    )
    ended = _authorization(cast, world.payer, "USED-UP", [world.h0023], 1, oct1, d(2026, 10, 31))
    fresh = _authorization(
        cast, world.payer, "FRESH", [world.h0023], 10, d(2026, 10, 15), d(2027, 3, 31)
    )
    _authorization(
        cast, world.payer, "LAST-WINTER", [world.t1016], 9, d(2026, 1, 1), d(2026, 3, 31)
    )
    theirs = Payer.objects.create(
        agency=cast.outsider_agency, name="Their payer", kind=Payer.Kind.GRANT
    )
    _authorization(cast, theirs, "THEIRS", [], 3, oct1, d(2026, 12, 31))

    cm = cast.case_manager

    def note(code, day, minutes):
        return draft_note(
            author=cm, client=cast.client, code=code, day=d(2026, 10, day), minutes=minutes
        )

    sign(note(world.t1016, 6, 38), cm)  # 3 units on NEARLY-USED
    sign(note(world.t1016, 7, 22), cm)  # 1 unit
    sign(note(world.h0023, 8, 45), cm)  # the 1 unit of USED-UP
    to_void = note(world.t1016, 10, 15)  # 1 unit, then voided: not used
    sign(to_void, cm)
    note_void(note=Note.objects.get(pk=to_void.pk), by=cm, reason="Duplicate of the 10/07 note.")
    return {"nearly": nearly, "ended": ended, "fresh": fresh}


def test_use_counts_non_void_charges_and_flags_what_to_act_on(cast, authorizations):
    today = cast.agency.today()
    report = authorization_use_report(user=cast.billing, period=PERIOD, today=today)
    assert report is not None
    numbers = [row.authorization.number for row in report.rows]
    assert numbers == ["USED-UP", "NEARLY-USED", "FRESH"]  # flagged first, then by end date
    ended, nearly, fresh = report.rows

    assert (nearly.used, nearly.remaining, nearly.percent_used) == (4, 1, 80)
    assert nearly.flagged and not nearly.exhausted and not nearly.expired
    assert nearly.days_left == (datetime.date(2026, 12, 31) - today).days
    assert "80 % used" in [badge.label for badge in nearly.badges]

    assert (ended.used, ended.remaining, ended.percent_used) == (1, 0, 100)
    assert ended.exhausted and ended.expired and ended.flagged
    assert {"Expired", "Exhausted"} <= {badge.label for badge in ended.badges}

    assert (fresh.used, fresh.remaining, fresh.percent_used, fresh.flagged) == (0, 10, 0, False)
    assert report.flagged_count == 2


def test_the_page_lists_them_with_flags(cast, authorizations, http_as):
    body = http_as(cast.billing).get(URL, OCTOBER).content.decode()
    assert "NEARLY-USED" in body and "USED-UP" in body and "FRESH" in body
    assert "LAST-WINTER" not in body and "THEIRS" not in body
    assert "3 authorizations, 2 flagged." in body
    assert 'class="badge badge--danger">Exhausted' in body and "Ended" in body
    assert cast.client.record_number in body


def test_csv_has_record_numbers_not_names_and_the_export_is_audited(cast, authorizations, http_as):
    response = http_as(cast.billing).get(URL, {**OCTOBER, "format": "csv"})
    rows = csv_rows(response)
    text = response.content.decode()
    assert rows[0] == [
        "authorization",
        "client record",
        "payer",
        "service codes",
        "start",
        "end",
        "units authorised",
        "units used",
        "units remaining",
        "percent used",
        "days left",
        "flags",
    ]
    nearly = next(row for row in rows if row[0] == "NEARLY-USED")
    days_left = (datetime.date(2026, 12, 31) - cast.agency.today()).days
    assert nearly[:11] == [
        "NEARLY-USED",
        cast.client.record_number,
        "Apple Health MCO",
        "T1016",
        "2026-10-01",
        "2026-12-31",
        "5",
        "4",
        "1",
        "80",
        str(days_left),
    ]
    assert cast.client.legal_last_name not in text
    event = AuditEvent.objects.get(object_type="reports.authorizations", action="export")
    detail = json.loads(event.detail)
    assert detail["client_ids"] == [cast.client.pk] and detail["rows"] == 3
    assert cast.client.legal_last_name not in event.detail
    assert cast.client.legal_first_name not in event.detail


def test_only_billing_staff_and_admins_see_authorizations(cast, authorizations, http_as):
    for user in (cast.case_manager, cast.supervisor, cast.auditor):
        assert http_as(user).get(URL).status_code == 403, user.email
        assert http_as(user).get(URL, {"format": "csv"}).status_code == 403, user.email
    body = http_as(cast.outsider_admin).get(URL, OCTOBER).content.decode()
    assert "THEIRS" in body and "NEARLY-USED" not in body
    assert cast.client.legal_last_name not in body


def test_no_authorizations_says_so(cast, http_as):
    body = http_as(cast.admin).get(URL).content.decode()
    assert "No authorization overlaps this period." in body


def test_bad_dates_give_a_message_not_an_error(cast, http_as):
    response = http_as(cast.admin).get(URL, {"start": "2026-10-31", "end": "2026-10-30"})
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_queries_do_not_grow_with_authorizations(cast, world, http_as):
    add_activity(cast, world, 3)
    few = query_count(http_as(cast.billing), URL, OCTOBER)
    few_csv = query_count(http_as(cast.billing), URL, {**OCTOBER, "format": "csv"})
    add_activity(cast, world, 27)
    assert query_count(http_as(cast.billing), URL, OCTOBER) == few
    assert query_count(http_as(cast.billing), URL, {**OCTOBER, "format": "csv"}) == few_csv
    rows = csv_rows(http_as(cast.billing).get(URL, {**OCTOBER, "format": "csv"}))
    assert len(rows) == 31 and {row[7] for row in rows[1:]} == {"2"}
