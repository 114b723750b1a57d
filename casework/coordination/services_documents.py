"""Documents in a client's chart: add one, take a wrong one out, give one to an outside party.

Adding checks the file by its content (uploads.py) and stores it under a random name; the
audit log and the client's timeline say that a document was added, never its name or title.
Giving a document away is a disclosure: the client's releases must cover it, it is logged for
the client's accounting of disclosures, and a 42 CFR Part 2 record carries the § 2.32 notice
on a cover page.
"""

from __future__ import annotations

import datetime
import io
import os
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image, ImageSequence
from pypdf import PdfReader, PdfWriter

from casework.clients.models import Client
from casework.clients.services import timeline_add
from casework.coordination.disclosure import (
    DisclosureRefused,
    Logged,
    Sharing,
    categories_shared,
    disclosure_check,
    disclosure_record,
    part2_texts,
)
from casework.coordination.errors import CoordinationError, earlier_submission
from casework.coordination.models import Category, Disclosure, Document, Organization, Person
from casework.coordination.uploads import MAX_FRAMES, PDF, upload_check
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_claim, submission_complete
from casework.core.models import User

DOCUMENT_UPLOAD = "document_upload"
DOCUMENT_GIVE = "document_give"  # idempotency purpose
TITLE_LIMIT = 200  # Document.title
REASON_LIMIT = 300  # Document.removal_reason
OLDEST_DATE = datetime.date(1900, 1, 1)
# Browsers show these inline; a TIFF (a fax, a scanner's output) is shown as a PDF instead.
BROWSER_IMAGES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


class DocumentError(CoordinationError):
    """A CoordinationError that names the form field it is about."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _check_may_write(*, client: Client, by: User) -> None:
    if not access.may_coordinate(by):
        raise CoordinationError("Your role does not add or change documents in charts.")
    if not access.visible_clients(by).filter(pk=client.pk).exists():
        raise CoordinationError("This client's chart is not open to you.")


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise DocumentError("Give the document a title, e.g. “ID card, front”.", field="title")
    if len(title) > TITLE_LIMIT:
        raise DocumentError(f"Keep the title under {TITLE_LIMIT} characters.", field="title")
    return title


def _check_date(dated_on: datetime.date, client: Client) -> None:
    if dated_on > client.agency.today():
        raise DocumentError("The date on the document cannot be in the future.", field="dated_on")
    if dated_on < OLDEST_DATE:
        raise DocumentError("Check the year of the date on the document.", field="dated_on")


def document_upload(
    *,
    client: Client,
    uploaded_file: UploadedFile,
    kind: str,
    title: str,
    dated_on: datetime.date,
    part2: bool,
    by: User,
    submission_key: str = "",
) -> Document:
    """Put a checked file in the client's chart (once per submission key)."""
    _check_may_write(client=client, by=by)
    if kind not in Document.Kind.values:
        raise DocumentError("Choose what kind of document this is.", field="kind")
    title = _clean_title(title)
    _check_date(dated_on, client)
    checked = upload_check(uploaded_file)
    stored = ""
    try:
        with transaction.atomic():
            submission = submission_claim(
                agency=client.agency, by=by, purpose=DOCUMENT_UPLOAD, key=submission_key
            )
            if submission.earlier_object_id is not None:
                return earlier_submission(Document, submission.earlier_object_id, client=client)
            document = Document(
                agency_id=client.agency_id,
                client=client,
                kind=kind,
                title=title,
                dated_on=dated_on,
                part2=part2,
                original_name=checked.original_name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                uploaded_by=by,
            )
            document.file.save(checked.stored_name, uploaded_file, save=False)
            stored = document.file.name or ""
            document.save()
            submission_complete(submission, document.pk)
            audit_record(
                actor=by,
                action=Action.CREATE,
                obj=document,
                client_id=client.pk,
                detail={
                    "kind": kind,
                    "content_type": checked.content_type,
                    "size": checked.size,
                    "sha256": checked.sha256,
                    "part2": part2,
                },
            )
            timeline_add(client=client, kind="document", summary="Document added", actor=by)
    except BaseException:
        if stored:  # the row is gone with the transaction: the file must go too
            Document._meta.get_field("file").storage.delete(stored)
        raise
    return document


