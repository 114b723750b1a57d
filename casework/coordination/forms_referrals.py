"""Forms of the referral and prior-authorization pages.

Choices that name rows (organisations, people, documents, payers, codes) are limited by the view
to the user's agency and the client in hand.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.billing.models import Payer, ServiceCode
from casework.coordination.models import Category, Document, Organization, Person, Referral
from casework.coordination.models.referrals import TEXT_LIMIT
from casework.coordination.packets import PACKET_SECTIONS
from casework.coordination.services_prior_auth import (
    MAX_UNITS,
    NOTE_LIMIT,
    REFERENCE_LIMIT,
    PriorAuthDetails,
    PriorAuthStep,
)
from casework.coordination.services_referrals import (
    DETAIL_LIMIT,
    SUMMARY_LIMIT,
    PacketChoice,
    ReferralDetails,
    StatusChange,
)
from casework.web.forms import set_queryset
from casework.web.widgets import DateInput, TimeInput


def _textarea(limit: int, rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": limit})


def _too_long(limit: int) -> dict[str, str]:
    return {"max_length": f"Keep it under {limit:,} characters."}


class OrganizationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        label = str(obj.name)
        if obj.address:
            label += f", {obj.address}"
        if not obj.accepting_referrals:
            label += " (not accepting referrals now)"
        return label


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        where = f", {obj.organization.name}" if obj.organization_id else ""
        return f"{obj.name} ({obj.get_role_display()}{where})"


class DocumentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        label = f"{obj.title} ({obj.get_kind_display()}, {obj.dated_on:%m/%d/%Y})"
        return label + (" · 42 CFR Part 2 record" if obj.part2 else "")


class ReferralForm(forms.Form):
    organization = OrganizationChoiceField(
        queryset=Organization.objects.none(),
        label="Refer to",
        empty_label="Choose the organisation",
        help_text="From the directory. Not there? Add it to the directory first.",
        error_messages={
            "required": "Choose where you are referring the client.",
            "invalid_choice": "Choose an organisation from the list.",
        },
    )
    person = PersonChoiceField(
        queryset=Person.objects.none(),
        required=False,
        label="To the attention of",
        empty_label="No one in particular",
        error_messages={"invalid_choice": "Choose someone from the list."},
    )
    reason = forms.CharField(
        label="Why you are referring them",
        max_length=TEXT_LIMIT,
        widget=_textarea(TEXT_LIMIT),
        error_messages={
            "required": "Say why you are referring the client.",
            **_too_long(TEXT_LIMIT),
        },
    )
    urgency = forms.ChoiceField(
        label="How soon",
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how soon."},
    )
    follow_up_on = forms.DateField(
        label="Follow up on",
        required=False,
        widget=DateInput(),
        help_text="Puts a task on My day that day, to check the referral reached them.",
        error_messages={"invalid": "Enter a date."},
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        organizations: QuerySet[Organization],
        people: QuerySet[Person],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "organization", organizations)
        set_queryset(self, "person", people)

    def details(self) -> ReferralDetails:
        data = self.cleaned_data
        return ReferralDetails(
            organization=data["organization"],
            person=data["person"],
            reason=data["reason"],
            urgency=data["urgency"],
            follow_up_on=data["follow_up_on"],
        )


class PacketForm(forms.Form):
    sections = forms.MultipleChoiceField(
        label="Parts of the chart to include",
        required=False,
        choices=[(code, Category(code).label) for code in PACKET_SECTIONS],
        widget=forms.CheckboxSelectMultiple,
        help_text="The cover always names the client and their date of birth. Diagnoses come "
        "with current medications; the plan is the current signed plan's goals.",
    )
    documents = DocumentChoiceField(
        queryset=Document.objects.none(),
        label="Documents to attach",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="PDFs and images from the chart; each is added after the cover.",
        error_messages={"invalid_choice": "Choose documents from the list."},
    )
    summary = forms.CharField(
        label="Summary for the receiving provider",
        required=False,
        max_length=SUMMARY_LIMIT,
        widget=_textarea(SUMMARY_LIMIT, rows=8),
        error_messages=_too_long(SUMMARY_LIMIT),
    )
    sent_via = forms.ChoiceField(
        label="How you are sending it",
        required=False,
        choices=[("", "Choose how"), *Referral.SentVia.choices],
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, documents: QuerySet[Document], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "documents", documents)
        # Needed to send, not to save: the field template then does not call it optional.
        self.fields["sent_via"].needed_to_sign = True  # type: ignore[attr-defined]

    def packet(self) -> PacketChoice:
        data = self.cleaned_data
        return PacketChoice(
            summary=data["summary"],
            sections=tuple(data["sections"]),
            documents=tuple(data["documents"]),
        )


class ReferralStatusForm(forms.Form):
    status = forms.ChoiceField(
        label="What happened",
        choices=(),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happened.", "invalid_choice": "Choose one."},
    )
    scheduled_date = forms.DateField(
        label="Appointment day",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Enter a date."},
    )
    scheduled_time = forms.TimeField(
        label="Appointment time",
        required=False,
        widget=TimeInput(),
        error_messages={"invalid": "Enter a time, like 14:30."},
    )
    detail = forms.CharField(
        label="Note",
        required=False,
        max_length=DETAIL_LIMIT,
        help_text="If they declined, why.",
        widget=forms.TextInput(attrs={"maxlength": DETAIL_LIMIT}),
        error_messages=_too_long(DETAIL_LIMIT),
    )
    outcome = forms.CharField(
        label="Outcome",
        required=False,
        max_length=TEXT_LIMIT,
        help_text="What came of it, for the chart.",
        widget=_textarea(TEXT_LIMIT, rows=3),
        error_messages=_too_long(TEXT_LIMIT),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, statuses: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Referral.Status.choices)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [(code, labels[code]) for code in statuses]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("status") == Referral.Status.SCHEDULED:
            if not cleaned.get("scheduled_date") and "scheduled_date" not in self.errors:
                self.add_error("scheduled_date", "Give the day of the appointment.")
            if not cleaned.get("scheduled_time") and "scheduled_time" not in self.errors:
                self.add_error("scheduled_time", "Give the time of the appointment.")
        if cleaned.get("status") == Referral.Status.DECLINED and not cleaned.get("detail"):
            self.add_error("detail", "Say why they declined.")
        return cleaned

    def change(self, tz: datetime.tzinfo) -> StatusChange:
        data = self.cleaned_data
        when = None
        if data["status"] == Referral.Status.SCHEDULED:
            when = datetime.datetime.combine(
                data["scheduled_date"], data["scheduled_time"], tzinfo=tz
            )
        return StatusChange(
            status=data["status"],
            scheduled_for=when,
            detail=data["detail"],
            outcome=data["outcome"],
        )


# ---------------------------------------------------------------------------- prior auths


def _units(label: str, *, required: bool = True, help_text: str = "") -> forms.IntegerField:
    message = f"Enter a whole number from 1 to {MAX_UNITS:,}."
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=1,
        max_value=MAX_UNITS,
        help_text=help_text,
        error_messages={
            "invalid": message,
            "required": message,
            "min_value": message,
            "max_value": message,
        },
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_UNITS, "inputmode": "numeric"}),
    )


class PriorAuthForm(forms.Form):
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        empty_label="Choose the payer",
        error_messages={"required": "Choose the payer.", "invalid_choice": "Choose a payer."},
    )
    service_code = forms.ModelChoiceField(
        queryset=ServiceCode.objects.none(),
        label="Service",
        empty_label="Choose the service",
        error_messages={"required": "Choose the service.", "invalid_choice": "Choose a service."},
    )
    units_requested = _units("Units asked for")
    start_on = forms.DateField(
        label="From",
        widget=DateInput(),
        error_messages={"required": "Give the first day.", "invalid": "Enter a date."},
    )
    end_on = forms.DateField(
        label="Until",
        widget=DateInput(),
        error_messages={"required": "Give the last day.", "invalid": "Enter a date."},
    )
    reference = forms.CharField(
        label="Payer reference",
        required=False,
        max_length=REFERENCE_LIMIT,
        help_text="The payer's case or authorization number, once you have it.",
        error_messages=_too_long(REFERENCE_LIMIT),
    )
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        payers: QuerySet[Payer],
        codes: QuerySet[ServiceCode],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "payer", payers)
        set_queryset(self, "service_code", codes)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_on"), cleaned.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", "The end date cannot be before the start date.")
        return cleaned

    def details(self) -> PriorAuthDetails:
        data = self.cleaned_data
        return PriorAuthDetails(
            payer=data["payer"],
            service_code=data["service_code"],
            units_requested=data["units_requested"],
            start_on=data["start_on"],
            end_on=data["end_on"],
            reference=data["reference"],
        )


class PriorAuthStepForm(forms.Form):
    status = forms.ChoiceField(
        label="What happened",
        choices=(),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what happened.", "invalid_choice": "Choose one."},
    )
    on = forms.DateField(
        label="On",
        widget=DateInput(),
        error_messages={"required": "Give the date.", "invalid": "Enter a date."},
    )
    reference = forms.CharField(
        label="Payer reference (authorization number)",
        required=False,
        max_length=REFERENCE_LIMIT,
        help_text="Needed for an approval: billing puts it on claims.",
        error_messages=_too_long(REFERENCE_LIMIT),
    )
    units_approved = _units(
        "Units approved",
        required=False,
        help_text="For a partial approval. An approval without a number is for all units asked.",
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=NOTE_LIMIT,
        help_text="What the payer said: what they need, why they denied it.",
        widget=_textarea(NOTE_LIMIT, rows=2),
        error_messages=_too_long(NOTE_LIMIT),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, statuses: tuple[str, ...], labels: dict[str, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        status_field = self.fields["status"]
        assert isinstance(status_field, forms.ChoiceField)
        status_field.choices = [(code, labels[code]) for code in statuses]

    def step(self) -> PriorAuthStep:
        data = self.cleaned_data
        return PriorAuthStep(
            status=data["status"],
            on=data["on"],
            reference=data["reference"],
            units_approved=data["units_approved"],
            note=data["note"],
        )
