"""Billing set-up screens: payers and their unit rules, the service catalogue and its fee
schedule, authorizations, and the agency's claim settings.

Agency admins and billing staff reach them (403 for everyone else). Every lookup starts from the
user's own agency, so the id of another agency's payer, code or authorization gives 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from casework.billing.forms_setup import (
    AuthorizationForm,
    ClaimSettingsForm,
    FeeRateForm,
    PayerCodeRulesForm,
    PayerForm,
    ServiceCodeForm,
)
from casework.billing.models import Authorization, ClaimSettings, Payer, ServiceCode
from casework.billing.selectors import catalogue as selectors
from casework.billing.services import catalogue as services
from casework.core import access
from casework.core.models import Agency, User

AUTHORIZATIONS_PER_PAGE = 100


def billing_user(request: HttpRequest) -> User:
    if not access.may_configure_billing(request.user):
        raise PermissionDenied("Only agency admins and billing staff set up billing.")
    return request.user  # type: ignore[return-value]


def _agency(user: User) -> Agency:
    agency = user.agency
    assert agency is not None  # may_configure_billing refuses anyone without an agency
    return agency


def _posted(request: HttpRequest) -> Any:
    """The submitted data, or None for a GET: an empty submission is checked, not ignored."""
    return request.POST if request.method == "POST" else None


def _show_error(form: BaseForm, error: services.BillingSetupError | ValidationError) -> None:
    if isinstance(error, services.BillingSetupError):
        form.add_error(error.field if error.field in form.fields else None, str(error))
    else:
        form.add_error(None, error)


@login_required
def setup_home(request: HttpRequest) -> HttpResponse:
    billing_user(request)
    return redirect("billing_payer_list")


# ---------------------------------------------------------------------------- payers


def _payer_or_404(user: User, payer_id: int) -> Payer:
    payer: Payer = get_object_or_404(selectors.payers_in_agency(user), pk=payer_id)
    return payer


def _rule_codes(user: User, current: dict[int, str]) -> list[ServiceCode]:
    """Active codes, and inactive ones that still have a rule of their own for this payer."""
    return list(
        selectors.service_codes_in_agency(user)
        .filter(Q(is_active=True) | Q(pk__in=list(current)))
        .order_by("code", "modifiers")
    )


@login_required
def payer_list(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    return render(
        request,
        "billing/setup_payer_list.html",
        {"payers": selectors.payer_list(user=user), "tab": "payers"},
    )


@login_required
def payer_new(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    form = PayerForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            payer = services.payer_create(agency=_agency(user), by=user, details=form.details())
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            messages.success(
                request,
                f"Added the payer {payer.name}. Set unit rules for single codes below if it needs them.",
            )
            return redirect("billing_payer_edit", payer.pk)
    return render(request, "billing/setup_payer_form.html", {"form": form, "tab": "payers"})


def _payer_page(
    request: HttpRequest,
    user: User,
    payer: Payer,
    *,
    form: PayerForm | None = None,
    rules_form: PayerCodeRulesForm | None = None,
) -> HttpResponse:
    if form is None:
        form = PayerForm(instance=Payer.objects.get(pk=payer.pk))
    if rules_form is None:
        current = selectors.payer_code_rules(payer=payer)
        rules_form = PayerCodeRulesForm(
            payer=payer, codes=_rule_codes(user, current), current=current
        )
    return render(
        request,
        "billing/setup_payer_form.html",
        {"form": form, "rules_form": rules_form, "payer": payer, "tab": "payers"},
    )


@login_required
def payer_edit(request: HttpRequest, payer_id: int) -> HttpResponse:
    user = billing_user(request)
    payer = _payer_or_404(user, payer_id)
    if request.method != "POST":
        return _payer_page(request, user, payer)
    form = PayerForm(request.POST, instance=Payer.objects.get(pk=payer.pk))
    if form.is_valid():
        try:
            payer = services.payer_update(payer=payer, by=user, details=form.details())
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Saved the payer {payer.name}.")
            return redirect("billing_payer_list")
    return _payer_page(request, user, payer, form=form)


@login_required
@require_POST
def payer_code_rules(request: HttpRequest, payer_id: int) -> HttpResponse:
    user = billing_user(request)
    payer = _payer_or_404(user, payer_id)
    current = selectors.payer_code_rules(payer=payer)
    rules_form = PayerCodeRulesForm(
        request.POST, payer=payer, codes=_rule_codes(user, current), current=current
    )
    if rules_form.is_valid():
        try:
            changed = services.payer_code_rules_set(payer=payer, by=user, rules=rules_form.rules())
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(rules_form, error)
        else:
            if changed:
                messages.success(
                    request, f"Saved the unit rules of {payer.name} for {', '.join(changed)}."
                )
            else:
                messages.info(request, f"No unit rule of {payer.name} changed.")
            return redirect("billing_payer_edit", payer.pk)
    return _payer_page(request, user, payer, rules_form=rules_form)


# ---------------------------------------------------------------------------- service codes


def _code_or_404(user: User, code_id: int) -> ServiceCode:
    code: ServiceCode = get_object_or_404(selectors.service_codes_in_agency(user), pk=code_id)
    return code


@login_required
def code_list(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    codes = list(selectors.service_code_list(user=user, today=_agency(user).today()))
    return render(
        request,
        "billing/setup_code_list.html",
        {
            "codes": codes,
            "standard_codes": services.standard_codes(),
            "tab": "codes",
        },
    )


@login_required
@require_POST
def catalogue_seed(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    if request.POST.get("load") != "standard":
        messages.error(request, "Nothing was loaded: use the “Load the standard codes” button.")
        return redirect("billing_code_list")
    added = services.catalogue_seed(agency=_agency(user), by=user)
    if added:
        messages.success(
            request,
            f"Added {added} standard code{'s' if added != 1 else ''}, each with an illustrative "
            "default rate. Replace the rates with your fee schedule before billing.",
        )
    else:
        messages.info(request, "Every standard code is already in the catalogue.")
    return redirect("billing_code_list")


@login_required
def code_new(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    form = ServiceCodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            code = services.service_code_create(
                agency=_agency(user), by=user, details=form.details()
            )
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Added {code.label} to the catalogue. Now give it a rate.")
            return redirect("billing_code_rates", code.pk)
    return render(request, "billing/setup_code_form.html", {"form": form, "tab": "codes"})


@login_required
def code_edit(request: HttpRequest, code_id: int) -> HttpResponse:
    user = billing_user(request)
    code = _code_or_404(user, code_id)
    form = ServiceCodeForm(_posted(request), instance=ServiceCode.objects.get(pk=code.pk))
    if request.method == "POST" and form.is_valid():
        try:
            code = services.service_code_update(service_code=code, by=user, details=form.details())
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Saved {code.label}.")
            return redirect("billing_code_list")
    return render(
        request, "billing/setup_code_form.html", {"form": form, "code": code, "tab": "codes"}
    )


@login_required
def code_rates(request: HttpRequest, code_id: int) -> HttpResponse:
    user = billing_user(request)
    code = _code_or_404(user, code_id)
    payers = selectors.payers_in_agency(user).filter(is_active=True).order_by("name")
    form = FeeRateForm(_posted(request), payers=payers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rate = services.fee_rate_add(
                service_code=code,
                by=user,
                payer=data["payer"],
                effective_from=data["effective_from"],
                rate=data["rate"],
            )
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            whose = rate.payer.name if rate.payer else "the agency default"
            messages.success(
                request,
                f"Added ${rate.rate} for {code.label} ({whose}) from {rate.effective_from:%m/%d/%Y}.",
            )
            return redirect("billing_code_rates", code.pk)
    return render(
        request,
        "billing/setup_code_rates.html",
        {
            "code": code,
            "form": form,
            "rows": selectors.fee_schedule(service_code=code, today=_agency(user).today()),
            "tab": "codes",
        },
    )


# ---------------------------------------------------------------------------- authorizations


def _authorization_or_404(user: User, authorization_id: int) -> Authorization:
    authorization: Authorization = get_object_or_404(
        selectors.authorizations_with_usage(
            selectors.authorizations_in_scope(user).select_related("client", "payer")
        ),
        pk=authorization_id,
    )
    return authorization


@login_required
def authorization_list(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    show = request.GET.get("show", "active")
    if show not in selectors.AUTHORIZATION_FILTERS:
        show = "active"
    today = _agency(user).today()
    page = Paginator(
        selectors.authorization_list(user=user, show=show, today=today), AUTHORIZATIONS_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/setup_authorization_list.html",
        {
            "page": page,
            "rows": [selectors.authorization_balance(a, today=today) for a in page],
            "show": show,
            "filters": list(selectors.AUTHORIZATION_FILTERS.items()),
            "tab": "authorizations",
        },
    )


def _authorization_choices(
    user: User, authorization: Authorization | None
) -> dict[str, QuerySet[Any]]:
    """Active payers and codes, plus the ones the authorization already names."""
    keep_payer = Q(pk=authorization.payer_id) if authorization else Q(pk__in=[])
    keep_codes = (
        Q(pk__in=authorization.service_codes.values("pk")) if authorization else Q(pk__in=[])
    )
    return {
        "clients": access.visible_clients(user),
        "payers": selectors.payers_in_agency(user)
        .filter(Q(is_active=True) | keep_payer)
        .order_by("name"),
        "codes": selectors.service_codes_in_agency(user)
        .filter(Q(is_active=True) | keep_codes)
        .order_by("code", "modifiers"),
    }


@login_required
def authorization_new(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    initial: dict[str, Any] = {}
    if request.method != "POST" and request.GET.get("client", "").isdigit():
        client = access.visible_clients(user).filter(pk=int(request.GET["client"])).first()
        if client is not None:
            initial["client"] = client
    form = AuthorizationForm(
        _posted(request), initial=initial, **_authorization_choices(user, None)
    )
    if request.method == "POST" and form.is_valid():
        try:
            authorization = services.authorization_create(
                agency=_agency(user), by=user, details=form.details()
            )
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            messages.success(
                request,
                f"Added authorization {authorization.number} for "
                f"{authorization.client.display_name}.",
            )
            return redirect("billing_authorization_list")
    return render(
        request,
        "billing/setup_authorization_form.html",
        {"form": form, "tab": "authorizations"},
    )


@login_required
def authorization_edit(request: HttpRequest, authorization_id: int) -> HttpResponse:
    user = billing_user(request)
    authorization = _authorization_or_404(user, authorization_id)
    initial = {
        "client": authorization.client,
        "payer": authorization.payer,
        "number": authorization.number,
        "service_codes": list(authorization.service_codes.all()),
        "units": authorization.units,
        "start_on": authorization.start_on,
        "end_on": authorization.end_on,
        "note": authorization.note,
    }
    form = AuthorizationForm(
        _posted(request), initial=initial, **_authorization_choices(user, authorization)
    )
    if request.method == "POST" and form.is_valid():
        try:
            authorization = services.authorization_update(
                authorization=authorization, by=user, details=form.details()
            )
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            messages.success(request, f"Saved authorization {authorization.number}.")
            return redirect("billing_authorization_list")
    balance = selectors.authorization_balance(authorization, today=_agency(user).today())
    return render(
        request,
        "billing/setup_authorization_form.html",
        {
            "form": form,
            "authorization": authorization,
            "balance": balance,
            "tab": "authorizations",
        },
    )


# ---------------------------------------------------------------------------- claim settings


@login_required
def claim_settings(request: HttpRequest) -> HttpResponse:
    user = billing_user(request)
    agency = Agency.objects.get(pk=access.agency_id_of(user))
    # The form checks its own copy; the service locks the row and saves what changed.
    current = ClaimSettings.objects.filter(agency=agency).first()
    form = ClaimSettingsForm(_posted(request), instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_settings_save(agency=agency, by=user, **form.settings_fields())
        except (services.BillingSetupError, ValidationError) as error:
            _show_error(form, error)
        else:
            messages.success(request, "Saved the claim settings.")
            return redirect("billing_claim_settings")
    missing = [
        label
        for label, value in (
            ("NPI", agency.npi),
            ("tax id", agency.tax_id),
            ("address", agency.address_line1),
            ("city", agency.city),
            ("state", agency.state),
            ("ZIP code", agency.postal_code),
        )
        if not value
    ]
    return render(
        request,
        "billing/setup_claim_settings.html",
        {
            "form": form,
            "agency": agency,
            "missing": missing,
            "may_edit_agency": access.may_manage_staff(user),
            "tab": "claims",
        },
    )