def document_remove(*, document: Document, reason: str, by: User) -> Document:
    """Take a wrong or misfiled document out of the chart; it is kept, hidden, for the audit trail."""
    _check_may_write(client=document.client, by=by)
    reason = " ".join(reason.split())
    if not reason:
        raise DocumentError(
            "Say why the document is removed, e.g. “Another client's card”.", field="reason"
        )
    if len(reason) > REASON_LIMIT:
        raise DocumentError(f"Keep the reason under {REASON_LIMIT} characters.", field="reason")
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.removed_at is not None:
            raise DocumentError("This document has already been removed.")
        locked.removed_at = timezone.now()
        locked.removed_by = by
        locked.removal_reason = reason
        locked.save(update_fields=["removed_at", "removed_by", "removal_reason"])
        audit_record(
            actor=by,
            action=Action.DELETE,
            obj=locked,
            client_id=locked.client_id,
            detail={"soft": True},
        )
        timeline_add(client=document.client, kind="document", summary="Document removed", actor=by)
    return locked


# ---- Giving a document to an outside party ---------------------------------------------------


def _check_recipient(
    document: Document, organization: Organization | None, person: Person | None
) -> None:
    if organization is None and person is None:
        raise DocumentError("Choose who receives it: an organisation, a person, or both.")
    for who in (organization, person):
        if who is not None and who.agency_id != document.agency_id:
            raise DocumentError("Choose someone from your agency's directory.")
        if who is not None and not who.is_active:
            raise DocumentError(f"{who.name} is no longer active in the directory.")
    if (
        organization is not None
        and person is not None
        and person.organization_id is not None
        and person.organization_id != organization.pk
    ):
        raise DocumentError(
            f"The directory has {person.name} at another organisation than {organization.name}. "
            "Choose the person alone, or the organisation they work at."
        )


def _sharing(
    document: Document, organization: Organization | None, person: Person | None
) -> Sharing:
    categories = categories_shared(
        client=document.client, categories=[Category.DOCUMENTS], part2_documents=document.part2
    )
    return Sharing(
        client=document.client, categories=categories, organization=organization, person=person
    )


def _check_may_give(
    document: Document, organization: Organization | None, person: Person | None, by: User
) -> Sharing:
    _check_may_write(client=document.client, by=by)
    if document.removed_at is not None:
        raise CoordinationError("This document has been removed from the chart.")
    _check_recipient(document, organization, person)
    return _sharing(document, organization, person)


def _log_release(
    *, document: Document, sharing: Sharing, by: User, submission_key: str
) -> Disclosure:
    """Log that the document is given to someone outside the agency, if the releases allow it
    (checked again under lock); only document_give calls it, with the file it hands over. The
    same form sent twice (a double click) is one disclosure."""
    description = (
        f"{document.get_kind_display()} dated {document.dated_on:%b %-d, %Y}: {document.title}"
    )
    with transaction.atomic():
        submission = submission_claim(
            agency=document.client.agency, by=by, purpose=DOCUMENT_GIVE, key=submission_key
        )
        if submission.earlier_object_id is not None:
            return earlier_submission(
                Disclosure, submission.earlier_object_id, client=document.client
            )
        try:
            disclosure = disclosure_record(
                sharing=sharing,
                logged=Logged(
                    channel=Disclosure.Channel.DOCUMENT,
                    description=description,
                    object_type="coordination.document",
                    object_id=str(document.pk),
                ),
                by=by,
            )
        except DisclosureRefused as refusal:
            raise CoordinationError(str(refusal)) from None
        audit_record(
            actor=by,
            action=Action.EXPORT,
            obj=document,
            client_id=document.client_id,
            detail={"disclosure": disclosure.pk, "part2": disclosure.part2},
        )
        submission_complete(submission, disclosure.pk)
    return disclosure


@dataclass(frozen=True)
class ServedFile:
    """A file to send: the stored one as it is, or one made for this purpose (`content`)."""

    filename: str
    content_type: str
    content: bytes | None = None


