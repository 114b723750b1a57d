"""Forms for early warnings: the agency's rules, and acknowledging a warning with a plan."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.core.models import User
from casework.web.widgets import DateInput
from casework.worklist.models import TITLE_LIMIT, WarningKind
from casework.worklist.warnings import (
    DEFAULT_THRESHOLDS,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    RULE_TEXT,
    THRESHOLD_UNITS,
    Rule,
    RuleInput,
)


def enabled_field(kind: str) -> str:
    return f"{kind}-enabled"


def threshold_field(kind: str) -> str:
    return f"{kind}-threshold"


class WarningRulesForm(forms.Form):
    """Every rule on one page: on or off, and (where it has one) its threshold."""

    def __init__(
        self, *args: Any, rules: dict[str, Rule], explicit: dict[str, int | None], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[str, str, forms.BoundField, forms.BoundField | None]] = []
        for kind, label in WarningKind.choices:
            self.fields[enabled_field(kind)] = forms.BooleanField(
                label=f"Warn: {str(label).lower()}",
                required=False,
                initial=rules[kind].enabled,
                help_text=RULE_TEXT[kind],
            )
            if kind in DEFAULT_THRESHOLDS:
                unit = THRESHOLD_UNITS[kind]
                self.fields[threshold_field(kind)] = forms.IntegerField(
                    label=f"Threshold ({unit})",
                    required=False,
                    min_value=MIN_THRESHOLD,
                    max_value=MAX_THRESHOLD,
                    initial=explicit.get(kind),
                    help_text=f"Blank uses the default: {DEFAULT_THRESHOLDS[kind]} {unit}.",
                    widget=forms.NumberInput(
                        attrs={"placeholder": str(DEFAULT_THRESHOLDS[kind]), "inputmode": "numeric"}
                    ),
                )
        for kind, label in WarningKind.choices:
            threshold = self[threshold_field(kind)] if kind in DEFAULT_THRESHOLDS else None
            self.rows.append((kind, str(label), self[enabled_field(kind)], threshold))

    def wanted(self) -> list[RuleInput]:
        data = self.cleaned_data
        return [
            RuleInput(
                kind=kind,
                enabled=bool(data.get(enabled_field(kind))),
                threshold=data.get(threshold_field(kind)),
            )
            for kind in WarningKind.values
        ]


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.full_name)


class AcknowledgeForm(forms.Form):
    plan = forms.CharField(
        label="What will you do about it?",
        max_length=TITLE_LIMIT,
        help_text="This becomes a task on My day, e.g. “Home visit Thursday; call Dr. Lee today”.",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what you will do about it."},
    )
    due_on = forms.DateField(label="By when", widget=DateInput())
    assignee = StaffChoice(label="Who does it", queryset=User.objects.none(), empty_label=None)

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = staff
