"""Client document pages: the chart's documents, adding one, seeing it, giving it to someone.

Files are served only through these views, after the access check, with headers that keep a
browser from guessing the type, caching the file or running anything in it. Every read is
audited, and so is a refused one (without saying what was asked for beyond the ids).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from casework.clients.forms import emergency_access_form
from casework.clients.models import Client
from casework.clients.services import audit_chart_read
from casework.coordination import selectors_documents as selectors
from casework.coordination import services_documents as services
from casework.coordination.errors import CoordinationError
from casework.coordination.forms_documents import (
    DocumentReleaseForm,
    DocumentRemoveForm,
    DocumentUploadForm,
)
from casework.coordination.models import Document
from casework.coordination.pages import chart_page
from casework.coordination.uploads import megabytes
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_result
from casework.core.models import User

PAGE_SIZE = 50
NO_PDF = (
    "The file could not be prepared. If this keeps happening, tell your administrator: the "
    "server needs the Pango library to make PDFs (Debian: libpango-1.0-0 libpangoft2-1.0-0)."
)


def _reader(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not access.may_read_narratives(user):
        raise PermissionDenied("Your role does not read documents in charts.")
    return user


def _writer(request: HttpRequest) -> User:
    user = _reader(request)
    if not access.may_coordinate(user):
        raise PermissionDenied("Your role does not add or change documents in charts.")
    return user


def _client(user: User, client_id: int) -> Client:
    try:
        return access.client_or_404(user, client_id)
    except Http404:
        audit_record(
            actor=user,
            action=Action.VIEW,
            object_type="clients.client",
            object_id=client_id,
            detail={"refused": True, "section": "documents"},
        )
        raise


def _document(
    user: User, client_id: int, document_id: int, *, action: str, content: bool = True
) -> Document:
    """The document, or a 404 that is audited: someone asked for a file they may not have.
    With `content`, a Part 2 document the user may not open is a 403 that says why."""
    try:
        document = selectors.document_or_404(
            user=user, client_id=client_id, document_id=document_id
        )
    except Http404:
        # Recorded as a refused read whatever was asked: nothing was changed or sent.
        audit_record(
            actor=user,
            action=Action.VIEW,
            object_type="coordination.document",
            object_id=document_id,
            detail={"refused": True, "client": client_id, "asked": action},
        )
        raise
    if content and (withheld := access.part2_document_withheld(user, document)):
        audit_record(
            actor=user,
            action=Action.VIEW,
            obj=document,
            client_id=document.client_id,
            detail={"refused": True, "part2": True, "asked": action},
        )
        raise PermissionDenied(withheld)
    return document


def _audit_read(user: User, document: Document, action: str, how: str, **more: Any) -> None:
    audit_record(
        actor=user,
        action=action,
        obj=document,
        client_id=document.client_id,
        detail={"how": how, **more},
    )


def _serve(
    document: Document, *, attachment: bool, made: services.ServedFile | None = None
) -> FileResponse:
    if made is not None and made.content is not None:
        body: Any = io.BytesIO(made.content)
        filename, content_type = made.filename, made.content_type
    else:
        body = document.file.open("rb")
        filename, content_type = document.original_name, document.content_type
    response = FileResponse(
        body, as_attachment=attachment, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if not attachment:
        # Whatever a file holds (a script in a PDF, say) runs nowhere near the site.
        response["Content-Security-Policy"] = "sandbox"
    return response


@login_required
@require_GET
def document_list(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = _client(user, client_id)
    documents = selectors.client_documents(user=user, client=client)
    page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_chart_read(user=user, client=client, what="documents")
    return chart_page(
        request,
        "coordination/documents_list.html",
        client,
        {"page": page, "may_coordinate": access.may_coordinate(user)},
    )


@login_required
def document_upload(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _writer(request)
    client = _client(user, client_id)
    posted = request.method == "POST"
    key = request.POST.get("submission_key", "") if posted else ""
    earlier = submission_result(
        agency=client.agency, by=user, purpose=services.DOCUMENT_UPLOAD, key=key
    )
    if earlier is not None:  # the same form sent twice: show what the first one added
        return redirect("document_detail", client.pk, earlier)
    form = DocumentUploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        max_size=megabytes(settings.CASEWORK_MAX_UPLOAD_BYTES),
        initial={"submission_key": uuid.uuid4().hex, "dated_on": client.agency.today()},
    )
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            document = services.document_upload(
                client=client,
                uploaded_file=data["file"],
                kind=data["kind"],
                title=data["title"],
                dated_on=data["dated_on"],
                part2=data["part2"],
                by=user,
                submission_key=data["submission_key"],
            )
        except CoordinationError as error:
            field = getattr(error, "field", None)
            form.add_error(field if field in form.fields else None, str(error))
        else:
            messages.success(request, "Document added to the chart.")
            return redirect("document_detail", client.pk, document.pk)
    if not posted:
        audit_chart_read(user=user, client=client, what="documents: add")
    return chart_page(
        request,
        "coordination/documents_upload.html",
        client,
        {"form": form, "file_sent": posted and bool(request.FILES)},
        status=400 if form.errors else 200,
    )


def _detail(
    request: HttpRequest,
    user: User,
    document: Document,
    remove_form: DocumentRemoveForm,
    status: int = 200,
) -> HttpResponse:
    _audit_read(user, document, Action.VIEW, "page")
    withheld = access.part2_document_withheld(user, document)
    preview = "image" if document.content_type in services.BROWSER_IMAGES else "pdf"
    return chart_page(
        request,
        "coordination/documents_detail.html",
        document.client,
        {
            "document": document,
            "preview": preview,
            "withheld": withheld,
            "emergency_form": emergency_access_form()
            if access.may_open_part2_in_emergency(user, document.client, withheld)
            else None,
            "remove_form": remove_form,
            "may_coordinate": access.may_coordinate(user),
        },
        status=status,
    )


@login_required
@require_GET
def document_detail(request: HttpRequest, client_id: int, document_id: int) -> HttpResponse:
    user = _reader(request)
    document = _document(user, client_id, document_id, action=Action.VIEW, content=False)
    return _detail(request, user, document, DocumentRemoveForm())


@login_required
@require_GET
@xframe_options_sameorigin
def document_inline(request: HttpRequest, client_id: int, document_id: int) -> HttpResponseBase:
    """The file itself, to show in the detail page's frame (a TIFF scan becomes a PDF)."""
    user = _reader(request)
    document = _document(user, client_id, document_id, action=Action.VIEW)
    made = None
    if document.content_type not in services.BROWSER_IMAGES | {"application/pdf"}:
        try:
            pdf = services.document_as_pdf(document=document)
        except (OSError, Image.DecompressionBombError):
            return HttpResponse(NO_PDF, status=503, content_type="text/plain; charset=utf-8")
        stem = document.original_name.rsplit(".", 1)[0]
        made = services.ServedFile(f"{stem}.pdf", "application/pdf", pdf)
    _audit_read(user, document, Action.VIEW, "inline")
    return _serve(document, attachment=False, made=made)


