"""Documents in a client's chart: adding, listing, seeing, downloading and removing them, and who may."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as HttpClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from casework.clients.models import TimelineEvent
from casework.coordination import services_documents as services
from casework.coordination.errors import CoordinationError
from casework.coordination.models import Document
from casework.coordination.tests.test_uploads import A_PDF, EXE, image_bytes, pdf_bytes
from casework.core.models import AuditEvent, User
from casework.testing.coordination import document
from casework.testing.personas import Cast

pytestmark = pytest.mark.django_db

HttpAs = Callable[[User], HttpClient]
UNICODE_NAME = "Überweisung \u2013 診断書.pdf"  # an en dash, as word processors type it


def new_url(cast: Cast) -> str:
    return f"/clients/{cast.client.pk}/documents/new/"


def list_url(cast: Cast) -> str:
    return f"/clients/{cast.client.pk}/documents/"


def doc_url(doc: Document, tail: str = "") -> str:
    return f"/clients/{doc.client_id}/documents/{doc.pk}/{tail}"


def form(cast: Cast, name: str = "summary.pdf", content: bytes = A_PDF, **more: object) -> dict:
    return {
        "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        "kind": Document.Kind.DISCHARGE_SUMMARY,
        "title": "Discharge summary, St. Joseph",
        "dated_on": cast.client.agency.today().isoformat(),
        "submission_key": "k-1",
        **more,
    }


def upload(cast: Cast, by: User | None = None, **fields: object) -> Document:
    data = form(cast)
    data.update(fields)
    return services.document_upload(
        client=cast.client,
        uploaded_file=data["file"],  # type: ignore[arg-type]
        kind=str(data["kind"]),
        title=str(data["title"]),
        dated_on=cast.client.agency.today(),
        part2=bool(data.get("part2", False)),
        by=by or cast.case_manager,
        submission_key=str(data["submission_key"]),
    )


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content)


def audit_entries(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("seq"))


# --- adding ------------------------------------------------------------------------------------


def test_a_case_manager_adds_a_pdf_and_finds_it_in_the_chart_list(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    response = http.post(new_url(cast), form(cast))
    doc = Document.objects.get(client=cast.client)
    assert response.status_code == 302
    assert response["Location"] == doc_url(doc)
    assert (doc.content_type, doc.size, doc.original_name) == (
        "application/pdf",
        len(A_PDF),
        "summary.pdf",
    )
    page = http.get(list_url(cast)).content.decode()
    assert "Discharge summary, St. Joseph" in page
    assert "Hospital discharge summary" in page


def test_a_phone_photo_is_added_and_shown_as_an_image_on_its_page(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    photo = image_bytes("PNG")
    http.post(
        new_url(cast),
        form(cast, name="IMG_0042.png", content=photo, kind=Document.Kind.ID_CARD, title="ID"),
    )
    doc = Document.objects.get(client=cast.client)
    assert doc.content_type == "image/png"
    page = http.get(doc_url(doc)).content.decode()
    assert f'<img src="{doc_url(doc, "view/")}"' in page
    assert body(http.get(doc_url(doc, "view/"))) == photo


def test_an_empty_file_is_refused_on_the_form_and_what_was_typed_is_kept(
    cast: Cast, http_as: HttpAs
) -> None:
    response = http_as(cast.case_manager).post(new_url(cast), form(cast, content=b""))
    page = response.content.decode()
    assert response.status_code == 400
    assert "The file is empty." in page
    assert 'value="Discharge summary, St. Joseph"' in page
    assert "choose the file again" in page
    assert not Document.objects.exists()


@override_settings(CASEWORK_MAX_UPLOAD_BYTES=1_048_576)
def test_a_file_over_the_size_limit_is_refused_saying_the_limit(
    cast: Cast, http_as: HttpAs
) -> None:
    big = pdf_bytes() + b"%" * 1_048_576
    response = http_as(cast.case_manager).post(new_url(cast), form(cast, content=big))
    assert response.status_code == 400
    assert "larger than the limit of 1 MB" in response.content.decode()
    assert not Document.objects.exists()


def test_png_bytes_named_pdf_are_refused_on_the_form(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.case_manager).post(
        new_url(cast), form(cast, content=image_bytes("PNG"))
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "ends in .pdf, but it is a PNG image" in page
    assert 'id="id_file_error"' in page  # the message sits with the file field
    assert not Document.objects.exists()


def test_a_program_named_pdf_is_refused_and_nothing_is_stored(cast: Cast, http_as: HttpAs) -> None:
    root = Path(settings.CASEWORK_DOCUMENTS_ROOT)
    before = {p for p in root.rglob("*") if p.is_file()}
    response = http_as(cast.case_manager).post(new_url(cast), form(cast, content=EXE))
    assert response.status_code == 400
    assert "not a PDF or an image" in response.content.decode()
    assert not Document.objects.exists()
    assert {p for p in root.rglob("*") if p.is_file()} == before


def test_a_unicode_file_name_is_kept_and_offered_back_on_download(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    http.post(new_url(cast), form(cast, name=UNICODE_NAME))
    doc = Document.objects.get(client=cast.client)
    assert doc.original_name == UNICODE_NAME
    assert UNICODE_NAME not in doc.file.name  # stored under a random name
    response = http.get(doc_url(doc, "download/"))
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C3%9Cberweisung%20%E2%80%93%20%E8%A8%BA%E6%96%AD%E6%9B%B8.pdf"
    )
    assert body(response) == A_PDF


def test_sending_the_form_twice_adds_one_document(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.case_manager)
    first = http.post(new_url(cast), form(cast))
    second = http.post(new_url(cast), form(cast))
    assert Document.objects.filter(client=cast.client).count() == 1
    assert first["Location"] == second["Location"]


def test_the_service_returns_the_first_document_for_a_repeated_submission(cast: Cast) -> None:
    first = upload(cast)
    again = upload(cast)
    assert again.pk == first.pk
    assert Document.objects.count() == 1


def test_adding_is_audited_and_put_on_the_timeline_without_the_name_or_title(
    cast: Cast,
) -> None:
    doc = upload(cast, file=SimpleUploadedFile(UNICODE_NAME, A_PDF))
    [created] = audit_entries(object_type="coordination.document", action="create")
    assert created.object_id == str(doc.pk)
    assert created.client_id == cast.client.pk
    assert json.loads(created.detail)["sha256"] == doc.sha256
    event = TimelineEvent.objects.get(client=cast.client, kind="document")
    assert event.summary == "Document added"
    for text in (created.detail, event.summary):
        assert "Überweisung" not in text
        assert "St. Joseph" not in text


def test_a_date_in_the_future_is_refused(cast: Cast, http_as: HttpAs) -> None:
    tomorrow = cast.client.agency.today() + datetime.timedelta(days=1)
    response = http_as(cast.case_manager).post(
        new_url(cast), form(cast, dated_on=tomorrow.isoformat())
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()


def test_a_title_longer_than_the_limit_is_refused(cast: Cast, http_as: HttpAs) -> None:
    response = http_as(cast.case_manager).post(new_url(cast), form(cast, title="x" * 201))
    assert response.status_code == 400
    assert not Document.objects.exists()


def test_files_land_under_the_documents_root_and_never_under_static_root(cast: Cast) -> None:
    doc = upload(cast)
    path = Path(doc.file.path).resolve()
    assert path.is_relative_to(Path(settings.CASEWORK_DOCUMENTS_ROOT).resolve())
    assert not path.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert path.read_bytes() == A_PDF


# --- who may -----------------------------------------------------------------------------------


def _outside_urls(doc: Document) -> list[str]:
    return [
        f"/clients/{doc.client_id}/documents/",
        doc_url(doc),
        doc_url(doc, "download/"),
        doc_url(doc, "view/"),
    ]


@pytest.mark.parametrize("who", ["outsider_cm", "other_team_cm", "outsider_admin"])
def test_someone_outside_the_clients_care_gets_404_and_each_attempt_is_audited(
    cast: Cast, http_as: HttpAs, who: str
) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    user: User = getattr(cast, who)
    http = http_as(user)
    for url in _outside_urls(doc):
        assert http.get(url).status_code == 404, url
    refused = [e for e in audit_entries(actor_id=user.pk) if e.action != "login"]
    assert len(refused) == 4
    assert all(json.loads(entry.detail)["refused"] is True for entry in refused)
    assert {e.object_type for e in refused} == {"clients.client", "coordination.document"}
    assert {e.action for e in refused} == {"view"}  # refused: nothing was read or changed
    asked = {json.loads(e.detail).get("asked") for e in refused}
    assert "export" in asked  # the download
    assert all("Discharge" not in e.detail for e in refused)
    assert http.post(doc_url(doc, "remove/"), {"reason": "x"}).status_code == 404
    assert Document.objects.get(pk=doc.pk).removed_at is None


def test_a_document_asked_for_under_another_clients_address_is_not_found(
    cast: Cast, http_as: HttpAs
) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    http = http_as(cast.admin)  # sees both clients
    assert (
        http.get(f"/clients/{cast.other_client.pk}/documents/{doc.pk}/download/").status_code == 404
    )


def test_billing_without_narratives_cannot_read_documents(cast: Cast, http_as: HttpAs) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    http = http_as(cast.billing)
    for url in [*_outside_urls(doc), new_url(cast)]:
        assert http.get(url).status_code == 403, url


def test_billing_reads_but_does_not_add_when_the_agency_lets_billing_see_narratives(
    cast: Cast, http_as: HttpAs
) -> None:
    cast.agency.billing_sees_narratives = True
    cast.agency.save(update_fields=["billing_sees_narratives"])
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    http = http_as(cast.billing)
    assert http.get(doc_url(doc, "download/")).status_code == 200
    assert http.get(new_url(cast)).status_code == 403
    assert http.post(new_url(cast), form(cast)).status_code == 403
    with pytest.raises(CoordinationError):
        upload(cast, by=cast.billing)


def test_an_auditor_cannot_read_documents(cast: Cast, http_as: HttpAs) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    assert http_as(cast.auditor).get(doc_url(doc)).status_code == 403


def test_a_colleague_on_the_team_reads_the_document(cast: Cast, http_as: HttpAs) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    assert http_as(cast.colleague).get(doc_url(doc)).status_code == 200


def test_the_service_refuses_a_client_outside_the_uploaders_care(cast: Cast) -> None:
    with pytest.raises(CoordinationError, match="not open to you"):
        upload(cast, by=cast.other_team_cm)


# --- reading -----------------------------------------------------------------------------------


def test_every_read_is_audited_as_a_view_or_an_export_of_the_document(
    cast: Cast, http_as: HttpAs
) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    http = http_as(cast.case_manager)
    http.get(doc_url(doc))
    body(http.get(doc_url(doc, "view/")))
    body(http.get(doc_url(doc, "download/")))
    entries = audit_entries(object_type="coordination.document", object_id=str(doc.pk))
    assert [(e.action, json.loads(e.detail)["how"]) for e in entries] == [
        ("view", "page"),
        ("view", "inline"),
        ("export", "download"),
    ]
    assert {e.client_id for e in entries} == {cast.client.pk}


def test_files_are_served_with_headers_that_keep_them_inert_and_uncached(
    cast: Cast, http_as: HttpAs
) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    http = http_as(cast.case_manager)
    inline = http.get(doc_url(doc, "view/"))
    download = http.get(doc_url(doc, "download/"))
    for response in (inline, download):
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
    assert inline["Content-Security-Policy"] == "sandbox"
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    assert inline["Content-Disposition"] == 'inline; filename="summary.pdf"'
    assert download["Content-Disposition"] == 'attachment; filename="summary.pdf"'
    assert download["X-Frame-Options"] == "DENY"


def test_a_pdf_is_shown_in_a_frame_on_its_page(cast: Cast, http_as: HttpAs) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    page = http_as(cast.case_manager).get(doc_url(doc)).content.decode()
    assert f'<iframe src="{doc_url(doc, "view/")}"' in page


def test_a_multi_page_tiff_scan_is_shown_as_a_pdf_of_its_pages(cast: Cast, http_as: HttpAs) -> None:
    http = http_as(cast.case_manager)
    http.post(new_url(cast), form(cast, name="fax.tif", content=image_bytes("TIFF", frames=3)))
    doc = Document.objects.get(client=cast.client)
    assert doc.content_type == "image/tiff"
    response = http.get(doc_url(doc, "view/"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Security-Policy"] == "sandbox"
    assert len(PdfReader(io.BytesIO(body(response))).pages) == 3
    assert body(http.get(doc_url(doc, "download/"))).startswith(b"II*\x00")  # the TIFF itself


def test_the_list_costs_the_same_number_of_queries_for_1_or_15_documents(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    document(client=cast.client, by=cast.case_manager, content=A_PDF)
    http.get(list_url(cast))  # warm up: the session's first use
    with CaptureQueriesContext(connection) as one:
        assert http.get(list_url(cast)).status_code == 200
    for n in range(14):
        document(client=cast.client, by=cast.colleague, title=f"Letter {n}", content=A_PDF)
    with CaptureQueriesContext(connection) as fifteen:
        page = http.get(list_url(cast)).content.decode()
    assert page.count("/download/") == 0 and page.count("Letter ") == 14
    assert len(fifteen) == len(one)


def test_the_list_shows_newest_first_with_a_part2_badge_and_sizes(
    cast: Cast, http_as: HttpAs
) -> None:
    older = document(client=cast.client, by=cast.case_manager, title="Older", content=A_PDF)
    older.dated_on = older.dated_on.replace(year=older.dated_on.year - 1)
    older.save(update_fields=["dated_on"])
    document(client=cast.client, by=cast.case_manager, title="Newer", part2=True, content=A_PDF)
    page = http_as(cast.case_manager).get(list_url(cast)).content.decode()
    assert page.index("Newer") < page.index("Older")
    assert "Part 2</span>" in page
    assert f"{len(A_PDF)}\xa0bytes" in page


# --- removing ----------------------------------------------------------------------------------


def test_removing_needs_a_reason(cast: Cast, http_as: HttpAs) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    response = http_as(cast.case_manager).post(doc_url(doc, "remove/"), {"reason": "  "})
    assert response.status_code == 400
    assert "Say why the document is removed" in response.content.decode()
    assert Document.objects.get(pk=doc.pk).removed_at is None


def test_a_removed_document_leaves_the_list_and_cannot_be_opened_but_is_kept(
    cast: Cast, http_as: HttpAs
) -> None:
    doc = document(client=cast.client, by=cast.case_manager, title="Wrong card", content=A_PDF)
    http = http_as(cast.case_manager)
    response = http.post(doc_url(doc, "remove/"), {"reason": "Another client's card"})
    assert response.status_code == 302
    assert "Wrong card" not in http.get(list_url(cast)).content.decode()
    assert http.get(doc_url(doc, "download/")).status_code == 404
    kept = Document.objects.get(pk=doc.pk)
    assert kept.removal_reason == "Another client's card"
    assert kept.removed_by == cast.case_manager
    assert Path(kept.file.path).exists()
    [entry] = audit_entries(object_type="coordination.document", action="delete")
    assert "Another client" not in entry.detail


def test_removing_twice_is_refused(cast: Cast) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    services.document_remove(document=doc, reason="Added twice", by=cast.case_manager)
    with pytest.raises(CoordinationError, match="already been removed"):
        services.document_remove(document=doc, reason="Added twice", by=cast.case_manager)


def test_billing_cannot_remove_a_document(cast: Cast) -> None:
    doc = document(client=cast.client, by=cast.case_manager, content=A_PDF)
    with pytest.raises(CoordinationError):
        services.document_remove(document=doc, reason="Wrong", by=cast.billing)
