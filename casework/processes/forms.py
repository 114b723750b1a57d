"""Forms of guided processes: a step's form is built from the fields its diagram declares."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms

from casework.core import access
from casework.core.models import User
from casework.processes.bpmn import LARGEST_FILE
from casework.processes.models import REASON_LIMIT, ProcessDefinition
from casework.processes.steps import Field, StepSpec

TEXT_LIMIT = 500
LONG_LIMIT = 5000
YES_NO = (("yes", "Yes"), ("no", "No"))


def caseload_staff(user: User) -> Any:
    return (
        access.staff_in_agency(user)
        .filter(is_active=True, role_rows__role__in=access.CASELOAD_ROLES)
        .distinct()
        .order_by("last_name", "first_name")
    )


def _form_field(field: Field, user: User) -> forms.Field:
    common: dict[str, Any] = {"label": field.label, "required": field.required}
    if field.kind == "long":
        return forms.CharField(
            max_length=LONG_LIMIT, widget=forms.Textarea(attrs={"rows": 4}), **common
        )
    if field.kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if field.kind == "datetime":
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            **common,
        )
    if field.kind == "number":
        return forms.IntegerField(min_value=0, max_value=10_000_000, **common)
    if field.kind == "yesno":
        return forms.ChoiceField(choices=YES_NO, widget=forms.RadioSelect, **common)
    if field.kind == "choice":
        return forms.ChoiceField(choices=field.choices, widget=forms.RadioSelect, **common)
    if field.kind == "staff":
        return forms.ModelChoiceField(queryset=caseload_staff(user), **common)
    return forms.CharField(max_length=TEXT_LIMIT, **common)


class StepForm(forms.Form):
    """The answers a step asks for; `answers()` gives them as plain JSON values."""

    def __init__(self, *args: Any, spec: StepSpec, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        for field in spec.fields:
            self.fields[field.name] = _form_field(field, user)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in cleaned.items():
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, "This contains a character that cannot be saved.")
        return cleaned

    def answers(self) -> dict[str, Any]:
        kinds = {f.name: f.kind for f in self.spec.fields}
        return {name: _json_value(kinds[name], value) for name, value in self.cleaned_data.items()}


def _json_value(kind: str, value: Any) -> Any:
    if value in (None, ""):
        return None
    if kind == "yesno":
        return value == "yes"
    if kind == "staff":
        return value.pk
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


class DefinitionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class StartForm(forms.Form):
    definition = DefinitionChoice(
        queryset=ProcessDefinition.objects.none(), label="Process", empty_label=None
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        definitions = ProcessDefinition.objects.filter(
            agency_id=access.agency_id_of(user), is_active=True
        ).defer("bpmn")
        self.fields["definition"].queryset = definitions.order_by("name")  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=REASON_LIMIT, label="Reason")


class ReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=User.objects.none(), label="Give the process to")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = caseload_staff(user)  # type: ignore[attr-defined]


class UploadForm(forms.Form):
    file = forms.FileField(
        label="BPMN file",
        help_text="A .bpmn file made in any BPMN 2.0 modeller, up to 1 MB.",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > LARGEST_FILE:
            raise forms.ValidationError("The file is over 1 MB.")
        data: bytes = upload.read()
        return data
