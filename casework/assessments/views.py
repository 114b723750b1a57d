"""Assessment pages: start from the chart, answer (on a phone or read aloud), sign, see trends."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from casework.assessments import selectors, services
from casework.assessments.forms import AnswersForm, StartForm
from casework.assessments.instruments import instruments
from casework.assessments.models import Assessment
from casework.assessments.trends import Point, trend_svg
from casework.clients.selectors import client_flags
from casework.clients.services import audit_chart_read
from casework.core import access
from casework.core.models import User


def _writer(request: HttpRequest) -> User:
    if not access.may_write_notes(request.user):
        raise PermissionDenied("Your role does not give assessments.")
    return request.user  # type: ignore[return-value]


def _reader(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not access.may_read_narratives(user):
        raise PermissionDenied("Your role does not read assessments.")
    return user


def _page(
    request: HttpRequest, template: str, assessment: Any, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    client = assessment.client
    return render(
        request,
        template,
        {
            "client": client,
            "flags": client_flags(client=client),
            "assessment": assessment,
            **context,
        },
        status=status,
    )


@login_required
def assessment_new(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _writer(request)
    client = access.client_or_404(user, client_id)
    assert user.agency is not None
    form = StartForm(
        request.POST or None,
        initial={
            "administered_on": user.agency.today(),
            "mode": "in_person",
            "instrument": request.GET.get("instrument", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.assessment_start(
                client=client,
                author=user,
                instrument_key=form.cleaned_data["instrument"],
                administered_on=form.cleaned_data["administered_on"],
                mode=form.cleaned_data["mode"],
            )
        except services.AssessmentError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            return redirect("assessment_detail", assessment.pk)
    return render(
        request,
        "assessments/new.html",
        {"client": client, "flags": client_flags(client=client), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def assessment_detail(request: HttpRequest, assessment_id: int) -> HttpResponse:
    user = _reader(request)
    assessment = selectors.assessment_or_404(user, assessment_id)
    instrument = services.instrument_of(assessment)
    sex = assessment.client.sex_for_billing
    editing = assessment.status == Assessment.Status.DRAFT and assessment.author_id == user.pk
    form = AnswersForm(
        request.POST or None,
        initial={**assessment.answers, "version": assessment.version},
        instrument=instrument,
        sex=sex,
    )
    if request.method == "GET":
        audit_chart_read(user=user, client=assessment.client, what="assessment")
    elif not editing:
        raise PermissionDenied("Only the author changes a draft; signed assessments take addenda.")
    elif form.is_valid():
        try:
            assessment, result = services.assessment_save(
                assessment=assessment,
                by=user,
                answers=form.answers(),
                expected_version=form.cleaned_data["version"],
            )
            if request.POST.get("action") == "sign":
                assessment = services.assessment_sign(assessment=assessment, by=user)
                messages.success(
                    request,
                    f"Signed: {assessment.total if assessment.total is not None else 'no total'} {assessment.band}".strip(),
                )
            else:
                messages.success(request, "Answers saved.")
            return redirect("assessment_detail", assessment.pk)
        except services.AssessmentError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
    result = instrument.score(assessment.answers, sex=sex)
    return _page(
        request,
        "assessments/detail.html",
        assessment,
        {"form": form, "editing": editing, "instrument": instrument, "result": result},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def assessment_addendum(request: HttpRequest, assessment_id: int) -> HttpResponse:
    user = _writer(request)
    assessment = selectors.assessment_or_404(user, assessment_id)
    try:
        services.assessment_addendum_add(
            assessment=assessment, by=user, text=request.POST.get("text", "")
        )
    except services.AssessmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Addendum added.")
    return redirect("assessment_detail", assessment.pk)


@login_required
def assessment_trend(request: HttpRequest, client_id: int, instrument: str) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    found = instruments().get(instrument)
    if found is None:
        raise Http404("No such instrument.")
    scores = selectors.signed_scores(user=user, client_id=client.pk, instrument=instrument)
    audit_chart_read(user=user, client=client, what=f"trend {instrument}")
    svg = trend_svg(
        points=[Point(day=a.administered_on, total=a.total or 0, band=a.band) for a in scores],
        bands=found.bands_for(client.sex_for_billing),
        title=f"{found.name}: scores over time",
    )
    return render(
        request,
        "assessments/trend.html",
        {
            "client": client,
            "flags": client_flags(client=client),
            "instrument": found,
            "scores": scores,
            "svg": svg,
        },
    )


@login_required
@require_POST
def flag_notice_acknowledge(request: HttpRequest, notice_id: int) -> HttpResponse:
    """The "Acknowledged" button on My day: only the person the notice was sent to."""
    user = request.user
    if not isinstance(user, User) or user.agency_id is None:
        raise PermissionDenied("You are not a member of an agency.")
    notice = selectors.flag_notice_or_404(user=user, notice_id=notice_id)
    try:
        if services.flag_notice_acknowledge(notice=notice, by=user):
            messages.success(request, "Acknowledged; the notice is off your day.")
    except services.AssessmentError as error:
        messages.error(request, str(error))
    return redirect("home")
