"""Charges by payer, code and month (held, ready, billed; void left out), and held charges by reason."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from casework.billing.models import Charge
from casework.core.models import AuditEvent
from casework.reports.selectors import Period
from casework.reports.selectors_billing import Tally, charges_report

from .conftest import OCTOBER, add_activity, csv_rows, query_count

pytestmark = pytest.mark.django_db

URL = "/reports/charges/"
PERIOD = Period(datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))


def test_the_pivot_sums_each_payer_code_and_month_by_status(cast, october):
    Charge.objects.filter(pk=october.ready[1].pk).update(status=Charge.Status.BILLED)  # 22 min

    report = charges_report(user=cast.billing, period=PERIOD)

    assert report is not None
    rows = {(row.payer, row.code): row for row in report.rows}
    assert set(rows) == {("Apple Health MCO", "H0023"), ("Apple Health MCO", "T1016")}
    t1016 = rows["Apple Health MCO", "T1016"]
    assert t1016.month == datetime.date(2026, 10, 1)
    held, ready, billed = t1016.by_status
    assert held == Tally(1, 2, Decimal("50.00"))  # the colleague's 30 minutes
    assert ready == Tally(1, 3, Decimal("75.00"))  # 38 minutes
    assert billed == Tally(1, 1, Decimal("25.00"))  # 22 minutes; the void 60 minutes is out
    assert t1016.total == Tally(3, 6, Decimal("150.00"))
    assert rows["Apple Health MCO", "H0023"].by_status[1] == Tally(1, 1, Decimal("60.00"))
    assert report.total == Tally(4, 7, Decimal("210.00"))


def test_held_charges_are_grouped_by_reason(cast, october):
    report = charges_report(user=cast.billing, period=PERIOD)
    assert report is not None
    holds = {hold.code: hold for hold in report.holds}
    reasons = {reason["code"] for reason in october.held.hold_reasons}
    assert set(holds) == reasons and "no_npi" in reasons
    assert holds["no_npi"].label == "Staff member has no NPI"
    assert all(hold.tally == Tally(1, 2, Decimal("50.00")) for hold in holds.values())


def test_months_are_separate_rows_and_the_period_bounds_them(cast, october):
    Charge.objects.filter(pk=october.ready[0].pk).update(service_date=datetime.date(2026, 9, 30))
    report = charges_report(
        user=cast.billing, period=Period(datetime.date(2026, 9, 1), datetime.date(2026, 10, 31))
    )
    assert report is not None
    months = [(row.code, row.month) for row in report.rows]
    assert months == [
        ("H0023", datetime.date(2026, 10, 1)),
        ("T1016", datetime.date(2026, 9, 1)),
        ("T1016", datetime.date(2026, 10, 1)),
    ]
    only_october = charges_report(user=cast.billing, period=PERIOD)
    assert only_october is not None and only_october.total.count == 3


def test_page_and_csv_show_the_pivot(cast, october, http_as):
    body = http_as(cast.admin).get(URL, OCTOBER).content.decode()
    assert "Apple Health MCO" in body and "$210.00" in body and "Staff member has no NPI" in body
    assert 'scope="colgroup"' in body and 'data-label="Held units"' in body

    rows = csv_rows(http_as(cast.admin).get(URL, {**OCTOBER, "format": "csv"}))
    assert rows[0] == [
        "payer",
        "service code",
        "month",
        "held count",
        "held units",
        "held amount",
        "ready count",
        "ready units",
        "ready amount",
        "billed count",
        "billed units",
        "billed amount",
        "total count",
        "total units",
        "total amount",
    ]
    #            payer               code     month      held            ready
    h0023 = ["Apple Health MCO", "H0023", "2026-10", "0", "0", "0.00", "1", "1", "60.00"]
    t1016 = ["Apple Health MCO", "T1016", "2026-10", "1", "2", "50.00", "2", "4", "100.00"]
    #                      billed            total
    assert rows[1:] == [
        [*h0023, "0", "0", "0.00", "1", "1", "60.00"],
        [*t1016, "0", "0", "0.00", "3", "6", "150.00"],
    ]
    event = AuditEvent.objects.get(object_type="reports.charges")
    assert event.action == "export" and cast.client.legal_last_name not in event.detail


def test_only_billing_staff_and_admins_see_charges(cast, http_as):
    for user in (cast.case_manager, cast.supervisor, cast.auditor, cast.outsider_cm):
        assert http_as(user).get(URL).status_code == 403, user.email
    assert http_as(cast.billing).get(URL).status_code == 200


def test_another_agencys_admin_sees_none_of_ours(cast, october, http_as):
    body = http_as(cast.outsider_admin).get(URL, OCTOBER).content.decode()
    assert "Apple Health MCO" not in body and "No charges with a service date" in body
    rows = csv_rows(http_as(cast.outsider_admin).get(URL, {**OCTOBER, "format": "csv"}))
    assert len(rows) == 1


def test_no_charges_says_so(cast, http_as):
    body = http_as(cast.billing).get(URL).content.decode()
    assert "No charges with a service date in this period." in body
    assert "No held charges in this period." in body


def test_bad_dates_give_a_message_not_an_error(cast, http_as):
    http = http_as(cast.billing)
    response = http.get(URL, {"start": "2026-13-01", "end": "<script>"})
    body = response.content.decode()
    assert response.status_code == 200 and body.count("Enter a valid date.") >= 2
    assert "<script>" not in body
    assert http.get(URL, {"start": "2026-13-01", "format": "csv"}).status_code == 400


def test_queries_do_not_grow_with_payers_codes_or_holds(cast, world, http_as):
    add_activity(cast, world, 3)
    few = query_count(http_as(cast.billing), URL, OCTOBER)
    few_csv = query_count(http_as(cast.billing), URL, {**OCTOBER, "format": "csv"})
    add_activity(cast, world, 27)
    assert query_count(http_as(cast.billing), URL, OCTOBER) == few
    assert query_count(http_as(cast.billing), URL, {**OCTOBER, "format": "csv"}) == few_csv
    report = charges_report(user=cast.billing, period=PERIOD)
    assert report is not None and len(report.rows) == 30
    assert len(report.holds) == Charge.objects.filter(status=Charge.Status.HELD).count() == 14
