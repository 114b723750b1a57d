"""Service plan pages: start from the chart, write the draft part by part, sign, review, print."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from casework.clients.selectors import client_flags
from casework.clients.services import audit_chart_read
from casework.core import access
from casework.core.models import User
from casework.plans import exports, selectors, services
from casework.plans.diff import plan_changes
from casework.plans.forms import (
    ClientSignatureForm,
    PlanForm,
    ProgressForm,
    ReviewForm,
    SignatureForm,
    part_form,
)
from casework.plans.models import PlanSignature, ServicePlan
from casework.plans.services import PARTS, PlanError, Signature


def _writer(request: HttpRequest) -> User:
    if not access.may_write_notes(request.user):
        raise PermissionDenied("Your role does not write service plans.")
    return request.user  # type: ignore[return-value]


def _reader(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not access.may_read_narratives(user):
        raise PermissionDenied("Your role does not read service plans.")
    return user


def _add_error(form: Any, error: PlanError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


def _plan_url(plan: ServicePlan, anchor: str = "") -> str:
    return reverse("plan_detail", args=[plan.pk]) + (f"#{anchor}" if anchor else "")


def _render(
    request: HttpRequest,
    template: str,
    plan: ServicePlan,
    context: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        template,
        {"client": plan.client, "flags": client_flags(client=plan.client), "plan": plan, **context},
        status=status,
    )


def _signed_refusal(request: HttpRequest, plan: ServicePlan) -> HttpResponse:
    messages.error(request, "This plan is signed and cannot change; start a review instead.")
    return redirect("plan_detail", plan.pk)


@login_required
@require_POST
def plan_new(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _writer(request)
    client = access.client_or_404(user, client_id)
    assert user.agency is not None
    try:
        plan = services.plan_start(client=client, by=user, starts_on=user.agency.today())
    except PlanError as error:
        messages.error(request, str(error))
        return redirect("client_chart", client.pk)
    return redirect("plan_detail", plan.pk)


@login_required
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _reader(request)
    plan = selectors.plan_or_404(user, plan_id)
    audit_chart_read(user=user, client=plan.client, what="service plan")
    return _detail(request, user, plan)


def _detail(
    request: HttpRequest,
    user: User,
    plan: ServicePlan,
    plan_form: PlanForm | None = None,
    status: int = 200,
) -> HttpResponse:
    selectors.attach_progress(plan)
    context: dict[str, Any] = {
        "editing": not plan.is_signed and access.may_write_notes(user),
        "changes": plan_changes(plan.previous, plan) if plan.previous else [],
        "today": plan.agency.today(),
    }
    if context["editing"]:
        context["plan_form"] = plan_form or PlanForm.for_plan(plan)
        context["add_forms"] = {kind: part_form(kind, plan) for kind in PARTS}
        context["problems"] = services.sign_problems(plan)
    else:
        context["signature_form"] = SignatureForm()
        context["progress_form"] = ProgressForm()
        context["review_form"] = ReviewForm(initial={"starts_on": plan.agency.today()})
        context["may_sign_as_supervisor"] = services.may_sign_as_supervisor(user, plan)
        signed_roles = {s.role for s in plan.signatures.all() if s.method != "declined"}
        context["supervisor_signed"] = PlanSignature.Role.SUPERVISOR in signed_roles
        context["client_signed"] = bool(
            {PlanSignature.Role.CLIENT, PlanSignature.Role.GUARDIAN} & signed_roles
        )
        context["is_current"] = not ServicePlan.objects.filter(
            client_id=plan.client_id, number__gt=plan.number
        ).exists()
        context["may_write"] = access.may_write_notes(user)
    return _render(request, "plans/detail.html", plan, context, status=status)


@login_required
@require_POST
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = selectors.plan_or_404(user, plan_id)
    if plan.is_signed:
        return _signed_refusal(request, plan)
    form = PlanForm.for_plan(plan, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        texts = {name: data[name] for name in services.PLAN_TEXT_FIELDS if name in form.fields}
        try:
            services.plan_update(
                plan=plan,
                by=user,
                expected_revision=data["revision"],
                starts_on=data["starts_on"],
                **texts,
            )
        except PlanError as error:
            _add_error(form, error)
        else:
            messages.success(request, "Plan saved.")
            return redirect(_plan_url(plan, "plan-fields"))
    return _detail(request, user, plan, plan_form=form, status=400)


@login_required
def plan_part(
    request: HttpRequest, plan_id: int, kind: str, item_id: int | None = None
) -> HttpResponse:
    """Add or edit one need, goal, objective or intervention; on a mistake, keep what was typed."""
    user = _writer(request)
    if kind not in PARTS:
        raise Http404("No such part of a plan.")
    plan = selectors.plan_or_404(user, plan_id)
    if plan.is_signed:
        return _signed_refusal(request, plan)
    item = None
    if item_id is not None:
        item = PARTS[kind].objects.filter(plan=plan, pk=item_id).first()
        if item is None:
            raise Http404("No such part of this plan.")
    form = part_form(kind, plan, request.POST or None, initial=_initial(kind, item, request))
    if request.method == "GET":
        audit_chart_read(user=user, client=plan.client, what="service plan")
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_part(kind, plan, user, form.cleaned_data, item_id)
        except PlanError as error:
            _add_error(form, error)
        else:
            messages.success(request, f"{kind.capitalize()} saved.")
            return redirect(_plan_url(plan, f"{kind}-{saved.pk}"))
    return _render(
        request,
        "plans/part_form.html",
        plan,
        {"form": form, "kind": kind, "item": item},
        status=400 if form.errors else 200,
    )


def _initial(kind: str, item: Any, request: HttpRequest) -> dict[str, Any]:
    if item is None:
        parent = {"objective": "goal", "intervention": "objective", "goal": "need"}.get(kind)
        return {parent: request.GET.get(parent)} if parent else {}
    fields = {
        "need": ("area", "text"),
        "goal": ("need_id", "text"),
        "objective": ("goal_id", "text", "measure", "target_on"),
        "intervention": ("objective_id", "action", "responsible", "frequency", "service_code"),
    }[kind]
    return {name.removesuffix("_id"): getattr(item, name) for name in fields}


def _save_part(
    kind: str, plan: ServicePlan, by: User, data: dict[str, Any], item_id: int | None
) -> Any:
    """The form names a part's parent `need`/`goal`/`objective`; the model adds `_id`."""
    fields = {f"{name}_id" if name in PARTS else name: value for name, value in data.items()}
    if fields.get("need_id") == "":
        fields["need_id"] = None
    return services.part_save(plan=plan, by=by, kind=kind, data=fields, item_id=item_id)


