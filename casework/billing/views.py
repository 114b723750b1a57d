"""Billing work pages: charges, billing holds, claim batches and their 837P files."""

from __future__ import annotations

import contextlib
import datetime
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from casework.billing.forms import BatchForm, ChargeVoidForm, CorrectionForm
from casework.billing.models import Charge
from casework.billing.selectors import charges as selectors
from casework.billing.services.charges import (
    ChargeError,
    charge_recheck,
    charge_void,
    claim_correction_request,
)
from casework.billing.services.claims import (
    BatchError,
    BatchRequest,
    audit_batch_download,
    claim_batch_create,
    claim_batch_mark_submitted,
)
from casework.clients.services import audit_chart_read
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.models import User

PAGE_SIZE = 50


def _biller(request: HttpRequest) -> User:
    user = request.user
    if not access.may_bill(user):
        raise PermissionDenied("Billing pages are for billing staff and agency admins.")
    return user  # type: ignore[return-value]


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def billing_home(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    held = selectors.charges_in_agency(user).filter(status=Charge.Status.HELD).count()
    return render(
        request,
        "billing/home.html",
        {
            "ready": selectors.ready_summary(user=user),
            "held": held,
            "batches": selectors.batches(user=user)[:10],
            "corrections": selectors.pending_corrections(user=user),
        },
    )


@login_required
def charge_list(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    status = request.GET.get("status", "")
    if status not in Charge.Status.values:
        status = ""
    charges = selectors.charge_list(
        user=user,
        status=status,
        service_from=_date(request.GET.get("from")),
        service_to=_date(request.GET.get("to")),
    )
    page = Paginator(charges, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/charges.html",
        {"page": page, "status": status, "statuses": Charge.Status.choices},
    )


@login_required
def charge_detail(request: HttpRequest, charge_id: int) -> HttpResponse:
    user = _biller(request)
    charge = get_object_or_404(
        selectors.charge_list(user=user).select_related("note", "authorization", "coverage"),
        pk=charge_id,
    )
    audit_chart_read(user=user, client=charge.client, what="charge")
    return render(
        request,
        "billing/charge.html",
        {
            "charge": charge,
            "claim_lines": charge.claim_lines.select_related("batch").order_by("id"),
            "void_form": ChargeVoidForm(),
            "correction_form": CorrectionForm(),
        },
    )


@login_required
@require_POST
def charge_recheck_view(request: HttpRequest, charge_id: int) -> HttpResponse:
    user = _biller(request)
    charge = get_object_or_404(selectors.charges_in_agency(user), pk=charge_id)
    try:
        charge = charge_recheck(charge=charge, by=user)
    except ChargeError as error:
        messages.error(request, str(error))
    else:
        if charge.status == Charge.Status.READY:
            messages.success(request, "Released: the charge is ready to bill.")
        else:
            reasons = "; ".join(h["message"] for h in charge.hold_reasons)
            messages.warning(request, f"Still held: {reasons}")
    if request.POST.get("back") == "holds":
        return redirect("billing_holds")
    return redirect("billing_charge", charge.pk)


@login_required
@require_POST
def charge_recheck_all(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    held = list(selectors.charges_in_agency(user).filter(status=Charge.Status.HELD)[:500])
    released = 0
    for charge in held:
        # A charge whose note stopped being billable stays held; it must not stop the others.
        with contextlib.suppress(ChargeError):
            released += charge_recheck(charge=charge, by=user).status == Charge.Status.READY
    messages.success(request, f"Checked {len(held)} held charges again; {released} released.")
    return redirect("billing_holds")


@login_required
def holds(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    charges = selectors.charge_list(user=user, status=Charge.Status.HELD).order_by(
        "service_date", "id"
    )
    page = Paginator(charges, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/holds.html", {"page": page})


@login_required
@require_POST
def charge_void_view(request: HttpRequest, charge_id: int) -> HttpResponse:
    user = _biller(request)
    charge = get_object_or_404(selectors.charges_in_agency(user), pk=charge_id)
    try:
        charge_void(charge=charge, by=user, reason=request.POST.get("reason", ""))
    except ChargeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The charge is void.")
    return redirect("billing_charge", charge.pk)


@login_required
@require_POST
def charge_correction(request: HttpRequest, charge_id: int) -> HttpResponse:
    user = _biller(request)
    charge = get_object_or_404(selectors.charges_in_agency(user), pk=charge_id)
    form = CorrectionForm(request.POST)
    try:
        if not form.is_valid():
            raise ChargeError("Choose replacement or void and enter the payer's claim number.")
        claim_correction_request(
            charge=charge,
            by=user,
            frequency=form.cleaned_data["frequency"],
            original_reference=form.cleaned_data["original_reference"],
        )
    except ChargeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Queued for the payer's next batch.")
    return redirect("billing_charge", charge.pk)


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    page = Paginator(selectors.batches(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "billing/batches.html", {"page": page})


@login_required
def batch_new(request: HttpRequest) -> HttpResponse:
    user = _biller(request)
    assert user.agency is not None
    today = user.agency.today()
    form = BatchForm(
        request.POST or None,
        payers=selectors.payers_for_batches(user),
        initial={
            "service_from": today.replace(day=1) - datetime.timedelta(days=90),
            "service_to": today,
            "submission_key": uuid.uuid4().hex,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = claim_batch_create(
                agency=user.agency,
                by=user,
                request=BatchRequest(data["payer"], data["service_from"], data["service_to"]),
                submission_key=data["submission_key"],
            )
        except BatchError as error:
            form.add_error(None, str(error))
        else:
            plural = "" if batch.claim_count == 1 else "s"
            messages.success(
                request,
                f"Batch {batch.control_number:09d}: {batch.claim_count} claim{plural}, "
                f"${batch.total}.",
            )
            return redirect("billing_batch", batch.pk)
    return render(
        request,
        "billing/batch_new.html",
        {"form": form, "ready": selectors.ready_summary(user=user)},
        status=400 if form.errors else 200,
    )


@login_required
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _biller(request)
    batch = selectors.batch_or_404(user, batch_id)
    lines = list(selectors.batch_lines(batch))
    audit_reads(
        actor=user,
        client_ids=sorted({line.charge.client_id for line in lines}),
        section="claim batch",
    )
    return render(request, "billing/batch.html", {"batch": batch, "lines": lines})


@login_required
def batch_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _biller(request)
    batch = selectors.batch_or_404(user, batch_id)
    audit_batch_download(batch=batch, by=user)
    response = HttpResponse(batch.content, content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    return response


@login_required
@require_POST
def batch_submitted(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _biller(request)
    batch = selectors.batch_or_404(user, batch_id)
    claim_batch_mark_submitted(batch=batch, by=user)
    messages.success(request, "Marked as submitted.")
    return redirect("billing_batch", batch.pk)