def document_give(
    *,
    document: Document,
    organization: Organization | None,
    person: Person | None,
    by: User,
    submission_key: str = "",
) -> tuple[Disclosure, ServedFile]:
    """Log the disclosure and make the file to hand over, both or neither: a Part 2 record
    gets the § 2.32 notice as its first page.

    The notice copy is made after a first check and before the disclosure is logged, so the
    audit log (locked while the disclosure is written) never waits for a PDF to render.
    """
    sharing = _check_may_give(document, organization, person, by)
    verdict = disclosure_check(sharing=sharing)
    if not verdict.allowed:
        raise CoordinationError(verdict.refusal)
    if not sharing.part2:
        disclosure = _log_release(
            document=document, sharing=sharing, by=by, submission_key=submission_key
        )
        return disclosure, ServedFile(document.original_name, document.content_type)
    pdf = document_with_notice(
        document=document, recipient=sharing.recipient_name, on=document.client.agency.today()
    )
    disclosure = _log_release(
        document=document, sharing=sharing, by=by, submission_key=submission_key
    )
    stem = os.path.splitext(document.original_name)[0]
    return disclosure, ServedFile(f"{stem}.pdf", PDF, pdf)


# ---- PDFs made from a document ---------------------------------------------------------------


PAGE_PIXELS = (2550, 3300)
PageImages = dict[str, tuple[bytes, str]]  # address in the HTML -> (bytes, content type)


def _fetcher(images: PageImages) -> Any:
    """Loads the document's own images and nothing else (no file, no web address). The
    addresses are opaque, so WeasyPrint's log of a failed load never holds the image."""
    try:
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except ImportError:  # WeasyPrint before 66 takes a function returning a dict

        def fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if url not in images:
                raise ValueError("Only the document's own pages are loaded.")
            return {"string": images[url][0], "mime_type": images[url][1]}

        return fetch

    class OwnPagesOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url not in images:
                raise ValueError("Only the document's own pages are loaded.")
            data, content_type = images[url]
            return URLFetcherResponse(url, data, {"Content-Type": content_type})

    return OwnPagesOnly()


def _weasyprint(html: str, images: PageImages) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which only this needs

    return bytes(HTML(string=html, url_fetcher=_fetcher(images)).write_pdf())


def _image_pages(document: Document) -> PageImages:
    """The document's image, a page each (every page of a TIFF scan)."""
    with document.file.open("rb") as stored:
        data = stored.read()
    if document.content_type in BROWSER_IMAGES:
        return {"casework-page:1": (data, document.content_type)}
    pages: PageImages = {}
    with Image.open(io.BytesIO(data)) as image:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > MAX_FRAMES:
                break
            page = frame.convert("RGB")
            page.thumbnail(PAGE_PIXELS)  # a letter page at 300 dpi is plenty to read
            buffer = io.BytesIO()
            page.save(buffer, "PNG")
            pages[f"casework-page:{number}"] = (buffer.getvalue(), "image/png")
    return pages


def _render(document: Document, *, notice: dict[str, Any] | None) -> bytes:
    images = {} if document.content_type == PDF else _image_pages(document)
    html = render_to_string(
        "coordination/_document_pdf.html",
        {"document": document, "notice": notice, "images": list(images)},
    )
    return _weasyprint(html, images)


def document_as_pdf(*, document: Document) -> bytes:
    """An image document (a multi-page TIFF scan above all) as a PDF a browser can show."""
    return _render(document, notice=None)


def document_with_notice(*, document: Document, recipient: str, on: datetime.date) -> bytes:
    """The document as a PDF whose first page is the 42 CFR 2.32 notice, for `recipient`."""
    notice = {
        "text": part2_texts()["notice_to_accompany_disclosure"],
        "recipient": recipient,
        "made_on": on,
    }
    front = _render(document, notice=notice)
    if document.content_type != PDF:
        return front
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)))
    with document.file.open("rb") as stored:
        data = stored.read()
    try:
        writer.append(PdfReader(io.BytesIO(data)))
    except Exception:  # pypdf raises many kinds of error on a broken file
        raise CoordinationError(
            "This PDF cannot be read to put the Part 2 notice in front of it. Scan or save the "
            "document again, add that copy, and give it instead."
        ) from None
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