@login_required
@require_GET
def document_download(request: HttpRequest, client_id: int, document_id: int) -> HttpResponseBase:
    user = _reader(request)
    document = _document(user, client_id, document_id, action=Action.EXPORT)
    _audit_read(user, document, Action.EXPORT, "download")
    return _serve(document, attachment=True)


@login_required
@require_POST
def document_remove(request: HttpRequest, client_id: int, document_id: int) -> HttpResponse:
    user = _writer(request)
    document = _document(user, client_id, document_id, action=Action.DELETE)
    form = DocumentRemoveForm(request.POST)
    if form.is_valid():
        try:
            services.document_remove(document=document, reason=form.cleaned_data["reason"], by=user)
        except CoordinationError as error:
            form.add_error("reason" if getattr(error, "field", None) else None, str(error))
        else:
            messages.success(request, "Document removed from the chart.")
            return redirect("document_list", document.client_id)
    return _detail(request, user, document, form, status=400)


@login_required
def document_release(request: HttpRequest, client_id: int, document_id: int) -> HttpResponseBase:
    """Give the document to someone in the directory: checked against the client's releases,
    logged as a disclosure, and sent to the browser as a download to hand over."""
    user = _writer(request)
    posted = request.method == "POST"
    action = Action.EXPORT if posted else Action.VIEW
    document = _document(user, client_id, document_id, action=action)
    form = DocumentReleaseForm(
        request.POST if posted else None,
        initial={"submission_key": uuid.uuid4().hex},
        organizations=selectors.directory_organizations(user=user),
        people=selectors.directory_people(user=user),
    )
    if posted and form.is_valid():
        try:
            _, made = services.document_give(
                document=document,
                organization=form.cleaned_data["organization"],
                person=form.cleaned_data["person"],
                by=user,
                submission_key=form.cleaned_data["submission_key"],
            )
        except CoordinationError as error:
            form.add_error(None, str(error))
        except (OSError, Image.DecompressionBombError):
            form.add_error(None, NO_PDF)
        else:
            return _serve(document, attachment=True, made=made)
    _audit_read(user, document, Action.VIEW, "give")
    return chart_page(
        request,
        "coordination/documents_release.html",
        document.client,
        {
            "document": document,
            "form": form,
            "releases": selectors.document_releases_in_force(client=document.client),
        },
        status=400 if form.errors else 200,
    )
