"""Plan forms: the plan's own fields, one small form per part, signatures and progress."""

from __future__ import annotations

from typing import Any

from django import forms

from casework.plans.models import (
    LONG_TEXT_LIMIT,
    TEXT_LIMIT,
    PlanNeed,
    PlanObjective,
    PlanSignature,
    ServicePlan,
)
from casework.web.widgets import DateInput


def _text(label: str, limit: int = TEXT_LIMIT, rows: int = 3, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=limit,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": limit}),
        **kwargs,
    )


class PlanForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)
    starts_on = forms.DateField(label="Plan starts", widget=DateInput())
    strengths = _text(
        "Strengths",
        LONG_TEXT_LIMIT,
        required=False,
        help_text="What the client is good at, what has helped before: the plan builds on it.",
    )
    barriers = _text("Barriers", LONG_TEXT_LIMIT, required=False)
    participation = _text(
        "How the client took part",
        LONG_TEXT_LIMIT,
        required=False,
        help_text="In the client's words where possible: what they asked for, what they agreed.",
    )
    review_summary = _text("Progress since the last plan", LONG_TEXT_LIMIT, required=False, rows=4)

    def __init__(self, *args: Any, review: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("strengths", "participation"):
            self.fields[name].needed_to_sign = True  # type: ignore[attr-defined]
        if not review:
            del self.fields["review_summary"]

    @classmethod
    def for_plan(cls, plan: ServicePlan, data: Any = None) -> PlanForm:
        initial = {
            name: getattr(plan, name)
            for name in ("revision", "starts_on", "strengths", "barriers", "participation")
        }
        initial["review_summary"] = plan.review_summary
        return cls(data, initial=initial, review=plan.previous_id is not None)


class NeedForm(forms.Form):
    area = forms.ChoiceField(label="Area", choices=[("", "Choose…"), *PlanNeed.Area.choices])
    text = _text("The need, in the client's words", help_text="What the client says they need.")


class GoalForm(forms.Form):
    need = forms.TypedChoiceField(label="Need it answers", coerce=int, required=False)
    text = _text("Goal, in the client's words", help_text="What the client wants to achieve.")

    def __init__(self, *args: Any, plan: ServicePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        need = self.fields["need"]
        assert isinstance(need, forms.TypedChoiceField)
        need.choices = [("", "—")] + [
            (n.pk, f"{n.get_area_display()}: {n.text[:60]}") for n in plan.needs.all()
        ]


class ObjectiveForm(forms.Form):
    goal = forms.TypedChoiceField(label="Goal", coerce=int)
    text = _text("Objective", help_text="A step the client can take, specific and measurable.")
    measure = forms.CharField(
        label="How we will know", max_length=500, help_text="E.g. “3 of 4 weekly visits kept”."
    )
    target_on = forms.DateField(label="Target date", widget=DateInput())

    def __init__(self, *args: Any, plan: ServicePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        goal = self.fields["goal"]
        assert isinstance(goal, forms.TypedChoiceField)
        goal.choices = [
            (g.pk, f"Goal {number}: {g.text[:60]}")
            for number, g in enumerate(plan.goals.all(), start=1)
        ]


class InterventionForm(forms.Form):
    objective = forms.TypedChoiceField(label="Objective", coerce=int)
    action = _text("What will be done", rows=2)
    responsible = forms.CharField(
        label="Who does it", max_length=200, help_text="E.g. case manager, client, psychiatrist."
    )
    frequency = forms.CharField(label="How often", max_length=100, help_text="E.g. weekly.")
    service_code = forms.CharField(label="Service code (if billed)", max_length=5, required=False)

    def __init__(self, *args: Any, plan: ServicePlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        objective = self.fields["objective"]
        assert isinstance(objective, forms.TypedChoiceField)
        objective.choices = [
            (o.pk, o.text[:70]) for g in plan.goals.all() for o in g.objectives.all()
        ]


PART_FORMS: dict[str, type[forms.Form]] = {
    "need": NeedForm,
    "goal": GoalForm,
    "objective": ObjectiveForm,
    "intervention": InterventionForm,
}


def part_form(kind: str, plan: ServicePlan, data: Any = None, initial: Any = None) -> forms.Form:
    """The form for one kind of part, prefixed by its kind so several can share a page."""
    form_class = PART_FORMS[kind]
    if form_class is NeedForm:
        return NeedForm(data, initial=initial, prefix=kind)
    return form_class(data, initial=initial, plan=plan, prefix=kind)  # type: ignore[call-arg]


class ClientSignatureForm(forms.Form):
    """The client's part at signing: signed on screen, on paper, or did not sign (and why)."""

    revision = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(
        label="Signed by",
        choices=[
            (PlanSignature.Role.CLIENT, "The client"),
            (PlanSignature.Role.GUARDIAN, "The client's guardian or representative"),
        ],
        widget=forms.RadioSelect,
        initial=PlanSignature.Role.CLIENT,
    )
    method = forms.ChoiceField(
        label="How", choices=PlanSignature.Method.choices, widget=forms.RadioSelect
    )
    name = forms.CharField(
        label="Name as signed",
        max_length=200,
        required=False,
        help_text="Typed by the client on screen, or as written on the paper copy.",
    )
    name.needed_to_sign = True  # type: ignore[attr-defined]
    signed_on = forms.DateField(label="Date signed", widget=DateInput())
    reason = forms.CharField(label="Why the plan was not signed", max_length=500, required=False)
    attest = forms.BooleanField(
        label="I reviewed this plan with the client and sign it as the case manager.",
        error_messages={"required": "Tick the box to sign the plan."},
    )


class SignatureForm(forms.Form):
    """A signature added after signing: the supervisor's, or the client's paper copy."""

    role = forms.ChoiceField(
        label="Signature of",
        choices=[
            (PlanSignature.Role.SUPERVISOR, "Supervisor (me, on screen)"),
            (PlanSignature.Role.CLIENT, "The client"),
            (PlanSignature.Role.GUARDIAN, "The client's guardian or representative"),
        ],
        widget=forms.RadioSelect,
    )
    method = forms.ChoiceField(
        label="How",
        choices=PlanSignature.Method.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    name = forms.CharField(label="Name as signed", max_length=200, required=False)
    signed_on = forms.DateField(label="Date signed", widget=DateInput(), required=False)
    reason = forms.CharField(label="Why not signed", max_length=500, required=False)


class ProgressForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=PlanObjective.Status.choices)
    comment = forms.CharField(label="Comment", max_length=500, required=False)


class ReviewForm(forms.Form):
    starts_on = forms.DateField(label="The reviewed plan starts", widget=DateInput())
