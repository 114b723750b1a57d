"""Directory pages: search, an organisation with its people, adding and correcting entries, and
loading entries from a spreadsheet.

Everyone who works with charts searches and adds (403 for other roles); supervisors and admins
correct, deactivate and import. Lookups start from the user's agency: another agency's id is 404.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from casework.coordination import directory_import as csv_import
from casework.coordination import selectors_directory as selectors
from casework.coordination import services_directory as services
from casework.coordination.forms_directory import (
    DirectorySearchForm,
    ImportUploadForm,
    OrganizationForm,
    PersonForm,
)
from casework.coordination.models import Organization
from casework.core import access
from casework.core.idempotency import submission_result
from casework.core.models import User

RESULTS_PER_PAGE = 50
IMPORT_SESSION_KEY = "directory_import"


def directory_user(request: HttpRequest) -> User:
    if not access.may_use_directory(request.user):
        raise PermissionDenied("Your role does not use the directory.")
    return request.user  # type: ignore[return-value]


def curator(request: HttpRequest) -> User:
    user = directory_user(request)
    if not access.may_curate_directory(user):
        raise PermissionDenied("Only supervisors and admins change directory entries.")
    return user


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _show_error(form: BaseForm, error: services.DirectoryError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


# ---------------------------------------------------------------------------- search


@login_required
def directory_search(request: HttpRequest) -> HttpResponse:
    user = directory_user(request)
    form = DirectorySearchForm(request.GET or None)
    search = form.search() if request.GET else selectors.DirectorySearch()
    page = Paginator(
        selectors.organization_search(user=user, search=search), RESULTS_PER_PAGE
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "search": search,
        "page": page,
        "people": selectors.people_search(user=user, text=search.text),
        "query_string": query.urlencode(),
        "may_curate": access.may_curate_directory(user),
    }
    template = (
        "coordination/directory_results.html"
        if request.htmx  # type: ignore[attr-defined]
        else "coordination/directory.html"
    )
    return render(request, template, context)


@login_required
def directory_organization(request: HttpRequest, organization_id: int) -> HttpResponse:
    user = directory_user(request)
    organization = selectors.organization_with_people(user, organization_id)
    return render(
        request,
        "coordination/directory_organization.html",
        {
            "organization": organization,
            "people": list(organization.people.all()),
            "may_curate": access.may_curate_directory(user),
        },
    )


# ---------------------------------------------------------------------------- organisations


@login_required
def directory_organization_new(request: HttpRequest) -> HttpResponse:
    user = directory_user(request)
    assert user.agency is not None
    key = request.POST.get("submission_key", "")
    earlier = submission_result(
        agency=user.agency, by=user, purpose=services.ORGANIZATION_CREATE, key=key
    )
    if request.method == "POST" and earlier is not None:
        return redirect("directory_organization", earlier)
    form = OrganizationForm(
        _posted(request),
        initial={"submission_key": uuid.uuid4().hex, "accepting_referrals": True},
    )
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(
                by=user, details=form.details(), submission_key=form.cleaned_data["submission_key"]
            )
        except services.DirectoryError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Added {organization.name} to the directory.")
            return redirect("directory_organization", organization.pk)
    return render(request, "coordination/directory_organization_form.html", {"form": form})


@login_required
def directory_organization_edit(request: HttpRequest, organization_id: int) -> HttpResponse:
    user = curator(request)
    organization = selectors.organization_with_people(user, organization_id)
    form = OrganizationForm(_posted(request), initial=OrganizationForm.initial_of(organization))
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(
                organization=organization,
                by=user,
                details=form.details(),
                seen_updated_at=parse_datetime(form.cleaned_data["seen"] or ""),
            )
        except services.DirectoryError as error:
            _show_error(form, error)
            stale = error.field is None
        else:
            messages.success(request, f"Saved {form.cleaned_data['name']}.")
            return redirect("directory_organization", organization.pk)
    if stale:
        # Their save was refused: the next one compares against the entry as it is now.
        organization.refresh_from_db()
        fresh = cast(QueryDict, form.data).copy()
        fresh["seen"] = organization.updated_at.isoformat()
        form.data = fresh
    return render(
        request,
        "coordination/directory_organization_form.html",
        {"form": form, "organization": organization},
    )


@login_required
@require_POST
def directory_organization_active(request: HttpRequest, organization_id: int) -> HttpResponse:
    user = curator(request)
    organization = selectors.organization_or_404(user, organization_id)
    active = request.POST.get("active") == "1"
    services.organization_set_active(organization=organization, by=user, active=active)
    messages.success(
        request,
        f"{organization.name} is {'back in' if active else 'no longer shown in'} the directory.",
    )
    return redirect("directory_organization", organization.pk)


# ---------------------------------------------------------------------------- people


def _organization_of(user: User, request: HttpRequest) -> Organization | None:
    wanted = request.GET.get("organization", "")
    if not wanted.isdigit():
        return None
    return selectors.organizations_to_pick(user).filter(pk=int(wanted)).first()


@login_required
def directory_person_new(request: HttpRequest) -> HttpResponse:
    user = directory_user(request)
    assert user.agency is not None
    key = request.POST.get("submission_key", "")
    earlier = submission_result(
        agency=user.agency, by=user, purpose=services.PERSON_CREATE, key=key
    )
    if request.method == "POST" and earlier is not None:
        person = selectors.person_or_404(user, earlier)
        return _after_person(person.organization_id)
    organization = _organization_of(user, request)
    form = PersonForm(
        _posted(request),
        initial={"submission_key": uuid.uuid4().hex, "organization": organization},
        organizations=selectors.organizations_to_pick(user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_create(
                by=user, details=form.details(), submission_key=form.cleaned_data["submission_key"]
            )
        except services.DirectoryError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Added {person.name} to the directory.")
            return _after_person(person.organization_id)
    return render(
        request,
        "coordination/directory_person_form.html",
        {"form": form, "organization": organization},
    )


def _after_person(organization_id: int | None) -> HttpResponse:
    if organization_id is not None:
        return redirect("directory_organization", organization_id)
    return redirect("directory_search")


@login_required
def directory_person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    user = curator(request)
    person = selectors.person_or_404(user, person_id)
    form = PersonForm(
        _posted(request),
        initial={
            "name": person.name,
            "role": person.role,
            "organization": person.organization,
            "phone": person.phone,
            "email": person.email,
        },
        organizations=selectors.organizations_to_pick(user, keep=person.organization),
    )
    if request.method == "POST" and form.is_valid():
        try:
            person = services.person_update(person=person, by=user, details=form.details())
        except services.DirectoryError as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Saved {person.name}.")
            return _after_person(person.organization_id)
    return render(
        request, "coordination/directory_person_form.html", {"form": form, "person": person}
    )


@login_required
@require_POST
def directory_person_active(request: HttpRequest, person_id: int) -> HttpResponse:
    user = curator(request)
    person = selectors.person_or_404(user, person_id)
    active = request.POST.get("active") == "1"
    services.person_set_active(person=person, by=user, active=active)
    messages.success(
        request, f"{person.name} is {'back in' if active else 'no longer shown in'} the directory."
    )
    return _after_person(person.organization_id)


# ---------------------------------------------------------------------------- import


@login_required
def directory_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV file and see, line by line, what importing it would do."""
    user = curator(request)
    form = ImportUploadForm(_posted(request), request.FILES or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(csv_import.MAX_BYTES + 1)
        preview = csv_import.directory_csv_read(data=data, agency_id=access.agency_id_of(user))
        if preview.ok:
            request.session[IMPORT_SESSION_KEY] = {
                "data": base64.b64encode(data).decode("ascii"),
                "sha256": preview.sha256,
            }
        else:
            request.session.pop(IMPORT_SESSION_KEY, None)
    return render(
        request,
        "coordination/directory_import.html",
        {"form": form, "preview": preview, "columns": csv_import.COLUMNS},
    )


@login_required
@require_POST
def directory_import_confirm(request: HttpRequest) -> HttpResponse:
    user = curator(request)
    kept = request.session.get(IMPORT_SESSION_KEY) or {}
    if not kept or kept.get("sha256") != request.POST.get("sha256"):
        messages.error(request, "That preview has expired. Upload the file again.")
        return redirect("directory_import")
    try:
        result = csv_import.directory_import_apply(data=base64.b64decode(kept["data"]), by=user)
    except services.DirectoryError as error:
        messages.error(request, str(error))
        return redirect("directory_import")
    request.session.pop(IMPORT_SESSION_KEY, None)
    messages.success(
        request,
        f"Imported the file: {result.created} added, {result.updated} updated, "
        f"{result.unchanged} unchanged.",
    )
    return redirect("directory_search")


@login_required
def directory_import_sample(request: HttpRequest) -> HttpResponse:
    curator(request)
    response = HttpResponse(csv_import.sample_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="casework-directory-sample.csv"'
    return response