@login_required
@require_POST
def plan_part_remove(request: HttpRequest, plan_id: int, kind: str, item_id: int) -> HttpResponse:
    user = _writer(request)
    plan = selectors.plan_or_404(user, plan_id)
    try:
        services.part_remove(plan=plan, by=user, kind=kind, item_id=item_id)
    except PlanError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{kind.capitalize()} removed.")
    return redirect(_plan_url(plan))


@login_required
def plan_sign(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = selectors.plan_or_404(user, plan_id)
    if plan.is_signed:
        return redirect("plan_detail", plan.pk)
    # The revision of the plan as the signer read it on the plan page, so a change made since
    # (a colleague's new goal) is not signed unseen.
    read_revision = request.GET.get("revision", "")
    form = ClientSignatureForm(
        request.POST or None,
        initial={
            "revision": read_revision if read_revision.isdigit() else plan.revision,
            "signed_on": plan.agency.today(),
            "method": PlanSignature.Method.ON_SCREEN,
        },
    )
    if request.method == "GET":
        audit_chart_read(user=user, client=plan.client, what="service plan")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_sign(
                plan=plan,
                by=user,
                expected_revision=data["revision"],
                client_signature=Signature(
                    role=data["role"],
                    method=data["method"],
                    name=data["name"],
                    signed_on=data["signed_on"],
                    reason=data["reason"],
                ),
            )
        except PlanError as error:
            _add_error(form, error)
        else:
            messages.success(request, f"Plan version {plan.number} signed and locked.")
            return redirect("plan_detail", plan.pk)
    return _render(
        request,
        "plans/sign.html",
        plan,
        {"form": form, "problems": services.sign_problems(plan)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def plan_signature(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _reader(request)
    plan = selectors.plan_or_404(user, plan_id)
    form = SignatureForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_signature_add(
                plan=plan,
                by=user,
                signature=Signature(
                    role=data["role"],
                    method=data["method"] or PlanSignature.Method.ON_SCREEN,
                    name=data["name"],
                    signed_on=data["signed_on"] or plan.agency.today(),
                    reason=data["reason"],
                ),
            )
        except PlanError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Signature recorded.")
    else:
        messages.error(request, _form_problems(form))
    return redirect(_plan_url(plan, "signatures"))


def _form_problems(form: Any) -> str:
    """A refused small form's errors as one message, each with the field it belongs to."""
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".lstrip(": ")
        for name, errors in form.errors.items()
    )


@login_required
@require_POST
def plan_review(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = selectors.plan_or_404(user, plan_id)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date the reviewed plan starts.")
        return redirect("plan_detail", plan.pk)
    try:
        review = services.plan_review_start(
            plan=plan, by=user, starts_on=form.cleaned_data["starts_on"]
        )
    except PlanError as error:
        messages.error(request, str(error))
        return redirect("plan_detail", plan.pk)
    return redirect("plan_detail", review.pk)


@login_required
@require_POST
def plan_discard(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _writer(request)
    plan = selectors.plan_or_404(user, plan_id)
    try:
        services.plan_discard(plan=plan, by=user)
    except PlanError as error:
        messages.error(request, str(error))
        return redirect("plan_detail", plan.pk)
    messages.success(request, "Draft plan discarded.")
    return redirect("client_chart", plan.client_id)


@login_required
@require_POST
def objective_progress(request: HttpRequest, plan_id: int, key: str) -> HttpResponse:
    user = _writer(request)
    plan = selectors.plan_or_404(user, plan_id)
    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            services.objective_status_set(
                client=plan.client,
                by=user,
                objective_key=key,
                status=form.cleaned_data["status"],
                comment=form.cleaned_data["comment"],
            )
        except PlanError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Progress recorded.")
    else:
        messages.error(request, "Choose the objective's status.")
    return redirect(_plan_url(plan, f"objective-{key}"))


@login_required
def plan_pdf(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = _reader(request)
    plan = selectors.plan_or_404(user, plan_id)
    selectors.attach_progress(plan)
    return exports.plan_pdf(plan, user=user, context={"today": plan.agency.today()})


@login_required
def plan_history(request: HttpRequest, client_id: int) -> HttpResponse:
    user = _reader(request)
    client = access.client_or_404(user, client_id)
    plans = selectors.plans_visible(user, client.pk).select_related("signed_by")
    audit_chart_read(user=user, client=client, what="service plan history")
    return render(
        request,
        "plans/history.html",
        {"client": client, "flags": client_flags(client=client), "plans": plans},
    )


@login_required
def goals_export(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    scope = "all" if request.GET.get("scope") == "all" else "mine"
    rows = selectors.caseload_goal_rows(user=user, mine_only=scope == "mine")
    return exports.goals_csv(rows, user=user, scope=scope)
