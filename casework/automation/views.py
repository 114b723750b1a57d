"""Automation pages: the agency's rules (admins and supervisors), the log of what they did, and
a client's reminders and switches. Parse, call a service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from casework.automation import processes_bridge, selectors, services
from casework.automation.forms import ReminderForm, RuleForm, SwitchForm
from casework.automation.models import AutomationRule
from casework.automation.policy import (
    may_configure_automation,
    may_read_client_automation,
    may_switch_for_client,
)
from casework.clients.models import Client
from casework.clients.services import audit_chart_read
from casework.coordination.pages import chart_page
from casework.core import access
from casework.core.audit import audit_reads
from casework.core.idempotency import submission_result
from casework.core.models import Role, User

LOG_PAGE_SIZE = 50


def _configurer(request: HttpRequest) -> User:
    if not may_configure_automation(request.user):
        raise PermissionDenied("Only agency admins and supervisors set up automation rules.")
    return request.user  # type: ignore[return-value]


def _rule_form(user: User, data: object = None, rule: AutomationRule | None = None) -> RuleForm:
    agency_id = access.agency_id_of(user)
    return RuleForm(
        data,
        agency_id=agency_id,
        staff=selectors.assignable_staff(user=user),
        processes=processes_bridge.process_choices(agency_id=agency_id),
        rule=rule,
    )


def _form_page(
    request: HttpRequest, form: RuleForm, rule: AutomationRule | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "automation/rule_form.html",
        {"form": form, "rule": rule, "is_admin": request.user.has_role(Role.AGENCY_ADMIN)},  # type: ignore[union-attr]
        status=status,
    )


@login_required
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    user = _configurer(request)
    return render(
        request,
        "automation/rule_list.html",
        {
            "rules": list(selectors.rules_of_agency(user=user)),
            "is_admin": user.has_role(Role.AGENCY_ADMIN),
        },
    )


@login_required
def rule_new(request: HttpRequest) -> HttpResponse:
    user = _configurer(request)
    if request.method != "POST":
        return _form_page(request, _rule_form(user), None)
    assert user.agency is not None
    key = request.POST.get("submission_key", "")[:64]
    earlier = submission_result(agency=user.agency, by=user, purpose=services.RULE_CREATE, key=key)
    if earlier is not None:
        return redirect("automation_rule_list")
    form = _rule_form(user, request.POST)
    if form.is_valid():
        try:
            made = services.automation_rule_create(
                agency=user.agency, by=user, data=form.rule_input(), submission_key=key
            )
        except services.AutomationError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"Rule saved. {services.when_it_acts(made.trigger)}")
            return redirect("automation_rule_list")
    return _form_page(request, form, None, status=400)


@login_required
def rule_edit(request: HttpRequest, automation_rule_id: int) -> HttpResponse:
    user = _configurer(request)
    rule = selectors.rule_or_404(user=user, rule_id=automation_rule_id)
    if request.method != "POST":
        return _form_page(request, _rule_form(user, rule=rule), rule)
    form = _rule_form(user, request.POST, rule)
    if form.is_valid():
        try:
            services.automation_rule_update(
                rule=rule,
                by=user,
                data=form.rule_input(),
                expected_version=form.cleaned_data.get("version") or 0,
            )
        except services.AutomationError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, "Rule saved.")
            return redirect("automation_rule_list")
    return _form_page(request, form, rule, status=400)


@login_required
@require_POST
def rule_switch(request: HttpRequest, automation_rule_id: int) -> HttpResponse:
    user = _configurer(request)
    rule = selectors.rule_or_404(user=user, rule_id=automation_rule_id)
    on = request.POST.get("on") == "1"
    try:
        services.automation_rule_switch(rule=rule, by=user, on=on)
    except services.AutomationError as error:
        messages.error(request, f"“{rule.name}” stays off: {error}")
    else:
        messages.success(request, f"“{rule.name}” is {'on' if on else 'off'}.")
    return redirect("automation_rule_list")


@login_required
@require_GET
def run_log(request: HttpRequest) -> HttpResponse:
    """What the rules did, newest first, about the clients the reader may see."""
    user = _configurer(request)
    page = Paginator(selectors.run_log(user=user), LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    unsure = selectors.reminders_to_check(user=user)
    shown = {run.client_id for run in page.object_list} | {r.client_id for r in unsure}
    audit_reads(actor=user, client_ids=sorted(shown), section="automation log")
    return render(
        request,
        "automation/log.html",
        {"page": page, "unsure": unsure, "is_admin": user.has_role(Role.AGENCY_ADMIN)},
    )


# --- a client's automation --------------------------------------------------------------------


def _client_reader(request: HttpRequest, client_id: int) -> tuple[User, Client]:
    user = request.user
    if not may_read_client_automation(user):
        raise PermissionDenied("Your role does not include clients' reminders and automation.")
    return user, access.client_or_404(user, client_id)  # type: ignore[arg-type,return-value]


def _client_writer(request: HttpRequest, client_id: int) -> tuple[User, Client]:
    user, client = _client_reader(request, client_id)
    if not may_switch_for_client(user):
        raise PermissionDenied("Your role can read this page but not change it.")
    return user, client


def _client_page(
    request: HttpRequest,
    user: User,
    client: Client,
    reminder_form: ReminderForm | None = None,
    status: int = 200,
) -> HttpResponse:
    automation = selectors.client_automation(client=client)
    context = {
        "automation": automation,
        "reminder_form": reminder_form
        or ReminderForm(phones=automation.phones, preference=automation.preference),
        "switch_form": SwitchForm(),
        "may_switch": may_switch_for_client(user),
    }
    return chart_page(request, "automation/client.html", client, context, status)


@login_required
@require_GET
def client_automation(request: HttpRequest, client_id: int) -> HttpResponse:
    user, client = _client_reader(request, client_id)
    audit_chart_read(user=user, client=client, what="automation and reminders")
    return _client_page(request, user, client)


@login_required
@require_POST
def client_reminders(request: HttpRequest, client_id: int) -> HttpResponse:
    user, client = _client_writer(request, client_id)
    automation = selectors.client_automation(client=client)
    form = ReminderForm(request.POST, phones=automation.phones, preference=automation.preference)
    if form.is_valid():
        try:
            services.reminder_preference_save(
                client=client,
                by=user,
                channel=form.cleaned_data["channel"],
                phone=form.chosen_phone(),
                email=form.cleaned_data.get("email", ""),
            )
        except services.AutomationError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, "Reminder preference saved.")
            return redirect("automation_client", client.pk)
    return _client_page(request, user, client, reminder_form=form, status=400)


@login_required
@require_POST
def client_switch(request: HttpRequest, client_id: int) -> HttpResponse:
    """Switch every rule, or one, off or back on for the client."""
    user, client = _client_writer(request, client_id)
    form = SwitchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Keep the reason under 300 characters.")
        return redirect("automation_client", client.pk)
    rule_id = form.cleaned_data.get("rule")
    rule = selectors.rule_or_404(user=user, rule_id=rule_id) if rule_id is not None else None
    off = bool(form.cleaned_data.get("off"))
    try:
        services.automation_switch_for_client(
            client=client, by=user, rule=rule, off=off, reason=form.cleaned_data.get("reason", "")
        )
    except services.AutomationError as error:
        messages.error(request, str(error))
    else:
        what = f"“{rule.name}”" if rule is not None else "Automation"
        messages.success(request, f"{what} is {'off' if off else 'on'} for this client.")
    return redirect("automation_client", client.pk)
