"""Pages of team collaboration: a chart's comments, cover while someone is away, hand-offs."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from casework.clients.selectors import client_flags
from casework.clients.services import audit_chart_read
from casework.coordination import selectors_collaboration as selectors
from casework.coordination import services_collaboration as services
from casework.coordination.errors import CoordinationError
from casework.coordination.forms_collaboration import (
    CommentForm,
    CoverageForm,
    HandoffForm,
    new_submission_key,
)
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.idempotency import submission_result
from casework.core.models import User

ONE_DAY = datetime.timedelta(days=1)


def _member(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if user.agency is None:
        raise PermissionDenied("You are not a member of an agency.")
    return user


def _teamworker(request: HttpRequest) -> User:
    """Cover and hand-offs are for those who hold or supervise caseloads, and admins."""
    user = _member(request)
    if not access.may_coordinate(user):
        raise PermissionDenied(
            "Cover and hand-offs are arranged by case managers, supervisors and admins."
        )
    return user


def _next_or(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


# Chart comments ---------------------------------------------------------------------------


def _before(request: HttpRequest) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() else None


def _comments_page(
    request: HttpRequest, user: User, client: Any, form: CommentForm, status: int = 200
) -> HttpResponse:
    page = selectors.client_comments(user=user, client=client, before=_before(request))
    return render(
        request,
        "coordination/comments.html",
        {"client": client, "flags": client_flags(client=client), "page": page, "form": form},
        status=status,
    )


@login_required
def comment_list(request: HttpRequest, client_id: int) -> HttpResponse:
    """The client's comments, newest first; opening them marks the user's mentions read."""
    user = _member(request)
    client = selectors.comments_client_or_404(user, client_id)
    audit_chart_read(user=user, client=client, what="comments")
    form = CommentForm(initial={"submission_key": new_submission_key()})
    response = _comments_page(request, user, client, form)
    services.mentions_mark_read(user=user, client=client)
    return response


@login_required
@require_POST
def comment_add(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _member(request)
    client = selectors.comments_client_or_404(user, client_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = services.comment_post(
                client=client,
                by=user,
                body=form.cleaned_data["body"],
                submission_key=form.cleaned_data["submission_key"],
            )
        except CoordinationError as error:
            form.add_error("body", str(error))
        else:
            told = comment.mentions.count()
            messages.success(
                request,
                "Comment posted"
                + (f"; {told} colleague{'s' * (told != 1)} told on My day." if told else "."),
            )
            return _next_or(request, reverse("comment_list", args=[client.pk]))
    return _comments_page(request, user, client, form, status=400)


# Cover ------------------------------------------------------------------------------------


@login_required
def coverage_list(request: HttpRequest) -> HttpResponse:
    """Current and upcoming cover of the user and the team they supervise."""
    user = _teamworker(request)
    return render(
        request, "coordination/coverage_list.html", {"rows": selectors.coverage_list(user=user)}
    )


def _coverage_form(user: User, data: Any = None) -> CoverageForm:
    assert user.agency is not None
    today = user.agency.today()
    return CoverageForm(
        data,
        staff=access.staff_in_agency(user),
        absent_choices=selectors.staff_acted_for(user),
        cover_choices=selectors.caseload_staff(user),
        today=today,
        initial={
            "absent": user.pk,
            "starts_on": today,
            "submission_key": new_submission_key(),
        },
    )


@login_required
def coverage_new(request: HttpRequest) -> HttpResponse:
    user = _teamworker(request)
    if request.method != "POST":
        return render(request, "coordination/coverage_form.html", {"form": _coverage_form(user)})
    form = _coverage_form(user, request.POST)
    if form.is_valid():
        assert user.agency is not None
        tz = user.agency.tzinfo
        data = form.cleaned_data
        try:
            coverage = services.coverage_create(
                absent=data["absent"],
                covering=data["covering"],
                starts_at=selectors.local_midnight(data["starts_on"], tz),
                ends_at=selectors.local_midnight(data["ends_on"] + ONE_DAY, tz),
                by=user,
                reason=data["reason"],
                submission_key=data["submission_key"],
            )
        except CoordinationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{coverage.covering.full_name} covers for {coverage.absent.full_name} "
                f"from {data['starts_on']:%-d %b} to {data['ends_on']:%-d %b}.",
            )
            return redirect("coverage_list")
    return render(request, "coordination/coverage_form.html", {"form": form}, status=400)


@login_required
@require_POST
def coverage_end(request: HttpRequest, coverage_id: int) -> HttpResponse:
    user = _teamworker(request)
    coverage = selectors.coverage_or_404(user, coverage_id)
    try:
        ended = services.coverage_end(coverage=coverage, by=user)
    except CoordinationError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Cover for {coverage.absent.full_name} "
            + ("has ended." if ended is not None else "is called off."),
        )
    return redirect("coverage_list")


# Hand-offs --------------------------------------------------------------------------------


@login_required
def handoff_list(request: HttpRequest) -> HttpResponse:
    user = _teamworker(request)
    return render(
        request,
        "coordination/handoff_list.html",
        {"handoffs": selectors.handoff_list(user=user), "givers": selectors.staff_acted_for(user)},
    )


def _giver(request: HttpRequest, user: User) -> User:
    raw = request.POST.get("from") or request.GET.get("from") or str(user.pk)
    if not raw.isdigit():
        raise Http404("No such staff member.")
    giver = access.staff_in_agency(user).filter(pk=int(raw)).first()
    if giver is None:
        raise Http404("No such staff member.")
    if not access.may_act_for(user, giver.pk):
        raise PermissionDenied(
            "You can hand off your own clients or, as their supervisor, your team's."
        )
    return giver


def _handoff_form(user: User, giver: User, data: Any = None) -> HandoffForm:
    assert user.agency is not None
    return HandoffForm(
        data,
        clients=selectors.handoff_candidates(user=user, giver=giver),
        staff=access.staff_in_agency(user),
        receivers=selectors.caseload_staff(user).exclude(pk=giver.pk),
        initial={"effective_on": user.agency.today(), "submission_key": new_submission_key()},
    )


@login_required
def handoff_new(request: HttpRequest) -> HttpResponse:
    """Hand some of a worker's clients to a colleague (their own, or a supervised team's)."""
    user = _teamworker(request)
    giver = _giver(request, user)
    form = _handoff_form(user, giver, request.POST if request.method == "POST" else None)
    context = {"form": form, "giver": giver, "givers": selectors.staff_acted_for(user)}
    if request.method != "POST":
        return render(request, "coordination/handoff_form.html", context)
    assert user.agency is not None
    earlier = submission_result(
        agency=user.agency,
        by=user,
        purpose=services.HANDOFF_CREATE,
        key=request.POST.get("submission_key", ""),
    )
    if earlier is not None:  # sent twice: its clients are no longer the giver's to choose
        return redirect("handoff_detail", earlier)
    if form.is_valid():
        data = form.cleaned_data
        try:
            handoff = services.handoff_create(
                from_staff=giver,
                to_staff=data["to_staff"],
                clients=list(data["clients"]),
                effective_on=data["effective_on"],
                by=user,
                message=data["message"],
                submission_key=data["submission_key"],
            )
        except CoordinationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Handed off to {handoff.to_staff.full_name}.")
            return redirect("handoff_detail", handoff.pk)
    return render(request, "coordination/handoff_form.html", context, status=400)


def _handoff_view(request: HttpRequest, handoff_id: int) -> tuple[User, selectors.HandoffView]:
    user = _teamworker(request)
    handoff = selectors.handoff_or_404(user, handoff_id)
    view = selectors.handoff_detail(user=user, handoff=handoff)
    audit_reads(actor=user, client_ids=sorted(c.client.pk for c in view.clients), section="handoff")
    return user, view


@login_required
def handoff_detail(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """Each client's summary as it stood at the hand-off, and the receiver's acknowledgement."""
    _, view = _handoff_view(request, handoff_id)
    return render(request, "coordination/handoff_detail.html", {"view": view})


@login_required
def handoff_print(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """The same summary on a plain page for paper."""
    _, view = _handoff_view(request, handoff_id)
    return render(request, "coordination/handoff_print.html", {"view": view})


@login_required
@require_POST
def handoff_acknowledge(request: HttpRequest, handoff_id: int) -> HttpResponse:
    user = _teamworker(request)
    handoff = selectors.handoff_or_404(user, handoff_id)
    try:
        services.handoff_acknowledge(handoff=handoff, by=user)
    except CoordinationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Acknowledged. The clients are yours from the effective date.")
    return redirect("handoff_detail", handoff.pk)
