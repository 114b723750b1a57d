"""The audit log page: admins and auditors only, filters, CSV, who looked at a client."""

from __future__ import annotations

import csv
import io

import pytest

from casework.core.audit import Action, audit_record
from casework.testing.personas import Cast


@pytest.mark.django_db
def test_who_looked_at_this_client(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http_as(cast.colleague).get(f"/clients/{cast.client.pk}/")
    http_as(cast.outsider_cm).get(f"/clients/{cast.outsider_client.pk}/")
    body = (
        http_as(cast.auditor)
        .get("/audit/", {"client": cast.client.record_number, "action": "view"})
        .content.decode()
    )
    assert cast.colleague.email in body and cast.outsider_cm.email not in body


@pytest.mark.django_db
def test_only_admins_and_auditors_read_the_audit_log(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    for user in (cast.case_manager, cast.supervisor, cast.billing):
        assert http_as(user).get("/audit/").status_code == 403
    assert http_as(cast.admin).get("/audit/").status_code == 200


@pytest.mark.django_db
def test_another_agencys_entries_never_show(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    audit_record(
        actor=cast.outsider_admin,
        action=Action.VIEW,
        obj=cast.outsider_client,
        client_id=cast.outsider_client.pk,
    )
    body = http_as(cast.admin).get("/audit/").content.decode()
    assert cast.outsider_admin.email not in body


@pytest.mark.django_db
def test_csv_export_has_the_filtered_rows_and_is_itself_audited(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/")
    response = http_as(cast.admin).get("/audit/", {"staff": cast.case_manager.pk, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))  # type: ignore[attr-defined]
    assert rows[0][0] == "time (UTC)"
    assert {row[1] for row in rows[1:]} == {cast.case_manager.email}
    assert any(row[4] == cast.client.record_number for row in rows[1:])
    from casework.core.models import AuditEvent

    assert AuditEvent.objects.filter(actor_id=cast.admin.pk, action="export").exists()


@pytest.mark.django_db
def test_csv_cells_cannot_start_a_spreadsheet_formula(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    http.get(f"/clients/{cast.client.pk}/", HTTP_USER_AGENT='=HYPERLINK("http://x")')
    response = http_as(cast.admin).get("/audit/", {"format": "csv"})
    audit_record(
        actor=None, action=Action.LOGIN_FAILED, actor_label="=1+2@x.co", agency_id=cast.agency.pk
    )
    response = http_as(cast.admin).get("/audit/", {"format": "csv"})
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert "'=HYPERLINK" in text
    assert "'=1+2@x.co" in text


@pytest.mark.django_db
def test_bad_filter_values_give_messages_not_errors(cast: Cast, http_as) -> None:  # type: ignore[no-untyped-def]
    response = http_as(cast.admin).get("/audit/", {"since": "yesterday", "staff": "999999"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()
