"""Referral and prior-authorization pages: the caseload's open referrals, a client's referrals,
starting one, its packet and sending it, the steps after; requests to payers and their decisions.

Every chart page starts from `access.client_or_404`, so a client outside the user's scope is
404; roles that do not do this work get 403. Chart reads are audited.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.forms import BaseForm
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from casework.billing.models import Payer, ServiceCode
from casework.clients.models import Client
from casework.clients.services import audit_chart_read
from casework.coordination import packets
from casework.coordination import selectors_directory as directory
from casework.coordination import selectors_referrals as selectors
from casework.coordination import services_prior_auth as prior_auths
from casework.coordination import services_referrals as services
from casework.coordination.disclosure import still_covered
from casework.coordination.errors import CoordinationError
from casework.coordination.forms_referrals import (
    PacketForm,
    PriorAuthForm,
    PriorAuthStepForm,
    ReferralForm,
    ReferralStatusForm,
)
from casework.coordination.models import Category, PriorAuthRequest, Referral
from casework.coordination.pages import chart_page
from casework.core import access
from casework.core.audit import Action, audit_reads, audit_record
from casework.core.idempotency import submission_result
from casework.core.models import User

REFERRALS_PER_PAGE = 100


def _reader(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not access.may_read_narratives(user):
        raise PermissionDenied("Your role does not read referrals.")
    return user


def _writer(request: HttpRequest) -> User:
    if not access.may_coordinate(request.user):
        raise PermissionDenied("Your role does not record referrals.")
    return request.user  # type: ignore[return-value]


def _prior_auth_user(request: HttpRequest) -> User:
    if not prior_auths.may_record_prior_auths(request.user):
        raise PermissionDenied("Your role does not record prior authorizations.")
    return request.user  # type: ignore[return-value]


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _show_error(form: BaseForm, error: CoordinationError) -> None:
    field = getattr(error, "field", None)
    form.add_error(field if field in form.fields and field != "version" else None, str(error))


def _refresh_version(form: BaseForm, version: int) -> None:
    """After a refused save, the next one is compared with the record as it is now."""
    fresh = cast(QueryDict, form.data).copy()
    fresh["version"] = str(version)
    form.data = fresh


# ---------------------------------------------------------------------------- caseload


@login_required
def referral_caseload(request: HttpRequest) -> HttpResponse:
    """Open referrals of the clients the user works with, follow-ups due first."""
    user = _reader(request)
    assert user.agency is not None
    show = request.GET.get("show", "mine")
    if show not in selectors.CASELOAD_FILTERS:
        show = "mine"
    today = user.agency.today()
    page = Paginator(
        selectors.open_referrals(user=user, show=show, today=today), REFERRALS_PER_PAGE
    ).get_page(request.GET.get("page"))
    audit_reads(
        actor=user, client_ids=sorted({r.client_id for r in page}), section="open referrals"
    )
    return render(
        request,
        "coordination/referral_caseload.html",
        {
            "page": page,
            "show": show,
            "filters": list(selectors.CASELOAD_FILTERS.items()),
            "today": today,
        },
    )


# ---------------------------------------------------------------------------- one client


@login_required
def referral_list(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    referrals = list(selectors.client_referrals(user=user, client=client))
    audit_chart_read(user=user, client=client, what="referrals")
    return chart_page(
        request,
        "coordination/referral_list.html",
        client,
        {
            "referrals": referrals,
            "today": client.agency.today(),
            "may_coordinate": access.may_coordinate(user),
        },
    )


def _referral_form(
    user: User, data: Any, initial: dict[str, Any], referral: Referral | None = None
) -> ReferralForm:
    return ReferralForm(
        data,
        initial=initial,
        organizations=directory.organizations_to_pick(
            user, keep=referral.organization if referral else None
        ),
        people=directory.people_to_pick(user, keep=referral.person if referral else None),
    )


@login_required
def referral_new(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _writer(request)
    client = access.client_or_404(user, client_id)
    assert user.agency is not None
    key = request.POST.get("submission_key", "")
    earlier = submission_result(
        agency=user.agency, by=user, purpose=services.REFERRAL_CREATE, key=key
    )
    if request.method == "POST" and earlier is not None:
        return redirect("referral_packet", client.pk, earlier)
    initial: dict[str, Any] = {"submission_key": uuid.uuid4().hex}
    wanted = request.GET.get("organization", "")
    if wanted.isdigit():
        initial["organization"] = (
            directory.organizations_to_pick(user).filter(pk=int(wanted)).first()
        )
    form = _referral_form(user, _posted(request), initial)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_create(
                client=client,
                by=user,
                details=form.details(),
                submission_key=form.cleaned_data["submission_key"],
            )
        except services.ReferralError as error:
            _show_error(form, error)
        else:
            messages.success(
                request, f"Referral to {referral.organization.name} started. Now build the packet."
            )
            return redirect("referral_packet", client.pk, referral.pk)
    return chart_page(request, "coordination/referral_form.html", client, {"form": form})


@login_required
def referral_detail(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    referral = selectors.referral_or_404(user, client, referral_id)
    audit_chart_read(user=user, client=client, what="referral")
    return _referral_page(request, user, client, referral, status_form=None)


def _referral_page(
    request: HttpRequest,
    user: User,
    client: Client,
    referral: Referral,
    *,
    status_form: ReferralStatusForm | None,
    status: int = 200,
) -> HttpResponse:
    may_coordinate = access.may_coordinate(user)
    statuses = services.next_statuses(referral)
    if status_form is None and may_coordinate and statuses:
        status_form = ReferralStatusForm(
            initial={"version": referral.version, "outcome": referral.outcome},
            statuses=statuses,
        )
    return chart_page(
        request,
        "coordination/referral_detail.html",
        client,
        {
            "referral": referral,
            "events": selectors.referral_events(referral),
            "documents": list(referral.packet_documents.all()),
            "sections": [
                label for code, label in _section_labels() if code in referral.packet_categories
            ],
            "status_form": status_form,
            "may_coordinate": may_coordinate,
            "today": client.agency.today(),
        },
        status=status,
    )


def _section_labels() -> list[tuple[str, str]]:
    return [(code, str(Category(code).label)) for code in packets.PACKET_SECTIONS]


@login_required
def referral_edit(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    user = _writer(request)
    client = access.client_or_404(user, client_id)
    referral = selectors.referral_or_404(user, client, referral_id)
    if not referral.is_open:
        messages.error(request, "This referral is closed; it cannot change.")
        return redirect("referral_detail", client.pk, referral.pk)
    initial = {
        "organization": referral.organization,
        "person": referral.person,
        "reason": referral.reason,
        "urgency": referral.urgency,
        "follow_up_on": referral.follow_up_on,
        "version": referral.version,
    }
    form = _referral_form(user, _posted(request), initial, referral)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_update(
                referral=referral,
                by=user,
                expected_version=form.cleaned_data["version"] or 0,
                details=form.details(),
            )
        except services.ReferralError as error:
            _show_error(form, error)
            referral.refresh_from_db(fields=["version"])
            _refresh_version(form, referral.version)
        else:
            messages.success(request, "Saved the referral.")
            return redirect("referral_detail", client.pk, referral.pk)
    return chart_page(
        request, "coordination/referral_form.html", client, {"form": form, "referral": referral}
    )


@login_required
def referral_packet(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    """Choose what goes in the packet and send it; a refusal keeps the choice and says why."""
    user = _writer(request)
    client = access.client_or_404(user, client_id)
    referral = selectors.referral_or_404(user, client, referral_id)
    if referral.status != Referral.Status.DRAFT:
        return redirect("referral_detail", client.pk, referral.pk)
    form = PacketForm(
        _posted(request),
        initial={
            "sections": referral.packet_categories,
            "documents": list(referral.packet_documents.all()),
            "summary": referral.packet_summary,
            "version": referral.version,
        },
        # A Part 2 program's documents are for its staff to choose (casework.core.access).
        documents=access.documents_openable(
            user, client.pk, packets.appendable_documents(client).order_by("-dated_on", "-id")
        ),
    )
    sending = request.POST.get("action") == "send"
    not_sent = ""
    if request.method == "POST" and form.is_valid():
        if sending and not form.cleaned_data["sent_via"]:
            form.add_error("sent_via", "Choose how you are sending it.")
        else:
            response, not_sent = _packet_post(
                request, user, client, referral, form, sending=sending
            )
            if response is not None:
                return response
            referral.refresh_from_db()
    else:
        audit_chart_read(user=user, client=client, what="referral packet")
    documents = list(referral.packet_documents.all())
    refusal = ""
    if not form.errors and not not_sent:
        refusal = services.packet_refusal(referral)
    return chart_page(
        request,
        "coordination/referral_packet.html",
        client,
        {
            "form": form,
            "referral": referral,
            "not_sent": not_sent,
            "refusal": refusal,
            "saved_part2": any(d.part2 for d in documents),
        },
    )


def _packet_post(
    request: HttpRequest,
    user: User,
    client: Client,
    referral: Referral,
    form: PacketForm,
    *,
    sending: bool,
) -> tuple[HttpResponse | None, str]:
    """Save the choice (kept even if sending is refused), then send if asked.

    Returns the redirect when done, or no response (show the form again) and why it was not sent.
    """
    try:
        saved = services.referral_packet_save(
            referral=referral,
            by=user,
            expected_version=form.cleaned_data["version"],
            packet=form.packet(),
        )
    except services.ReferralError as error:
        _show_error(form, error)
        referral.refresh_from_db(fields=["version"])
        _refresh_version(form, referral.version)
        return None, ""
    if not sending:
        messages.success(request, "Saved the packet. Send it when it is ready.")
        return redirect("referral_packet", client.pk, referral.pk), ""
    try:
        sent = services.referral_send(
            referral=saved,
            by=user,
            expected_version=saved.version,
            sent_via=form.cleaned_data["sent_via"],
        )
    except CoordinationError as error:
        _refresh_version(form, saved.version)
        return None, str(error)
    messages.success(
        request,
        f"Sent to {sent.organization.name}. Download the packet below; it is logged in the "
        "client's accounting of disclosures.",
    )
    return redirect("referral_detail", client.pk, sent.pk), ""


@login_required
def referral_packet_pdf(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponseBase:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    referral = selectors.referral_or_404(user, client, referral_id)
    if not referral.packet_file or referral.disclosure is None:
        raise Http404("This referral has no packet yet.")
    for document in referral.packet_documents.all():
        if withheld := access.part2_document_withheld(user, document):
            raise PermissionDenied(withheld)
    if refusal := still_covered(referral.disclosure):
        messages.error(request, f"The packet cannot be downloaded to send again. {refusal}")
        return redirect("referral_detail", client.pk, referral.pk)
    audit_record(
        actor=user,
        action=Action.EXPORT,
        obj=referral,
        client_id=client.pk,
        detail={"packet": True, "disclosure": referral.disclosure_id},
    )
    response = FileResponse(
        referral.packet_file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=f"referral-{client.record_number}-{referral.pk}.pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def referral_status(request: HttpRequest, client_id: int, referral_id: int) -> HttpResponse:
    user = _writer(request)
    client = access.client_or_404(user, client_id)
    referral = selectors.referral_or_404(user, client, referral_id)
    assert user.agency is not None
    form = ReferralStatusForm(request.POST, statuses=services.next_statuses(referral))
    if form.is_valid():
        try:
            referral = services.referral_status_change(
                referral=referral,
                by=user,
                expected_version=form.cleaned_data["version"],
                change=form.change(user.agency.tzinfo),
            )
        except services.ReferralError as error:
            _show_error(form, error)
            referral.refresh_from_db()
            _refresh_version(form, referral.version)
        else:
            messages.success(request, f"Recorded: {referral.get_status_display().lower()}.")
            return redirect("referral_detail", client.pk, referral.pk)
    return _referral_page(request, user, client, referral, status_form=form)


# ---------------------------------------------------------------------------- prior auths


def _prior_auth_form(
    user: User, data: Any, initial: dict[str, Any], request: PriorAuthRequest | None = None
) -> PriorAuthForm:
    agency_id = access.agency_id_of(user)
    keep_payer = request.payer_id if request else 0
    keep_code = request.service_code_id if request else 0
    return PriorAuthForm(
        data,
        initial=initial,
        payers=Payer.objects.filter(agency_id=agency_id)
        .filter(Q(is_active=True) | Q(pk=keep_payer))
        .order_by("name"),
        codes=ServiceCode.objects.filter(agency_id=agency_id)
        .filter(Q(is_active=True) | Q(pk=keep_code))
        .order_by("code", "modifiers"),
    )


@login_required
def prior_auth_list(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _prior_auth_user(request)
    client = access.client_or_404(user, client_id)
    requests = list(selectors.client_prior_auths(user=user, client=client))
    audit_chart_read(user=user, client=client, what="prior authorizations")
    return chart_page(request, "coordination/prior_auth_list.html", client, {"requests": requests})


@login_required
def prior_auth_new(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _prior_auth_user(request)
    client = access.client_or_404(user, client_id)
    assert user.agency is not None
    key = request.POST.get("submission_key", "")
    earlier = submission_result(
        agency=user.agency, by=user, purpose=prior_auths.PRIOR_AUTH_CREATE, key=key
    )
    if request.method == "POST" and earlier is not None:
        return redirect("prior_auth_detail", client.pk, earlier)
    form = _prior_auth_form(user, _posted(request), {"submission_key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            created = prior_auths.prior_auth_create(
                client=client,
                by=user,
                details=form.details(),
                submission_key=form.cleaned_data["submission_key"],
            )
        except prior_auths.PriorAuthError as error:
            _show_error(form, error)
        else:
            messages.success(request, "Prior-authorization request started.")
            return redirect("prior_auth_detail", client.pk, created.pk)
    return chart_page(request, "coordination/prior_auth_form.html", client, {"form": form})


@login_required
def prior_auth_detail(request: HttpRequest, client_id: int, prior_auth_id: int) -> HttpResponse:
    user = _prior_auth_user(request)
    client = access.client_or_404(user, client_id)
    found = selectors.prior_auth_or_404(user, client, prior_auth_id)
    audit_chart_read(user=user, client=client, what="prior authorization")
    return _prior_auth_page(request, user, client, found, step_form=None)


def _prior_auth_page(
    request: HttpRequest,
    user: User,
    client: Client,
    found: PriorAuthRequest,
    *,
    step_form: PriorAuthStepForm | None,
    status: int = 200,
) -> HttpResponse:
    statuses = prior_auths.next_statuses(found)
    if step_form is None and statuses:
        step_form = PriorAuthStepForm(
            initial={
                "version": found.version,
                "on": client.agency.today(),
                "reference": found.reference,
            },
            statuses=statuses,
            labels=dict(PriorAuthRequest.Status.choices),
        )
    return chart_page(
        request,
        "coordination/prior_auth_detail.html",
        client,
        {
            "request_": found,
            "step_form": step_form,
            "editable": found.status in prior_auths.EDITABLE,
            "may_configure_billing": access.may_configure_billing(user),
        },
        status=status,
    )


@login_required
def prior_auth_edit(request: HttpRequest, client_id: int, prior_auth_id: int) -> HttpResponse:
    user = _prior_auth_user(request)
    client = access.client_or_404(user, client_id)
    found = selectors.prior_auth_or_404(user, client, prior_auth_id)
    if found.status not in prior_auths.EDITABLE:
        messages.error(request, "This request cannot be changed now.")
        return redirect("prior_auth_detail", client.pk, found.pk)
    initial = {
        "payer": found.payer,
        "service_code": found.service_code,
        "units_requested": found.units_requested,
        "start_on": found.start_on,
        "end_on": found.end_on,
        "reference": found.reference,
        "version": found.version,
    }
    form = _prior_auth_form(user, _posted(request), initial, found)
    if request.method == "POST" and form.is_valid():
        try:
            found = prior_auths.prior_auth_update(
                request=found,
                by=user,
                expected_version=form.cleaned_data["version"] or 0,
                details=form.details(),
            )
        except prior_auths.PriorAuthError as error:
            _show_error(form, error)
            found.refresh_from_db(fields=["version"])
            _refresh_version(form, found.version)
        else:
            messages.success(request, "Saved the request.")
            return redirect("prior_auth_detail", client.pk, found.pk)
    return chart_page(
        request,
        "coordination/prior_auth_form.html",
        client,
        {"form": form, "request_": found},
    )


@login_required
@require_POST
def prior_auth_status(request: HttpRequest, client_id: int, prior_auth_id: int) -> HttpResponse:
    user = _prior_auth_user(request)
    client = access.client_or_404(user, client_id)
    found = selectors.prior_auth_or_404(user, client, prior_auth_id)
    form = PriorAuthStepForm(
        request.POST,
        statuses=prior_auths.next_statuses(found),
        labels=dict(PriorAuthRequest.Status.choices),
    )
    if form.is_valid():
        try:
            found = prior_auths.prior_auth_status_change(
                request=found,
                by=user,
                expected_version=form.cleaned_data["version"],
                step=form.step(),
            )
        except prior_auths.PriorAuthError as error:
            _show_error(form, error)
            found.refresh_from_db(fields=["version"])
            _refresh_version(form, found.version)
        else:
            message = f"Recorded: {found.get_status_display().lower()}."
            if found.authorization_id is not None and found.status in (
                PriorAuthRequest.Status.APPROVED,
                PriorAuthRequest.Status.PARTIAL,
            ):
                message += " Billing now has the authorization."
            messages.success(request, message)
            return redirect("prior_auth_detail", client.pk, found.pk)
    return _prior_auth_page(request, user, client, found, step_form=form)
