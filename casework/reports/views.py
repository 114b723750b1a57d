"""Report pages: parse the filters, call the selector, render the table or the CSV (`?format=csv`).

Who may open which report is decided in `selectors.may_see`; anyone else gets 403.
Filters that do not parse give the page back with a message and no numbers (CSV: status 400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from casework.billing.selectors.catalogue import WARNING_PERCENT
from casework.core.models import Agency, User
from casework.reports import exports, selectors, selectors_billing
from casework.reports.forms import (
    DEFAULT_TARGET_HOURS,
    PeriodForm,
    ProductivityForm,
    UnsignedNotesForm,
    bound,
    month_of,
)
from casework.reports.selectors import Period, ReportInfo


def _reader(request: HttpRequest, report: ReportInfo | None = None) -> User:
    user: User = request.user  # type: ignore[assignment]
    allowed = selectors.may_see(user, report) if report else bool(selectors.reports_for(user))
    if not allowed:
        raise PermissionDenied("Your role does not include this report.")
    return user


def _agency(user: User) -> Agency:
    agency = user.agency
    assert agency is not None  # may_see refuses anyone without an agency
    return agency


def _period(form: forms.Form) -> Period:
    return Period(start=form.cleaned_data["start"], end=form.cleaned_data["end"])


def _respond(
    request: HttpRequest,
    *,
    report_info: ReportInfo,
    form: forms.Form,
    report: Any,
    to_csv: Callable[[Any], HttpResponse],
    template: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    wants_csv = request.GET.get("format") == "csv"
    if wants_csv and report is not None:
        return to_csv(report)
    query = urlencode({key: value for key, value in form.data.items() if value})
    context = {
        "info": report_info,
        "form": form,
        "report": report,
        "csv_query": f"{query}&format=csv" if query else "format=csv",
        **(extra or {}),
    }
    return render(request, template, context, status=400 if wants_csv else 200)


@login_required
def report_index(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    return render(request, "reports/index.html", {"reports": selectors.reports_for(user)})


@login_required
def productivity(request: HttpRequest) -> HttpResponse:
    user = _reader(request, selectors.PRODUCTIVITY)
    start, end = month_of(_agency(user).today())
    form = bound(
        ProductivityForm,
        request.GET,
        {"start": start, "end": end, "target": DEFAULT_TARGET_HOURS},
    )
    report = None
    if form.is_valid():
        report = selectors.productivity_report(
            user=user, period=_period(form), target_per_week=form.cleaned_data["target"]
        )
    return _respond(
        request,
        report_info=selectors.PRODUCTIVITY,
        form=form,
        report=report,
        to_csv=lambda r: exports.productivity_csv(r, user=user),
        template="reports/productivity.html",
        extra={"whole_agency": _sees_whole_agency(user)},
    )


def _sees_whole_agency(user: User) -> bool:
    return selectors.may_see(user, selectors.CHARGES)


@login_required
def unsigned_notes(request: HttpRequest) -> HttpResponse:
    user = _reader(request, selectors.UNSIGNED_NOTES)
    form = bound(UnsignedNotesForm, request.GET, {})
    today = _agency(user).today()
    report = None
    if form.is_valid():
        report = selectors.unsigned_notes_report(
            user=user,
            today=today,
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
        )
    return _respond(
        request,
        report_info=selectors.UNSIGNED_NOTES,
        form=form,
        report=report,
        to_csv=lambda r: exports.unsigned_notes_csv(r, user=user),
        template="reports/unsigned_notes.html",
        extra={"whole_agency": _sees_whole_agency(user), "today": today},
    )


def _month_form(request: HttpRequest, user: User) -> forms.Form:
    start, end = month_of(_agency(user).today())
    return bound(PeriodForm, request.GET, {"start": start, "end": end})


@login_required
def charges(request: HttpRequest) -> HttpResponse:
    user = _reader(request, selectors.CHARGES)
    form = _month_form(request, user)
    report = None
    if form.is_valid():
        report = selectors_billing.charges_report(user=user, period=_period(form))
    return _respond(
        request,
        report_info=selectors.CHARGES,
        form=form,
        report=report,
        to_csv=lambda r: exports.charges_csv(r, user=user),
        template="reports/charges.html",
    )


@login_required
def authorizations(request: HttpRequest) -> HttpResponse:
    user = _reader(request, selectors.AUTHORIZATIONS)
    form = _month_form(request, user)
    report = None
    if form.is_valid():
        report = selectors_billing.authorization_use_report(
            user=user, period=_period(form), today=_agency(user).today()
        )
    return _respond(
        request,
        report_info=selectors.AUTHORIZATIONS,
        form=form,
        report=report,
        to_csv=lambda r: exports.authorizations_csv(r, user=user),
        template="reports/authorizations.html",
        extra={"warning_percent": WARNING_PERCENT},
    )
