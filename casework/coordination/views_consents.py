"""Release-of-information pages and the client's accounting of disclosures: parse, call, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from casework.clients.models import Client
from casework.clients.services import audit_chart_read
from casework.coordination import selectors_consents as selectors
from casework.coordination import services_consents as services
from casework.coordination.accounting import accounting_pdf, disclosure_accounting, pdf_response
from casework.coordination.disclosure import part2_texts
from casework.coordination.forms_consents import EndedForm, ReleaseForm, RevokeForm
from casework.coordination.models import Consent, Purpose
from casework.coordination.pages import chart_page
from casework.core import access
from casework.core.audit import Action, audit_record
from casework.core.idempotency import submission_result
from casework.core.models import User


def _reader(request: HttpRequest) -> User:
    """Releases and what went out under them name recipients (a substance-use program, say) and
    describe documents: they are read by those who read the chart's narratives."""
    user = request.user
    if not access.may_use_client_registry(user) or not access.may_read_narratives(user):  # type: ignore[arg-type]
        raise PermissionDenied("Your role does not include releases of information.")
    return user  # type: ignore[return-value]


def _coordinator(request: HttpRequest) -> User:
    user = _reader(request)
    if not access.may_coordinate(user):
        raise PermissionDenied("Your role can read releases but not record them.")
    return user


@login_required
@require_GET
def release_list(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    audit_chart_read(user=user, client=client, what="releases")
    assert client.agency is not None
    in_force, ended = selectors.client_releases(
        client=client, now=timezone.now(), today=client.agency.today()
    )
    context = {"in_force": in_force, "ended": ended, "may_record": access.may_coordinate(user)}
    return chart_page(request, "coordination/release_list.html", client, context)


def _release_form(
    user: User, client: Client, data: Any = None, for_print: bool = False
) -> ReleaseForm:
    assert client.agency is not None
    return ReleaseForm(
        data,
        client=client,
        today=client.agency.today(),
        organizations=selectors.directory_organizations(user=user),
        people=selectors.directory_people(user=user),
        documents=selectors.signed_consent_documents(client=client),
        for_print=for_print,
    )


def _unsaved(form: ReleaseForm, client: Client) -> Consent:
    """The release as typed, not saved: what the printed form for paper signing shows."""
    release = form.release()
    return Consent(
        agency_id=client.agency_id,
        client=client,
        organization=release.organization,
        person=release.person,
        purpose=release.purpose,
        purpose_detail=release.purpose_detail,
        categories=list(release.categories),
        starts_on=release.starts_on,
        expires_on=release.expires_on,
        expiry_event=services.ALL_FUTURE_TPO if release.all_future else release.expiry_event,
    )


def _release_pdf(consent: Consent, *, user: User, signed: bool) -> HttpResponse:
    client = consent.client
    assert client.agency is not None
    response = pdf_response(
        template="coordination/release_pdf.html",
        context={
            "consent": consent,
            "client": client,
            "agency": client.agency,
            "signed": signed,
            "statements": selectors.release_statements(consent.purpose, part2=consent.is_part2),
            "printed": client.agency.today(),
        },
        filename=f"release-{client.record_number}{f'-{consent.pk}' if consent.pk else ''}.pdf",
    )
    if response.status_code == 200:
        audit_record(
            actor=user,
            action=Action.EXPORT,
            object_type="coordination.consent",
            object_id=consent.pk or "",
            client_id=client.pk,
            detail={"what": "release form", "signed": signed},
        )
    return response


@login_required
def release_new(request: HttpRequest, client_id: int) -> HttpResponse:
    """Record a signed release; the "Print the form" button returns the form for paper signing."""
    user = _coordinator(request)
    client = access.client_or_404(user, client_id)
    if request.method != "POST":
        audit_chart_read(user=user, client=client, what="release form")
        return _new_page(request, client, _release_form(user, client))
    if request.POST.get("action") == "print":
        form = _release_form(user, client, request.POST, for_print=True)
        if form.is_valid():
            return _release_pdf(_unsaved(form, client), user=user, signed=False)
        return _new_page(request, client, form, status=400)
    assert client.agency is not None
    key = request.POST.get("submission_key", "")[:64]
    earlier = submission_result(
        agency=client.agency, by=user, purpose=services.CONSENT_RECORD, key=key
    )
    if earlier is not None:
        return redirect("release_detail", client.pk, earlier)
    form = _release_form(user, client, request.POST)
    if form.is_valid():
        try:
            consent = services.consent_record(
                client=client, by=user, release=form.release(), submission_key=key
            )
        except services.ReleaseError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, "Release recorded.")
            return redirect("release_detail", client.pk, consent.pk)
    return _new_page(request, client, form, status=400)


