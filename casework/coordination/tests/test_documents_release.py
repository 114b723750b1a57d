"""Giving a document to an outside party: only under a release, logged, and a Part 2 record
carries the 42 CFR § 2.32 notice on its first page."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from pypdf import PdfReader

from casework.coordination import services_documents as services
from casework.coordination.disclosure import part2_texts
from casework.coordination.errors import CoordinationError
from casework.coordination.models import Category, Disclosure, Document, Organization
from casework.coordination.tests.test_uploads import image_bytes, pdf_bytes
from casework.core.models import AuditEvent, User
from casework.testing.coordination import OrganizationFactory, PersonFactory, document, release
from casework.testing.personas import Cast

pytestmark = pytest.mark.django_db

HttpAs = Callable[[User], HttpClient]
TWO_PAGES = pdf_bytes(pages=2)


@pytest.fixture
def clinic(cast: Cast) -> Organization:
    return OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry")


def give_url(doc: Document) -> str:
    return f"/clients/{doc.client_id}/documents/{doc.pk}/give/"


def a_doc(cast: Cast, *, part2: bool = False, content: bytes = TWO_PAGES) -> Document:
    return document(client=cast.client, by=cast.case_manager, part2=part2, content=content)


def part2_consent(cast: Cast, clinic: Organization) -> None:
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        categories=(Category.SUBSTANCE_USE,),
    )


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content)


def flat(text: str) -> str:
    return " ".join(text.split())


def exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="coordination.document", action="export"))


def test_without_a_release_the_document_is_not_given_and_the_choice_is_kept(
    cast: Cast, http_as: HttpAs, clinic: Organization
) -> None:
    doc = a_doc(cast)
    response = http_as(cast.case_manager).post(give_url(doc), {"organization": clinic.pk})
    page = response.content.decode()
    assert response.status_code == 400
    assert "No release on file lets us share anything with Riverside Psychiatry." in page
    assert f'<option value="{clinic.pk}" selected>Riverside Psychiatry</option>' in page
    assert not Disclosure.objects.exists()
    assert exports() == []


def test_with_a_release_the_file_downloads_and_the_disclosure_is_logged(
    cast: Cast, http_as: HttpAs, clinic: Organization
) -> None:
    doc = a_doc(cast)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    response = http_as(cast.case_manager).post(give_url(doc), {"organization": clinic.pk})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="summary.pdf"'
    assert response["Cache-Control"] == "private, no-store"
    assert body(response) == TWO_PAGES
    disclosure = Disclosure.objects.get()
    assert disclosure.channel == Disclosure.Channel.DOCUMENT
    assert (disclosure.object_type, disclosure.object_id) == ("coordination.document", str(doc.pk))
    assert disclosure.categories == [Category.DOCUMENTS]
    assert not disclosure.part2
    assert disclosure.recipient_name == "Riverside Psychiatry"
    assert "Discharge summary" in disclosure.description  # for the client's accounting
    [export] = exports()
    assert json.loads(export.detail) == {"disclosure": disclosure.pk, "part2": False}


def test_a_release_to_the_organisation_covers_a_person_who_works_there(
    cast: Cast, clinic: Organization
) -> None:
    doctor = PersonFactory(agency=cast.agency, organization=clinic, name="Dr. Avery Lin")
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    disclosure, _ = services.document_give(
        document=a_doc(cast), organization=None, person=doctor, by=cast.case_manager
    )
    assert disclosure.recipient_name == "Dr. Avery Lin"


def test_a_part2_record_needs_a_part2_consent_and_then_carries_the_notice_first(
    cast: Cast, http_as: HttpAs, clinic: Organization
) -> None:
    doc = a_doc(cast, part2=True)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    http = http_as(cast.case_manager)

    refused = http.post(give_url(doc), {"organization": clinic.pk})
    assert refused.status_code == 400
    assert "Record a 42 CFR Part 2 consent" in refused.content.decode()
    assert not Disclosure.objects.exists()

    part2_consent(cast, clinic)
    given = http.post(give_url(doc), {"organization": clinic.pk})
    assert given.status_code == 200
    assert given["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(body(given)))
    assert len(pdf.pages) == 1 + 2  # the notice, then the document's own pages
    cover = flat(pdf.pages[0].extract_text())
    assert flat(part2_texts()["notice_to_accompany_disclosure"])[:120] in cover
    assert "Riverside Psychiatry" in cover
    disclosure = Disclosure.objects.get()
    assert disclosure.part2
    assert set(disclosure.categories) == {Category.DOCUMENTS, Category.SUBSTANCE_USE}


def test_a_part2_photo_is_given_as_a_pdf_with_the_notice_and_the_photo_on_a_page(
    cast: Cast, clinic: Organization
) -> None:
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    part2_consent(cast, clinic)
    doc = services.document_upload(
        client=cast.client,
        uploaded_file=SimpleUploadedFile("intake letter.jpg", image_bytes("JPEG")),
        kind=Document.Kind.MEDICAL_RECORD,
        title="Intake letter",
        dated_on=cast.client.agency.today(),
        part2=True,
        by=cast.case_manager,
    )
    _, made = services.document_give(
        document=doc, organization=clinic, person=None, by=cast.case_manager
    )
    assert made.filename == "intake letter.pdf"
    assert made.content is not None
    pdf = PdfReader(io.BytesIO(made.content))
    assert len(pdf.pages) == 2
    assert "42 CFR part 2" in flat(pdf.pages[0].extract_text())
    assert pdf.pages[1].images  # the photo


def test_a_refused_part2_release_logs_nothing(cast: Cast, clinic: Organization) -> None:
    doc = a_doc(cast, part2=True)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    with pytest.raises(CoordinationError, match="Substance-use treatment records"):
        services.document_give(document=doc, organization=clinic, person=None, by=cast.case_manager)
    assert not Disclosure.objects.exists()
    assert exports() == []


def test_someone_must_be_chosen(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.case_manager).post(give_url(a_doc(cast)), {})
    assert response.status_code == 400
    assert "Choose who receives it" in response.content.decode()


def test_a_person_at_another_organisation_than_the_one_chosen_is_refused(
    cast: Cast, clinic: Organization
) -> None:
    elsewhere = PersonFactory(
        agency=cast.agency, organization=OrganizationFactory(agency=cast.agency)
    )
    with pytest.raises(CoordinationError, match="at another organisation"):
        services.document_give(
            document=a_doc(cast), organization=clinic, person=elsewhere, by=cast.case_manager
        )


def test_another_agencys_directory_cannot_be_chosen(cast: Cast, http_as: HttpAs) -> None:
    theirs = OrganizationFactory(agency=cast.outsider_agency)
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=OrganizationFactory(agency=cast.agency),
    )
    response = http_as(cast.case_manager).post(give_url(a_doc(cast)), {"organization": theirs.pk})
    assert response.status_code == 400
    assert not Disclosure.objects.exists()


def test_a_removed_document_cannot_be_given(cast: Cast, clinic: Organization) -> None:
    doc = a_doc(cast)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    services.document_remove(document=doc, reason="Wrong chart", by=cast.case_manager)
    doc.refresh_from_db()
    with pytest.raises(CoordinationError, match="removed"):
        services.document_give(document=doc, organization=clinic, person=None, by=cast.case_manager)


def test_billing_and_outsiders_cannot_give_documents(
    cast: Cast, http_as: HttpAs, clinic: Organization
) -> None:
    doc = a_doc(cast)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    assert http_as(cast.billing).post(give_url(doc), {"organization": clinic.pk}).status_code == 403
    assert http_as(cast.outsider_cm).get(give_url(doc)).status_code == 404
    assert (
        http_as(cast.other_team_cm).post(give_url(doc), {"organization": clinic.pk}).status_code
        == 404
    )
    assert not Disclosure.objects.exists()


def test_the_page_lists_the_agency_directory_and_warns_about_part2(
    cast: Cast, http_as: HttpAs, clinic: Organization
) -> None:
    PersonFactory(agency=cast.agency, organization=clinic, name="Dr. Avery Lin")
    doc = a_doc(cast, part2=True)
    http = http_as(cast.case_manager)
    assert (
        "No release in force lets documents go to anyone"
        in http.get(give_url(doc)).content.decode()
    )
    part2_consent(cast, clinic)
    page = http.get(give_url(doc)).content.decode()
    assert 'Riverside Psychiatry: <span class="badge badge--warn">Part 2 consent</span>' in page
    assert "Riverside Psychiatry</option>" in page
    assert "Dr. Avery Lin (Riverside Psychiatry)</option>" in page
    assert "42 CFR Part 2 record" in page


def test_pdfs_are_made_without_loading_files_or_web_addresses() -> None:
    fetch = services._fetcher({"casework-page:1": (b"png", "image/png")})
    for address in ("file:///etc/passwd", "http://example.org/x.png", "data:text/plain,hi"):
        with pytest.raises(ValueError, match="Only the document's own pages"):
            fetch(address)


def test_a_part2_pdf_that_cannot_be_read_is_not_given_and_not_logged(
    cast: Cast, clinic: Organization
) -> None:
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    part2_consent(cast, clinic)
    broken = a_doc(cast, part2=True, content=b"%PDF-1.4\nnot really a pdf")  # stored unchecked
    with pytest.raises(CoordinationError, match="cannot be read"):
        services.document_give(
            document=broken, organization=clinic, person=None, by=cast.case_manager
        )
    assert not Disclosure.objects.exists()


def test_the_give_form_sent_twice_is_one_disclosure(
    cast: Cast, http_as: HttpAs, clinic: Organization
) -> None:
    doc = a_doc(cast)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    http = http_as(cast.case_manager)
    form = {"organization": clinic.pk, "submission_key": "give-1"}
    first = http.post(give_url(doc), form)
    second = http.post(give_url(doc), form)
    assert first.status_code == second.status_code == 200
    assert b"".join(second.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert Disclosure.objects.count() == 1
