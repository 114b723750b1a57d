"""Communications log, letters and letter templates: parse, call a service or selector, render."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from casework.clients.models import Client
from casework.clients.services import audit_chart_read
from casework.coordination import letters
from casework.coordination import selectors_communications as selectors
from casework.coordination import services_communications as services
from casework.coordination.disclosure import part2_texts, still_covered
from casework.coordination.errors import CoordinationError
from casework.coordination.forms_communications import (
    CommunicationForm,
    LetterForm,
    LetterStartForm,
    LetterTemplateForm,
)
from casework.coordination.letters import PLACEHOLDERS, letter_pdf
from casework.coordination.models import Category, Letter, LetterTemplate
from casework.coordination.pages import chart_page
from casework.coordination.selectors_consents import directory_organizations, directory_people
from casework.core import access
from casework.core.idempotency import submission_result
from casework.core.models import User
from casework.notes.models import Note


def _reader(request: HttpRequest) -> User:
    """Communications and letters hold what was said: chart readers who may read narratives."""
    user = request.user
    if not access.may_use_client_registry(user):
        raise PermissionDenied("Your role does not include client records.")
    if not access.may_read_narratives(user):  # type: ignore[arg-type]
        raise PermissionDenied("Your role does not include communications with others.")
    return user  # type: ignore[return-value]


def _coordinator(request: HttpRequest) -> User:
    user = _reader(request)
    if not access.may_coordinate(user):
        raise PermissionDenied("Your role can read communications but not record them.")
    return user


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not access.may_manage_staff(user):
        raise PermissionDenied("Only agency admins change letter templates.")
    return user  # type: ignore[return-value]


def _field(form: Any, error: CoordinationError) -> str | None:
    field = getattr(error, "field", None)
    return field if field in form.fields else None


# ---- Communications ------------------------------------------------------------------------


@login_required
@require_GET
def communication_list(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    audit_chart_read(user=user, client=client, what="communications")
    context = {
        "page": selectors.client_communications(client=client, page=request.GET.get("page", 1)),
        "may_record": access.may_coordinate(user),
        "may_write_notes": access.may_write_notes(user),
        "submission_key": uuid.uuid4().hex,
    }
    return chart_page(request, "coordination/communication_list.html", client, context)


def _communication_form(user: User, client: Client, data: Any = None) -> CommunicationForm:
    assert client.agency is not None
    return CommunicationForm(
        data,
        agency=client.agency,
        organizations=directory_organizations(user=user),
        people=directory_people(user=user),
    )


@login_required
def communication_new(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _coordinator(request)
    client = access.client_or_404(user, client_id)
    if request.method != "POST":
        audit_chart_read(user=user, client=client, what="communication form")
        form = _communication_form(user, client)
        return chart_page(request, "coordination/communication_form.html", client, {"form": form})
    assert client.agency is not None
    key = request.POST.get("submission_key", "")[:64]
    earlier = submission_result(
        agency=client.agency, by=user, purpose=services.COMMUNICATION_LOG, key=key
    )
    if earlier is not None:
        return redirect("communication_list", client.pk)
    form = _communication_form(user, client, request.POST)
    if form.is_valid():
        try:
            services.communication_log(
                client=client, by=user, entry=form.entry(), submission_key=key
            )
        except CoordinationError as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(request, "Contact logged.")
            return redirect("communication_list", client.pk)
    return chart_page(
        request, "coordination/communication_form.html", client, {"form": form}, status=400
    )


@login_required
@require_POST
def communication_note(request: HttpRequest, client_id: int, communication_id: int) -> HttpResponse:
    """Start (or open) the billable collateral-contact note for the contact."""
    user = _reader(request)
    if not access.may_write_notes(user):
        raise PermissionDenied("Your role does not write service notes.")
    client = access.client_or_404(user, client_id)
    communication = selectors.communication_or_404(client=client, communication_id=communication_id)
    try:
        note = services.communication_note_start(
            communication=communication,
            by=user,
            submission_key=request.POST.get("submission_key", "")[:64],
        )
    except CoordinationError as error:
        messages.error(request, str(error))
        return redirect("communication_list", client.pk)
    if note.author_id != user.pk or note.status != Note.Status.DRAFT:
        return redirect("note_detail", note.pk)
    return redirect("note_edit", note.pk)


# ---- Letters -------------------------------------------------------------------------------


@login_required
@require_GET
def letter_list(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    audit_chart_read(user=user, client=client, what="letters")
    context = {
        "letters": selectors.client_letters(client=client),
        "may_record": access.may_coordinate(user),
    }
    return chart_page(request, "coordination/letter_list.html", client, context)


def _start_form(user: User, data: Any = None) -> LetterStartForm:
    return LetterStartForm(
        data,
        templates=selectors.letter_templates(user=user),
        organizations=directory_organizations(user=user),
        people=directory_people(user=user),
    )


@login_required
def letter_new(request: HttpRequest, client_id: int) -> HttpResponse:
    """Choose the letter and its recipient; the draft opens with the placeholders filled in."""
    user = _coordinator(request)
    client = access.client_or_404(user, client_id)
    assert client.agency is not None
    if request.method != "POST":
        audit_chart_read(user=user, client=client, what="letter form")
        return chart_page(
            request, "coordination/letter_new.html", client, {"form": _start_form(user)}
        )
    key = request.POST.get("submission_key", "")[:64]
    earlier = submission_result(
        agency=client.agency, by=user, purpose=letters.LETTER_START, key=key
    )
    if earlier is not None:
        return redirect("letter_detail", client.pk, earlier)
    form = _start_form(user, request.POST)
    if form.is_valid():
        try:
            letter = letters.letter_start(
                client=client,
                by=user,
                template=form.cleaned_data["template"],
                organization=form.cleaned_data["organization"],
                person=form.cleaned_data["person"],
                submission_key=key,
            )
        except CoordinationError as error:
            form.add_error(_field(form, error), str(error))
        else:
            return redirect("letter_detail", client.pk, letter.pk)
    return chart_page(request, "coordination/letter_new.html", client, {"form": form}, status=400)


def _letter_page(
    request: HttpRequest,
    user: User,
    client: Client,
    letter: Letter,
    form: LetterForm | None = None,
    status: int = 200,
) -> HttpResponse:
    assert client.agency is not None
    issued = letter.issued_at is not None
    editable = not issued and access.may_coordinate(user)
    if form is None and editable:
        form = LetterForm(initial={"subject": letter.subject, "body": letter.body})
    disclosure = letter.disclosure if issued else None
    labels = dict(Category.choices)
    context = {
        "letter": letter,
        "agency": client.agency,
        "form": form,
        "editable": editable,
        "categories": [labels.get(code, code) for code in letter.categories],
        "part2": disclosure.part2 if disclosure is not None else letters.letter_part2(letter),
        "part2_notice": part2_texts()["notice_to_accompany_disclosure"]
        if disclosure is not None and disclosure.part2
        else "",
        "consent": disclosure.consent if disclosure is not None else None,
        "dated": letter.issued_at if letter.issued_at is not None else timezone.now(),
    }
    return chart_page(request, "coordination/letter_detail.html", client, context, status)


@login_required
def letter_detail(request: HttpRequest, client_id: int, letter_id: int) -> HttpResponse:
    """The letter and its preview; a draft's subject and text are changed here."""
    user = _reader(request) if request.method != "POST" else _coordinator(request)
    client = access.client_or_404(user, client_id)
    letter = selectors.letter_or_404(client=client, letter_id=letter_id)
    if request.method != "POST":
        audit_chart_read(user=user, client=client, what="letter")
        return _letter_page(request, user, client, letter)
    if letter.issued_at is not None:
        messages.error(request, "This letter was issued and is kept as sent; write a new one.")
        return redirect("letter_detail", client.pk, letter.pk)
    form = LetterForm(request.POST)
    saved = _save_draft(user, letter, form)
    if saved is None:
        return _letter_page(request, user, client, letter, form, status=400)
    messages.success(request, "Draft saved. The preview below shows it as it will print.")
    return redirect("letter_detail", client.pk, letter.pk)


