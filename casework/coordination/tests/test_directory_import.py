"""Loading the directory from a spreadsheet: upload, a preview with every problem by line and
column, then all of it imported or none; a second import updates instead of duplicating."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from casework.coordination.directory_import import (
    MAX_ROWS,
    directory_csv_read,
    directory_import_apply,
    sample_csv,
)
from casework.coordination.models import Organization, ServiceType
from casework.coordination.services_directory import DirectoryError
from casework.core.models import AuditEvent, User
from casework.testing.coordination import OrganizationFactory, offers
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db

HEADER = "name,service_types,address,phone,fax,email,website,hours,eligibility,languages,accepting_referrals\n"
GOOD = HEADER + (
    'Harbor Food Bank,food,"1200 Harbor Way, Tacoma",253-555-0141,,intake@harbor.example,'
    'harbor.example,Mon-Fri,Anyone,"English, Spanish",yes\n'
    "Riverside Behavioral Health,Psychiatry; Substance-use treatment,455 River Rd,,,,,,,"
    "Vietnamese,no\n"
)


def _upload(http: HttpClient, content: bytes, name: str = "directory.csv"):  # type: ignore[no-untyped-def]
    return http.post(
        reverse("directory_import"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def _confirm(http: HttpClient, preview):  # type: ignore[no-untyped-def]
    return http.post(reverse("directory_import_confirm"), {"sha256": preview.sha256})


def test_a_good_file_is_previewed_then_imported_with_its_services(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.supervisor)
    response = _upload(http, GOOD.encode())
    preview = response.context["preview"]
    assert preview.ok
    assert [row.name for row in preview.new_rows] == [
        "Harbor Food Bank",
        "Riverside Behavioral Health",
    ]
    assert not Organization.objects.exists()  # a preview writes nothing
    assert _confirm(http, preview).status_code == 302
    pantry = Organization.objects.get(name="Harbor Food Bank")
    assert pantry.address == "1200 Harbor Way, Tacoma"
    assert pantry.website == "https://harbor.example"
    assert pantry.languages == "English, Spanish"
    assert pantry.accepting_referrals
    clinic = Organization.objects.get(name="Riverside Behavioral Health")
    assert not clinic.accepting_referrals
    assert set(clinic.services.values_list("service_type", flat=True)) == {
        ServiceType.PSYCHIATRY,
        ServiceType.SUD_TREATMENT,
    }
    event = AuditEvent.objects.get(object_type="coordination.organization_import")
    assert '"created":[' in event.detail


def test_a_file_with_a_byte_order_mark_and_windows_line_ends_is_read(cast: Cast) -> None:
    data = "\ufeff".encode() + GOOD.replace("\n", "\r\n").encode()
    preview = directory_csv_read(data=data, agency_id=cast.agency.pk)
    assert preview.ok, (preview.file_error, preview.errors)
    assert preview.columns[0] == "name"
    assert len(preview.rows) == 2


def test_bad_lines_are_reported_by_line_and_column_and_nothing_is_imported(
    cast: Cast, http_as: HttpAs
) -> None:
    content = HEADER + (
        "Good Place,food,1 A St,,,,,,,,yes\n"
        ",food,2 B St,,,,,,,,yes\n"  # line 3: no name
        "Bad Email,,3 C St,,,nobody-at-example,,,,,yes\n"  # line 4
        '"Multi\nline name",unicorns,4 D St,,,,,,,,maybe\n'  # lines 5-6
        "Good Place,food,1 A St,,,,,,,,yes\n"  # line 7: same as line 2
    )
    http = http_as(cast.supervisor)
    response = _upload(http, content.encode())
    preview = response.context["preview"]
    assert not preview.ok
    found = {(e.line, e.column) for e in preview.errors}
    assert found == {
        (3, "name"),
        (4, "email"),
        (5, "service_types"),
        (5, "accepting_referrals"),
        (7, "name"),
    }
    body = response.content.decode()
    assert "unicorns" in body and "Line 2 has the same name and address." in body
    assert "Nothing was imported" in body
    # The confirm step has nothing to import: the preview was not kept.
    assert _confirm(http, preview).status_code == 302
    assert not Organization.objects.exists()


def test_applying_a_file_with_any_bad_line_imports_none_of_it(cast: Cast) -> None:
    content = GOOD + "Too Long Phone,,9 Z St," + "5" * 41 + ",,,,,,,\n"
    with pytest.raises(DirectoryError):
        directory_import_apply(data=content.encode(), by=cast.supervisor)
    assert not Organization.objects.exists()


def test_importing_again_updates_the_entries_with_the_same_name_and_address(
    cast: Cast, http_as: HttpAs
) -> None:
    existing = OrganizationFactory(
        agency=cast.agency,
        name="Harbor Food Bank",
        address="1200 Harbor Way, Tacoma",
        hours="old hours",
        is_covered_entity=True,
    )
    offers(existing, ServiceType.SHELTER)
    OrganizationFactory(agency=cast.outsider_agency, name="Harbor Food Bank", address="x")
    result = directory_import_apply(data=GOOD.encode(), by=cast.supervisor)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    existing.refresh_from_db()
    assert existing.hours == "Mon-Fri"
    assert existing.is_covered_entity  # not a column of the file: kept
    assert list(existing.services.values_list("service_type", flat=True)) == ["food"]

    again = directory_import_apply(data=GOOD.encode(), by=cast.supervisor)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Organization.objects.filter(agency=cast.agency).count() == 2


def test_a_column_left_out_keeps_what_the_directory_has(cast: Cast) -> None:
    existing = OrganizationFactory(agency=cast.agency, name="Pantry", address="", phone="111")
    offers(existing, ServiceType.FOOD)
    directory_import_apply(data=b"name,hours\nPantry,Sundays\n", by=cast.supervisor)
    existing.refresh_from_db()
    assert (existing.phone, existing.hours) == ("111", "Sundays")
    assert list(existing.services.values_list("service_type", flat=True)) == ["food"]


def test_an_oversized_file_or_too_many_rows_is_refused_whole(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.supervisor)
    big = (HEADER + ("x" * 1000 + ",,,,,,,,,,\n") * 1100).encode()
    response = _upload(http, big)
    assert response.context["preview"] is None
    assert "the limit is 1 MB" in response.content.decode()

    many = ("name\n" + "".join(f"Place {n}\n" for n in range(MAX_ROWS + 1))).encode()
    preview = directory_csv_read(data=many, agency_id=cast.agency.pk)
    assert "more than 5,000" in preview.file_error
    assert not Organization.objects.exists()


def test_a_file_that_is_not_utf8_or_names_unknown_columns_says_so(cast: Cast) -> None:
    latin1 = "name\nCafé Olé\n".encode("latin-1")
    assert "not UTF-8" in directory_csv_read(data=latin1, agency_id=cast.agency.pk).file_error
    unknown = directory_csv_read(data=b"name,colour\nA,red\n", agency_id=cast.agency.pk)
    assert "colour" in unknown.file_error
    no_name = directory_csv_read(data=b"address\n1 Main St\n", agency_id=cast.agency.pk)
    assert "name" in no_name.file_error


def test_the_sample_file_imports_cleanly(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.admin).get(reverse("directory_import_sample"))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode() == sample_csv()
    assert directory_csv_read(data=response.content, agency_id=cast.agency.pk).ok


def test_a_case_manager_cannot_import(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.case_manager)
    assert _upload(http, GOOD.encode()).status_code == 403
    assert http.post(reverse("directory_import_confirm"), {"sha256": "x"}).status_code == 403
    with pytest.raises(Exception, match="supervisors and admins"):
        directory_import_apply(data=GOOD.encode(), by=cast.case_manager)
    assert not Organization.objects.exists()
