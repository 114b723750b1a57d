"""Forms for the client registry. Validation messages say what to do, not only what is wrong."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from casework.billing.models import Payer
from casework.clients.models import (
    DEMOGRAPHIC_FIELDS,
    CareTeamMember,
    Client,
    Coverage,
    Diagnosis,
    EmergencyContact,
    Episode,
    Identifier,
    Medication,
    Phone,
    SafetyFlag,
)
from casework.clients.validators import (
    icd10_description,
    normalize_icd10,
    normalize_identifier,
    validate_birth_date,
    validate_icd10_code,
    validate_identifier,
)
from casework.core.models import Agency, Program, User
from casework.web.forms import set_queryset
from casework.web.widgets import DateInput


class ClientForm(forms.ModelForm):
    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        self.agency = agency
        super().__init__(*args, **kwargs)
        self.fields["date_of_birth"].help_text = "Month, day and year, e.g. 03/14/1968."

    class Meta:
        model = Client
        fields = DEMOGRAPHIC_FIELDS
        widgets = {"date_of_birth": DateInput()}
        labels = {"legal_first_name": "Legal first name", "legal_last_name": "Legal last name"}

    def clean_date_of_birth(self) -> Any:
        value = self.cleaned_data["date_of_birth"]
        validate_birth_date(value, today=self.agency.today())
        return value

    def clean_state(self) -> str:
        state: str = self.cleaned_data.get("state", "").strip().upper()
        if state and (len(state) != 2 or not state.isalpha()):
            raise ValidationError("Use the two-letter state code, e.g. WA.")
        return state


class ClientCreateForm(ClientForm):
    providerone_id = forms.CharField(
        label="Washington Medicaid (ProviderOne) client id",
        required=False,
        max_length=20,
        help_text="9 digits then WA, e.g. 123456789WA.",
    )
    medicare_mbi = forms.CharField(label="Medicare MBI", required=False, max_length=20)
    primary_case_manager = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirm_not_duplicate = forms.BooleanField(
        required=False, label="None of these is the person I am registering: create a new record"
    )

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "primary_case_manager", staff)
        self.fields[
            "primary_case_manager"
        ].help_text = "Leave empty to assign yourself (if you are a case manager)."
        if not self.is_bound:
            self.initial["submission_key"] = uuid.uuid4().hex

    def clean_providerone_id(self) -> str:
        return self._identifier("providerone", "providerone_id")

    def clean_medicare_mbi(self) -> str:
        return self._identifier("medicare_mbi", "medicare_mbi")

    def _identifier(self, kind: str, field: str) -> str:
        value = normalize_identifier(kind, self.cleaned_data.get(field, ""))
        if value:
            validate_identifier(kind, value)
        return value


class PhoneForm(forms.ModelForm):
    class Meta:
        model = Phone
        fields = ["number", "kind", "may_leave_voicemail", "safe_to_text", "is_primary"]
        widgets = {"number": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})}


class EmergencyContactForm(forms.ModelForm):
    class Meta:
        model = EmergencyContact
        fields = ["name", "relationship", "phone", "notes"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel"})}


class IdentifierForm(forms.ModelForm):
    class Meta:
        model = Identifier
        fields = ["kind", "value", "label"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") and data.get("value"):
            data["value"] = normalize_identifier(data["kind"], data["value"])
            try:
                validate_identifier(data["kind"], data["value"])
            except ValidationError as error:
                self.add_error("value", error)
        return data


class CoverageForm(forms.ModelForm):
    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "payer", Payer.objects.filter(agency=agency, is_active=True))

    class Meta:
        model = Coverage
        fields = ["payer", "member_id", "group_number", "priority", "start_on", "end_on"]
        widgets = {"start_on": DateInput(), "end_on": DateInput()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start_on") and data.get("end_on") and data["end_on"] < data["start_on"]:
            self.add_error("end_on", "Coverage cannot end before it starts.")
        return data


class DiagnosisForm(forms.ModelForm):
    description = forms.CharField(
        required=False, max_length=250, help_text="Filled in from the code if left empty."
    )

    class Meta:
        model = Diagnosis
        fields = ["code", "description", "rank", "onset_on", "resolved_on"]
        widgets = {"onset_on": DateInput(), "resolved_on": DateInput()}

    def clean_code(self) -> str:
        code = normalize_icd10(self.cleaned_data["code"])
        validate_icd10_code(code)
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("code") and not data.get("description"):
            data["description"] = icd10_description(data["code"])
        return data


class MedicationForm(forms.ModelForm):
    class Meta:
        model = Medication
        fields = ["name", "dose", "frequency", "prescriber", "started_on", "stopped_on"]
        widgets = {"started_on": DateInput(), "stopped_on": DateInput()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("started_on")
            and data.get("stopped_on")
            and data["stopped_on"] < data["started_on"]
        ):
            self.add_error("stopped_on", "A medication cannot stop before it started.")
        return data


class SafetyFlagForm(forms.ModelForm):
    class Meta:
        model = SafetyFlag
        fields = ["kind", "detail"]


class EpisodeForm(forms.ModelForm):
    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "program", Program.objects.filter(agency=agency, is_active=True))

    class Meta:
        model = Episode
        fields = ["program", "admitted_on", "admission_reason", "discharged_on", "discharge_reason"]
        widgets = {"admitted_on": DateInput(), "discharged_on": DateInput()}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("admitted_on")
            and data.get("discharged_on")
            and data["discharged_on"] < data["admitted_on"]
        ):
            self.add_error("discharged_on", "Discharge cannot come before admission.")
        if data.get("discharged_on") and not data.get("discharge_reason"):
            self.add_error("discharge_reason", "Give the reason for discharge.")
        return data


class ReassignForm(forms.Form):
    to = forms.ModelChoiceField(queryset=User.objects.none(), label="New primary case manager")
    effective = forms.DateField(widget=DateInput(), label="From")
    reason = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "to", staff)


class CareTeamForm(forms.Form):
    staff = forms.ModelChoiceField(queryset=User.objects.none())
    role = forms.ChoiceField(
        choices=[c for c in CareTeamMember.Role.choices if c[0] != CareTeamMember.Role.PRIMARY]
    )
    start_on = forms.DateField(widget=DateInput(), label="From")

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "staff", staff)


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        min_length=10,
        max_length=500,
        help_text="Why you need this chart now. Your supervisor and the audit log will see this.",
    )


def emergency_access_form() -> BreakGlassForm:
    """The grant form under a withheld Part 2 record, with ids of its own: the page may hold
    another "reason" field (a note's void form)."""
    return BreakGlassForm(auto_id="emergency_%s")


class MergeForm(forms.Form):
    survivor = forms.CharField(label="Record number to keep", max_length=20)
    duplicate = forms.CharField(
        label="Duplicate record number (will be merged into the first)", max_length=20
    )


SECTION_FORMS: dict[str, tuple[type[forms.ModelForm[Any]], str]] = {
    "phone": (PhoneForm, "Phone"),
    "contact": (EmergencyContactForm, "Emergency contact"),
    "identifier": (IdentifierForm, "Identifier"),
    "coverage": (CoverageForm, "Coverage"),
    "diagnosis": (DiagnosisForm, "Diagnosis"),
    "medication": (MedicationForm, "Medication"),
    "flag": (SafetyFlagForm, "Safety flag"),
    "episode": (EpisodeForm, "Episode of care"),
}
AGENCY_FORMS = (CoverageForm, EpisodeForm)