def _save_draft(user: User, letter: Letter, form: LetterForm) -> Letter | None:
    if not form.is_valid():
        return None
    try:
        return letters.letter_save(
            letter=letter,
            by=user,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
        )
    except CoordinationError as error:
        form.add_error(_field(form, error), str(error))
        return None


@login_required
@require_POST
def letter_issue(request: HttpRequest, client_id: int, letter_id: int) -> HttpResponse:
    """Save the draft as shown, then issue it: checked against the releases and logged."""
    user = _coordinator(request)
    client = access.client_or_404(user, client_id)
    letter = selectors.letter_or_404(client=client, letter_id=letter_id)
    if letter.issued_at is None and "body" in request.POST:
        form = LetterForm(request.POST)
        saved = _save_draft(user, letter, form)
        if saved is None:
            return _letter_page(request, user, client, letter, form, status=400)
    try:
        letters.letter_issue(letter=letter, by=user)
    except CoordinationError as error:
        messages.error(request, str(error))
        return redirect("letter_detail", client.pk, letter.pk)
    messages.success(request, "Letter issued and logged as a disclosure. Download it below.")
    return redirect("letter_detail", client.pk, letter.pk)


@login_required
@require_GET
def letter_download(request: HttpRequest, client_id: int, letter_id: int) -> HttpResponse:
    """The issued letter as a PDF; a draft has none (nothing leaves before it is issued)."""
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    letter = selectors.letter_or_404(client=client, letter_id=letter_id)
    if letter.issued_at is None or letter.disclosure is None:
        raise Http404("This letter is a draft: issue it first.")
    if refusal := still_covered(letter.disclosure):
        messages.error(request, f"The letter cannot be downloaded to send again. {refusal}")
        return redirect("letter_detail", client.pk, letter.pk)
    return letter_pdf(letter, user=user)


