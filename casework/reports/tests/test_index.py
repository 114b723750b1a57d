"""The reports index lists the reports each person may open, and nobody else gets in."""

from __future__ import annotations

import pytest

from casework.reports.selectors import REPORTS

pytestmark = pytest.mark.django_db

URL = "/reports/"
STAFF_REPORTS = ["/reports/productivity/", "/reports/unsigned-notes/"]
BILLING_REPORTS = ["/reports/charges/", "/reports/authorizations/"]


@pytest.mark.parametrize("persona", ["billing", "admin"])
def test_billing_staff_and_admins_see_every_report(cast, http_as, persona):
    body = http_as(getattr(cast, persona)).get(URL).content.decode()
    for url in STAFF_REPORTS + BILLING_REPORTS:
        assert f'href="{url}"' in body
    assert all(report.title in body for report in REPORTS)


@pytest.mark.parametrize("persona", ["case_manager", "supervisor"])
def test_case_managers_and_supervisors_see_the_staff_reports_only(cast, http_as, persona):
    http = http_as(getattr(cast, persona))
    body = http.get(URL).content.decode()
    for url in STAFF_REPORTS:
        assert f'href="{url}"' in body and http.get(url).status_code == 200
    for url in BILLING_REPORTS:
        assert f'href="{url}"' not in body and http.get(url).status_code == 403


def test_auditors_get_no_reports(cast, http_as):
    http = http_as(cast.auditor)
    for url in [URL, *STAFF_REPORTS, *BILLING_REPORTS]:
        assert http.get(url).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for url in [URL, *STAFF_REPORTS, *BILLING_REPORTS]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
