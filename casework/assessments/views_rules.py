"""Agency-admin pages for the agency's assessment rules: list, add, change, delete.

Only agency admins reach them (403 for everyone else); a rule of another agency is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from casework.assessments import selectors, services_rules
from casework.assessments.forms import RuleForm
from casework.assessments.instruments import Instrument, instruments
from casework.assessments.models import AssessmentRule
from casework.core import access
from casework.core.models import Program, User


@dataclass(frozen=True)
class RuleRow:
    rule: AssessmentRule
    instrument: Instrument | None

    @property
    def name(self) -> str:
        return self.instrument.name if self.instrument else f"{self.rule.instrument} (removed)"

    @property
    def default_days(self) -> int | None:
        return self.instrument.raw.get("repeat_every_days") if self.instrument else None


def _admin(request: HttpRequest) -> User:
    if not access.may_configure_assessments(request.user):
        raise PermissionDenied("Only agency admins change the assessment rules.")
    return request.user  # type: ignore[return-value]


def _programs(user: User, rule: AssessmentRule | None) -> QuerySet[Program]:
    """Open programs, and the rule's own program even if it has since closed."""
    keep = Q(pk=rule.program_id) if rule is not None and rule.program_id else Q(pk__in=[])
    return access.programs_in_agency(user).filter(Q(is_active=True) | keep)


def _wanted(form: RuleForm) -> services_rules.RuleInput:
    data = form.cleaned_data
    return services_rules.RuleInput(
        instrument=data["instrument"],
        program=data["program"],
        repeat_every_days=data["repeat_every_days"],
        required=data["required"],
        first_due_days=data["first_due_days"],
    )


def _describe(wanted: services_rules.RuleInput) -> str:
    name = instruments()[wanted.instrument].name
    return f"{name} in {wanted.program.name if wanted.program else 'all programs'}"


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    known = instruments()
    rows = [
        RuleRow(rule, known.get(rule.instrument)) for rule in selectors.assessment_rules(user=user)
    ]
    return render(
        request,
        "assessments/rule_list.html",
        {"rows": rows, "instruments": list(known.values()), "tab": "agency"},
    )


def _form_page(request: HttpRequest, form: RuleForm, rule: AssessmentRule | None) -> HttpResponse:
    return render(
        request,
        "assessments/rule_form.html",
        {"form": form, "rule": rule, "tab": "agency"},
        status=400 if form.errors else 200,
    )


@login_required
def rule_new(request: HttpRequest) -> HttpResponse:
    user = _admin(request)
    form = RuleForm(request.POST or None, programs=_programs(user, None))
    if request.method == "POST" and form.is_valid():
        wanted = _wanted(form)
        try:
            assert user.agency is not None
            services_rules.assessment_rule_create(agency=user.agency, by=user, wanted=wanted)
        except services_rules.RuleError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"Added the rule for {_describe(wanted)}.")
            return redirect("assessment_rule_list")
    return _form_page(request, form, None)


@login_required
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    user = _admin(request)
    rule = selectors.assessment_rule_or_404(user=user, rule_id=rule_id)
    initial = {
        "instrument": rule.instrument,
        "program": rule.program_id,
        "repeat_every_days": rule.repeat_every_days,
        "required": rule.required,
        "first_due_days": rule.first_due_days,
    }
    form = RuleForm(request.POST or None, initial=initial, programs=_programs(user, rule))
    if request.method == "POST" and form.is_valid():
        wanted = _wanted(form)
        try:
            services_rules.assessment_rule_update(rule=rule, by=user, wanted=wanted)
        except services_rules.RuleError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, f"Saved the rule for {_describe(wanted)}.")
            return redirect("assessment_rule_list")
    return _form_page(request, form, rule)


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    user = _admin(request)
    rule = selectors.assessment_rule_or_404(user=user, rule_id=rule_id)
    row = RuleRow(rule, instruments().get(rule.instrument))
    services_rules.assessment_rule_delete(rule=rule, by=user)
    if rule.program is not None:
        after = "the all-programs rule, if there is one, applies to its clients again"
        where = f"the program {rule.program.name}"
    else:
        after = "programs without their own rule follow the instrument's own interval again"
        where = "all programs"
    messages.success(request, f"Deleted the rule for {row.name} in {where}; {after}.")
    return redirect("assessment_rule_list")