# ---- Letter templates (agency admins) ------------------------------------------------------


@login_required
@require_GET
def letter_template_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    labels = dict(Category.choices)
    templates = [
        (t, [labels.get(code, code) for code in t.categories])
        for t in selectors.letter_templates(user=user, active_only=False)
    ]
    context = {"templates": templates, "defaults": letters.default_templates()}
    return render(request, "coordination/letter_template_list.html", context)


@login_required
@require_POST
def letter_template_defaults(request: HttpRequest) -> HttpResponse:
    """Add the standard letters to an agency that has no templates yet."""
    user = _admin(request)
    assert user.agency is not None
    letters.letter_templates_seed(agency=user.agency, by=user)
    messages.success(request, "The standard letters were added; change them to suit your agency.")
    return redirect("letter_template_list")


def _template_page(
    request: HttpRequest,
    form: LetterTemplateForm,
    template: LetterTemplate | None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "template": template, "placeholders": PLACEHOLDERS}
    return render(request, "coordination/letter_template_form.html", context, status=status)


@login_required
def letter_template_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    assert user.agency is not None
    if request.method != "POST":
        initial = {
            "is_active": True,
            "categories": ["demographics"],
            "submission_key": uuid.uuid4().hex,
        }
        return _template_page(request, LetterTemplateForm(initial=initial), None)
    key = request.POST.get("submission_key", "")[:64]
    earlier = submission_result(
        agency=user.agency, by=user, purpose=letters.LETTER_TEMPLATE_CREATE, key=key
    )
    if earlier is not None:
        return redirect("letter_template_list")
    form = LetterTemplateForm(request.POST)
    if form.is_valid():
        try:
            letters.letter_template_save(by=user, text=form.text(), submission_key=key)
        except CoordinationError as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(request, "Letter template saved.")
            return redirect("letter_template_list")
    return _template_page(request, form, None, status=400)


@login_required
def letter_template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    # Another agency's template is not found; a colleague who is not an admin is refused.
    template = selectors.letter_template_or_404(
        user=request.user,  # type: ignore[arg-type]
        template_id=template_id,
    )
    user = _admin(request)
    if request.method != "POST":
        initial = {
            "name": template.name,
            "body": template.body,
            "categories": template.categories,
            "is_active": template.is_active,
        }
        return _template_page(request, LetterTemplateForm(initial=initial), template)
    form = LetterTemplateForm(request.POST)
    if form.is_valid():
        try:
            letters.letter_template_save(by=user, text=form.text(), template=template)
        except CoordinationError as error:
            form.add_error(_field(form, error), str(error))
        else:
            messages.success(request, "Letter template saved.")
            return redirect("letter_template_list")
    return _template_page(request, form, template, status=400)
