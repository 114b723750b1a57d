"""Forms of the directory pages: search, an organisation, a person, the CSV upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.coordination.directory_import import MAX_BYTES
from casework.coordination.models import Organization, Person, ServiceType
from casework.coordination.selectors_directory import DirectorySearch
from casework.coordination.services_directory import (
    ORGANIZATION_LIMITS,
    PERSON_LIMITS,
    OrganizationDetails,
    PersonDetails,
)
from casework.web.forms import set_queryset


def _text(label: str, limit: int, *, required_message: str = "", **kwargs: Any) -> forms.CharField:
    messages = {"max_length": f"Keep it to {limit} characters."}
    if required_message:
        messages["required"] = required_message
    return forms.CharField(
        label=label,
        max_length=limit,
        required=bool(required_message),
        error_messages=messages,
        widget=kwargs.pop("widget", forms.TextInput(attrs={"maxlength": limit})),
        **kwargs,
    )


class DirectorySearchForm(forms.Form):
    q = _text("Name or address", 200)
    service_type = forms.ChoiceField(
        label="Service",
        required=False,
        choices=[("", "Any service"), *ServiceType.choices],
    )
    language = _text("Language", 60, help_text="E.g. Spanish.")
    accepting = forms.BooleanField(label="Only those accepting referrals", required=False)
    inactive = forms.BooleanField(label="Include entries no longer in use", required=False)

    def search(self) -> DirectorySearch:
        data = self.cleaned_data if self.is_valid() else {}
        return DirectorySearch(
            text=data.get("q", ""),
            service_type=data.get("service_type", ""),
            language=data.get("language", "").strip(),
            accepting_only=bool(data.get("accepting")),
            include_inactive=bool(data.get("inactive")),
        )


class OrganizationForm(forms.Form):
    name = _text(
        "Name", ORGANIZATION_LIMITS["name"], required_message="Give the organisation's name."
    )
    service_types = forms.MultipleChoiceField(
        label="Services they offer",
        required=False,
        choices=ServiceType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    address = _text("Address", ORGANIZATION_LIMITS["address"])
    phone = _text(
        "Phone",
        ORGANIZATION_LIMITS["phone"],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "maxlength": 40}),
    )
    fax = _text(
        "Fax",
        ORGANIZATION_LIMITS["fax"],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "maxlength": 40}),
    )
    email = forms.EmailField(
        label="Email",
        required=False,
        max_length=ORGANIZATION_LIMITS["email"],
        error_messages={"invalid": "Enter an email address, like intake@clinic.org."},
    )
    website = _text("Website", ORGANIZATION_LIMITS["website"])
    hours = _text("Hours", ORGANIZATION_LIMITS["hours"])
    eligibility = _text(
        "Who they serve",
        ORGANIZATION_LIMITS["eligibility"],
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": ORGANIZATION_LIMITS["eligibility"]}),
        help_text="Ages, insurance, area, what to bring.",
    )
    languages = _text(
        "Languages", ORGANIZATION_LIMITS["languages"], help_text="E.g. English, Spanish."
    )
    accepting_referrals = forms.BooleanField(
        label="Accepting referrals now", required=False, initial=True
    )
    is_covered_entity = forms.BooleanField(
        label="HIPAA covered entity (a health plan or health care provider)", required=False
    )
    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def details(self) -> OrganizationDetails:
        data = self.cleaned_data
        return OrganizationDetails(
            name=data["name"],
            service_types=tuple(data["service_types"]),
            address=data["address"],
            phone=data["phone"],
            fax=data["fax"],
            email=data["email"],
            website=data["website"],
            hours=data["hours"],
            eligibility=data["eligibility"],
            languages=data["languages"],
            accepting_referrals=data["accepting_referrals"],
            is_covered_entity=data["is_covered_entity"],
        )

    @staticmethod
    def initial_of(organization: Organization) -> dict[str, Any]:
        return {
            "name": organization.name,
            "service_types": [s.service_type for s in organization.services.all()],
            "address": organization.address,
            "phone": organization.phone,
            "fax": organization.fax,
            "email": organization.email,
            "website": organization.website,
            "hours": organization.hours,
            "eligibility": organization.eligibility,
            "languages": organization.languages,
            "accepting_referrals": organization.accepting_referrals,
            "is_covered_entity": organization.is_covered_entity,
            "seen": organization.updated_at.isoformat(),
        }


class PersonForm(forms.Form):
    name = _text("Name", PERSON_LIMITS["name"], required_message="Give the person's name.")
    role = forms.ChoiceField(
        label="What they do",
        choices=[("", "Choose one"), *Person.Role.choices],
        error_messages={"required": "Choose what they do."},
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="Where they work",
        empty_label="Not with an organisation (family, a friend…)",
        error_messages={"invalid_choice": "Choose an organisation from the list."},
    )
    phone = _text(
        "Phone",
        PERSON_LIMITS["phone"],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "maxlength": 40}),
    )
    email = forms.EmailField(
        label="Email",
        required=False,
        max_length=PERSON_LIMITS["email"],
        error_messages={"invalid": "Enter an email address, like name@clinic.org."},
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, organizations: QuerySet[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "organization", organizations)

    def details(self) -> PersonDetails:
        data = self.cleaned_data
        return PersonDetails(
            name=data["name"],
            role=data["role"],
            organization=data["organization"],
            phone=data["phone"],
            email=data["email"],
        )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 text, at most 1 MB and 5,000 organisations.",
        error_messages={
            "required": "Choose the CSV file to import.",
            "empty": "The file is empty.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is 1 MB. "
                "Split it into smaller files."
            )
        return upload
