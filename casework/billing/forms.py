"""Forms for the billing work: building a batch, voiding and correcting charges."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet

from casework.billing.models import ClaimLine, Payer
from casework.web.widgets import DateInput


class BatchForm(forms.Form):
    payer = forms.ModelChoiceField(queryset=Payer.objects.none(), label="Payer")
    service_from = forms.DateField(label="Services from", widget=DateInput())
    service_to = forms.DateField(label="Services to", widget=DateInput())
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, payers: QuerySet[Payer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["payer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = payers

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("service_from"), cleaned.get("service_to")
        if start and end and start > end:
            self.add_error("service_to", "The last date is before the first.")
        if start and end and (end - start) > datetime.timedelta(days=366):
            self.add_error("service_to", "A batch covers at most one year of services.")
        return cleaned


class ChargeVoidForm(forms.Form):
    reason = forms.CharField(label="Why is this charge void?", max_length=300)


class CorrectionForm(forms.Form):
    frequency = forms.ChoiceField(
        label="Claim",
        choices=[
            (ClaimLine.Frequency.REPLACEMENT, "Replacement (7)"),
            (ClaimLine.Frequency.VOID, "Void (8)"),
        ],
        widget=forms.RadioSelect,
    )
    original_reference = forms.CharField(
        label="Payer's claim number", max_length=50, help_text="From the remittance advice (835)."
    )
