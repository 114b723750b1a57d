"""Forms for the billing set-up screens: payers, unit rules, the catalogue, fee rates,
authorizations and claim settings.

Choices that name rows (payers, codes, clients) are always limited by the view to the user's
agency and to what the user may see. The shapes (codes, modifiers, X12 identifiers) are checked
by the same functions the services use, so a form and a service never disagree.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from casework.billing.models import (
    PLACE_OF_SERVICE_CHOICES,
    ClaimSettings,
    Payer,
    ServiceCode,
    UnitRule,
)
from casework.billing.services.catalogue import (
    AuthorizationDetails,
    PayerDetails,
    ServiceCodeDetails,
    clean_modifiers,
    clean_procedure_code,
    clean_x12_identifier,
)
from casework.clients.models import Client
from casework.core.catalogues import credential_type_choices
from casework.web.forms import set_queryset
from casework.web.widgets import DateInput

MAX_AUTHORIZED_UNITS = 99_999
MAX_RATE = Decimal("99999.99")


def _whole_number(
    label: str, *, low: int, high: int, help_text: str = "", required: bool = True
) -> forms.IntegerField:
    message = f"Enter a whole number from {low:,} to {high:,}."
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=required,
        min_value=low,
        max_value=high,
        error_messages={
            "invalid": message,
            "required": message,
            "min_value": message,
            "max_value": message,
        },
        widget=forms.NumberInput(attrs={"min": low, "max": high, "inputmode": "numeric"}),
    )


# ---------------------------------------------------------------------------- payers


class PayerForm(forms.ModelForm):
    class Meta:
        model = Payer
        fields = [
            "name",
            "kind",
            "payer_id",
            "filing_indicator",
            "unit_rule",
            "requires_authorization",
            "bills_electronically",
            "is_active",
        ]
        labels = {
            "name": "Payer name",
            "kind": "Kind of payer",
            "payer_id": "Payer id (X12)",
            "filing_indicator": "Claim filing indicator",
            "unit_rule": "Default unit rule",
            "requires_authorization": "Requires an authorization",
            "bills_electronically": "Bills electronically (837P claims)",
            "is_active": "Active (new charges may go to this payer)",
        }
        help_texts = {
            "payer_id": "The id the clearinghouse or the payer's companion guide gives, e.g. 77045.",
            "filing_indicator": "SBR09 on claims: MC for Medicaid plans.",
        }

    def clean_payer_id(self) -> str:
        payer_id: str = self.cleaned_data["payer_id"].strip()
        if not payer_id:
            return payer_id
        try:
            return clean_x12_identifier(payer_id, label="payer id", max_length=80)
        except ValidationError as error:
            raise forms.ValidationError(error.messages[0]) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("bills_electronically")
            and not cleaned.get("payer_id")
            and "payer_id" not in self.errors
        ):
            self.add_error(
                "payer_id",
                "Give the payer id the clearinghouse uses, or untick “bills electronically”.",
            )
        return cleaned

    def details(self) -> PayerDetails:
        data = self.cleaned_data
        return PayerDetails(
            name=data["name"],
            kind=data["kind"],
            payer_id=data["payer_id"],
            filing_indicator=data["filing_indicator"],
            unit_rule=data["unit_rule"],
            requires_authorization=data["requires_authorization"],
            bills_electronically=data["bills_electronically"],
            is_active=data["is_active"],
        )


class PayerCodeRulesForm(forms.Form):
    """One unit-rule choice per service code: the payer's default, or a rule of its own."""

    def __init__(
        self,
        *args: Any,
        payer: Payer,
        codes: list[ServiceCode],
        current: dict[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.codes = codes
        default = f"Payer default: {payer.get_unit_rule_display()}"
        for code in codes:
            self.fields[f"code_{code.pk}"] = forms.ChoiceField(
                label=f"{code.label} {code.description}",
                choices=[("", default), *UnitRule.choices],
                required=False,
                initial=current.get(code.pk, ""),
            )

    @property
    def rows(self) -> list[tuple[ServiceCode, forms.BoundField]]:
        return [(code, self[f"code_{code.pk}"]) for code in self.codes]

    def rules(self) -> dict[ServiceCode, str]:
        return {code: self.cleaned_data[f"code_{code.pk}"] for code in self.codes}


# ---------------------------------------------------------------------------- service codes


class ServiceCodeForm(forms.ModelForm):
    code = forms.CharField(
        label="Procedure code (HCPCS/CPT)",
        max_length=20,
        help_text="5 characters: a letter and 4 digits (T1017) or 5 digits (90837).",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    modifiers = forms.CharField(
        label="Modifiers",
        max_length=40,
        required=False,
        help_text="Up to four, separated by spaces, e.g. HF or HF U1.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
    )
    minimum_minutes = _whole_number(
        "Minimum minutes",
        low=0,
        high=720,
        help_text="Shorter contacts give no units. Usually 1; encounter codes may need more.",
    )
    allowed_credentials = forms.MultipleChoiceField(
        label="Credentials that may render it",
        choices=credential_type_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none to allow any current credential.",
    )
    allowed_places = forms.MultipleChoiceField(
        label="Places of service allowed",
        choices=PLACE_OF_SERVICE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none to allow any place.",
    )

    class Meta:
        model = ServiceCode
        fields = [
            "code",
            "modifiers",
            "description",
            "unit_type",
            "minimum_minutes",
            "is_billable",
            "allowed_credentials",
            "allowed_places",
            "is_active",
        ]
        labels = {
            "description": "Service",
            "unit_type": "Unit",
            "is_billable": "Billable (clear it for codes that are only reported)",
            "is_active": "Active (notes may use this code)",
        }

    def clean_code(self) -> str:
        try:
            return clean_procedure_code(self.cleaned_data["code"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages[0]) from None

    def clean_modifiers(self) -> str:
        try:
            return clean_modifiers(self.cleaned_data["modifiers"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages[0]) from None

    def details(self) -> ServiceCodeDetails:
        data = self.cleaned_data
        return ServiceCodeDetails(
            code=data["code"],
            modifiers=data["modifiers"],
            description=data["description"],
            unit_type=data["unit_type"],
            minimum_minutes=data["minimum_minutes"],
            is_billable=data["is_billable"],
            allowed_credentials=tuple(data["allowed_credentials"]),
            allowed_places=tuple(data["allowed_places"]),
            is_active=data["is_active"],
        )


# ---------------------------------------------------------------------------- fee rates


class RateField(forms.DecimalField):
    """Dollars and cents; a “$” and thousands commas as people type them are fine."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace("$", "").replace(",", "").strip()
        return super().to_python(value)


RATE_MESSAGE = "Enter the rate per unit in dollars and cents, from 0.00 to 99,999.99, e.g. 27.50."


class FeeRateForm(forms.Form):
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        required=False,
        empty_label="Agency default (every payer without a rate of its own)",
        label="Payer",
    )
    effective_from = forms.DateField(
        label="In effect from",
        widget=DateInput(),
        help_text="It replaces the earlier rate for the same payer from this date on.",
        error_messages={"required": "Give the date the rate starts.", "invalid": "Enter a date."},
    )
    rate = RateField(
        label="Rate per unit ($)",
        min_value=Decimal("0.00"),
        max_value=MAX_RATE,
        max_digits=9,
        decimal_places=2,
        error_messages={
            key: RATE_MESSAGE
            for key in ("required", "invalid", "min_value", "max_value", "max_digits")
        }
        | {"max_decimal_places": "Give the rate to the cent at most, e.g. 27.50."},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, payers: QuerySet[Payer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "payer", payers)


# ---------------------------------------------------------------------------- authorizations


class ClientByRecordNumberField(forms.ModelChoiceField):
    """A client chosen by typing their record number (a list of every client would not scale)."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> Client | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        assert self.queryset is not None  # the view always sets it
        try:
            client: Client = self.queryset.get(record_number__iexact=text)
        except (Client.DoesNotExist, Client.MultipleObjectsReturned):
            raise forms.ValidationError(
                f"No client you may see has the record number “{text}”.", code="invalid_choice"
            ) from None
        return client

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Client):
            return value.record_number
        return super().prepare_value(value)


class AuthorizationForm(forms.Form):
    client = ClientByRecordNumberField(
        queryset=Client.objects.none(),
        label="Client record number",
        help_text="As on the client's chart, e.g. T-000123.",
        error_messages={"required": "Give the client's record number."},
    )
    payer = forms.ModelChoiceField(
        queryset=Payer.objects.none(),
        empty_label="Choose the payer",
        error_messages={"required": "Choose the payer.", "invalid_choice": "Choose a payer."},
    )
    number = forms.CharField(
        label="Authorization number",
        max_length=50,
        error_messages={"required": "Give the authorization number from the payer."},
    )
    service_codes = forms.ModelMultipleChoiceField(
        queryset=ServiceCode.objects.none(),
        label="Service codes it covers",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one service code it covers."},
    )
    units = _whole_number("Units authorized", low=1, high=MAX_AUTHORIZED_UNITS)
    start_on = forms.DateField(
        label="Starts on",
        widget=DateInput(),
        error_messages={"required": "Give the first day it covers.", "invalid": "Enter a date."},
    )
    end_on = forms.DateField(
        label="Ends on",
        widget=DateInput(),
        error_messages={"required": "Give the last day it covers.", "invalid": "Enter a date."},
    )
    note = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
    )

    def __init__(
        self,
        *args: Any,
        clients: QuerySet[Client],
        payers: QuerySet[Payer],
        codes: QuerySet[ServiceCode],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        set_queryset(self, "client", clients)
        set_queryset(self, "payer", payers)
        set_queryset(self, "service_codes", codes)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_on"), cleaned.get("end_on")
        if start and end and end < start:
            self.add_error("end_on", "The end date cannot be before the start date.")
        return cleaned

    def details(self) -> AuthorizationDetails:
        data = self.cleaned_data
        return AuthorizationDetails(
            client=data["client"],
            payer=data["payer"],
            number=data["number"],
            service_codes=tuple(data["service_codes"]),
            units=data["units"],
            start_on=data["start_on"],
            end_on=data["end_on"],
            note=data["note"],
        )


# ---------------------------------------------------------------------------- claim settings

_PHONE_CHARACTERS = re.compile(r"[0-9+().\-\s x]*")
_TAXONOMY = re.compile(r"[0-9]{3}[0-9A-Z]{6}X")


class TelInput(forms.TextInput):
    input_type = "tel"


class ClaimSettingsForm(forms.ModelForm):
    is_test = forms.TypedChoiceField(
        label="Claim files are",
        choices=[
            ("test", "Test files (ISA15 = T), until the payer approves production"),
            ("production", "Production files (ISA15 = P)"),
        ],
        coerce=lambda value: value == "test",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose test or production."},
    )

    class Meta:
        model = ClaimSettings
        fields = [
            "submitter_id",
            "submitter_contact",
            "submitter_phone",
            "receiver_name",
            "receiver_id",
            "interchange_sender_id",
            "interchange_receiver_id",
            "taxonomy_code",
            "is_test",
        ]
        labels = {
            "submitter_id": "Submitter id (ETIN)",
            "submitter_contact": "Contact person for claim questions",
            "submitter_phone": "Contact phone",
            "receiver_name": "Receiver name",
            "receiver_id": "Receiver id",
            "interchange_sender_id": "ISA sender id",
            "interchange_receiver_id": "ISA receiver id",
            "taxonomy_code": "Billing provider taxonomy",
        }
        widgets = {"submitter_phone": TelInput(attrs={"autocomplete": "tel"})}
        help_texts = {
            "receiver_id": "The clearinghouse or payer that receives the files.",
            "interchange_sender_id": "Up to 15 characters, usually the submitter id.",
            "interchange_receiver_id": "Up to 15 characters.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance_is_test = self.instance.is_test if self.instance.pk else True
        self.initial["is_test"] = "test" if instance_is_test else "production"

    def _identifier(self, name: str, label: str, max_length: int) -> str:
        try:
            return clean_x12_identifier(self.cleaned_data[name], label=label, max_length=max_length)
        except ValidationError as error:
            raise forms.ValidationError(error.messages[0]) from None

    def clean_submitter_id(self) -> str:
        return self._identifier("submitter_id", "submitter id", 80)

    def clean_receiver_id(self) -> str:
        return self._identifier("receiver_id", "receiver id", 80)

    def clean_interchange_sender_id(self) -> str:
        return self._identifier("interchange_sender_id", "ISA sender id", 15)

    def clean_interchange_receiver_id(self) -> str:
        return self._identifier("interchange_receiver_id", "ISA receiver id", 15)

    def clean_submitter_phone(self) -> str:
        phone: str = self.cleaned_data["submitter_phone"].strip()
        digits = "".join(character for character in phone if character.isdigit())
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if not _PHONE_CHARACTERS.fullmatch(phone) or not phone.isascii() or len(digits) != 10:
            raise forms.ValidationError("Give a 10-digit US phone number, e.g. 206-555-0142.")
        return phone

    def clean_taxonomy_code(self) -> str:
        code: str = self.cleaned_data["taxonomy_code"].strip().upper()
        if code and not _TAXONOMY.fullmatch(code):
            raise forms.ValidationError(
                "A taxonomy code is 10 letters or digits ending in X, e.g. 251S00000X."
            )
        return code

    def settings_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