def _new_page(
    request: HttpRequest, client: Client, form: ReleaseForm, status: int = 200
) -> HttpResponse:
    texts = part2_texts()
    context = {
        "form": form,
        "part2_statements": [
            texts["tpo_consent_redisclosure_statement"],
            texts["revocation_statement"],
        ],
        "counseling_notes_rule": texts["counseling_notes_rule"],
    }
    return chart_page(request, "coordination/release_form.html", client, context, status)


def _detail_page(
    request: HttpRequest,
    user: User,
    client: Client,
    consent: Consent,
    revoke_form: RevokeForm | None = None,
    ended_form: EndedForm | None = None,
    status: int = 200,
) -> HttpResponse:
    assert client.agency is not None
    today = client.agency.today()
    context = {
        "consent": consent,
        "row": selectors.release_state(consent, now=timezone.now(), today=today),
        "disclosures": selectors.release_disclosures(consent=consent),
        "statements": selectors.release_statements(consent.purpose, part2=consent.is_part2),
        "may_record": access.may_coordinate(user),
        "revoke_form": revoke_form or RevokeForm(),
        "ended_form": ended_form or EndedForm(initial={"ended_on": today}),
        "show_ended": bool(ended_form and ended_form.errors)
        or (
            bool(consent.expiry_event)
            and consent.expiry_event != services.ALL_FUTURE_TPO
            and consent.ended_on is None
            and consent.revoked_at is None
        ),
        "is_tpo": consent.purpose == Purpose.TPO,
    }
    return chart_page(request, "coordination/release_detail.html", client, context, status)


@login_required
@require_GET
def release_detail(request: HttpRequest, client_id: int, consent_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    consent = selectors.release_or_404(client=client, consent_id=consent_id)
    audit_chart_read(user=user, client=client, what="release")
    return _detail_page(request, user, client, consent)


@login_required
@require_POST
def release_revoke(request: HttpRequest, client_id: int, consent_id: int) -> HttpResponse:
    user = _coordinator(request)
    client = access.client_or_404(user, client_id)
    consent = selectors.release_or_404(client=client, consent_id=consent_id)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.consent_revoke(consent=consent, by=user, note=form.cleaned_data["note"])
        except services.ReleaseError as error:
            form.add_error("note", str(error))
        else:
            messages.success(request, "Release revoked. Nothing more is shared under it.")
            return redirect("release_detail", client.pk, consent.pk)
    return _detail_page(request, user, client, consent, revoke_form=form, status=400)


@login_required
@require_POST
def release_end(request: HttpRequest, client_id: int, consent_id: int) -> HttpResponse:
    """The event the release ends on happened (e.g. the client was discharged)."""
    user = _coordinator(request)
    client = access.client_or_404(user, client_id)
    consent = selectors.release_or_404(client=client, consent_id=consent_id)
    form = EndedForm(request.POST)
    if form.is_valid():
        try:
            services.consent_end(consent=consent, by=user, ended_on=form.cleaned_data["ended_on"])
        except services.ReleaseError as error:
            form.add_error("ended_on", str(error))
        else:
            messages.success(request, "Recorded: the release has ended.")
            return redirect("release_detail", client.pk, consent.pk)
    return _detail_page(request, user, client, consent, ended_form=form, status=400)


@login_required
@require_GET
def release_pdf(request: HttpRequest, client_id: int, consent_id: int) -> HttpResponse:
    """The recorded release as a printable form, with the statements it carries."""
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    consent = selectors.release_or_404(client=client, consent_id=consent_id)
    return _release_pdf(consent, user=user, signed=True)


@login_required
@require_GET
def accounting_page(request: HttpRequest, client_id: int) -> HttpResponse:
    """Every disclosure of the client in the prior 3 years (HIPAA and 42 CFR Part 2)."""
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    audit_chart_read(user=user, client=client, what="accounting of disclosures")
    assert client.agency is not None
    accounting = disclosure_accounting(client=client, today=client.agency.today())
    return chart_page(request, "coordination/accounting.html", client, {"accounting": accounting})


@login_required
@require_GET
def accounting_download(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    assert client.agency is not None
    accounting = disclosure_accounting(client=client, today=client.agency.today())
    return accounting_pdf(accounting, user=user)
