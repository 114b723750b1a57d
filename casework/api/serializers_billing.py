"""Billing API serializers: charges, claim lines and claim batches (metadata only: the 837P file
itself is its own download), and what recheck, void, corrections and a new batch take.

Output serializers take the context `agency`, to show moments in its time zone."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from casework.api.serializers import StrictCharField
from casework.api.serializers_notes import (
    MAX_ID,
    AgencyTimes,
    HoldSerializer,
    QueryIntegerField,
    QuerySerializer,
    StrictChoiceField,
    StrictDateField,
    StrictIntegerField,
    date_range_checked,
)
from casework.billing.models import Charge, ClaimBatch, ClaimLine, Payer
from casework.core.models import Agency

CORRECTION_CHOICES = [
    (ClaimLine.Frequency.REPLACEMENT.value, "Replacement of the original claim"),
    (ClaimLine.Frequency.VOID.value, "Void of the original claim"),
]


class ClaimLineSerializer(AgencyTimes, serializers.ModelSerializer[ClaimLine]):
    """A charge as claimed: the original claim, or a replacement or void queued for a batch."""

    amount = serializers.DecimalField(max_digits=11, decimal_places=2, read_only=True)

    class Meta:
        model = ClaimLine
        fields = [
            "id",
            "charge_id",
            "batch_id",
            "frequency",
            "original_reference",
            "amount",
            "requested_by_id",
            "created_at",
        ]
        read_only_fields = fields


class ChargeSerializer(AgencyTimes, serializers.ModelSerializer[Charge]):
    """What a signed note earns, why it is held, and how it was claimed."""

    service_code = serializers.CharField(
        source="service_code.label", read_only=True, help_text="Procedure code and modifiers."
    )
    rate = serializers.DecimalField(max_digits=9, decimal_places=2, read_only=True)
    amount = serializers.DecimalField(max_digits=11, decimal_places=2, read_only=True)
    diagnosis_codes = serializers.ListField(child=serializers.CharField(), read_only=True)
    holds = HoldSerializer(source="hold_reasons", many=True, read_only=True)
    claim_number = serializers.CharField(
        read_only=True, help_text="The patient control number (CLM01) it is claimed under."
    )
    claim_lines = ClaimLineSerializer(many=True, read_only=True)

    class Meta:
        model = Charge
        fields = [
            "id",
            "note_id",
            "client_id",
            "service_code_id",
            "service_code",
            "rendering_provider_id",
            "payer_id",
            "authorization_id",
            "service_date",
            "minutes",
            "units",
            "unit_rule",
            "rate",
            "amount",
            "place_of_service",
            "modifiers",
            "diagnosis_codes",
            "status",
            "holds",
            "void_reason",
            "claim_number",
            "claim_lines",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ClaimBatchSerializer(AgencyTimes, serializers.ModelSerializer[ClaimBatch]):
    """A generated 837P file's facts; GET …/file/ downloads the file itself."""

    total = serializers.DecimalField(max_digits=13, decimal_places=2, read_only=True)
    filename = serializers.CharField(read_only=True)

    class Meta:
        model = ClaimBatch
        fields = [
            "id",
            "payer_id",
            "service_from",
            "service_to",
            "control_number",
            "filename",
            "sha256",
            "claim_count",
            "total",
            "is_test",
            "created_by_id",
            "created_at",
            "submitted_at",
            "submitted_by_id",
        ]
        read_only_fields = fields


class ChargeVoidSerializer(serializers.Serializer[Any]):
    reason = StrictCharField(
        allow_blank=True, max_length=300, help_text="Why the charge is not to be billed."
    )


class ClaimCorrectionSerializer(serializers.Serializer[Any]):
    frequency = StrictChoiceField(
        choices=CORRECTION_CHOICES,
        help_text="7: replace the claim the payer has; 8: void it.",
    )
    original_reference = StrictCharField(
        allow_blank=True,
        max_length=50,
        help_text="The payer's claim number of the original claim (from the remittance).",
    )


class ClaimBatchCreateSerializer(serializers.Serializer[Any]):
    """Context: `agency` (the payer must be its own)."""

    payer = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="A payer of your agency.")
    service_from = StrictDateField(help_text="The first service date to claim.")
    service_to = StrictDateField(help_text="The last service date to claim.")

    def validate_payer(self, value: int) -> Payer:
        agency: Agency = self.context["agency"]
        payer = Payer.objects.filter(pk=value, agency=agency).first()
        if payer is None:
            raise serializers.ValidationError("No payer of your agency has this id.")
        return payer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return date_range_checked(attrs)


class ChargeListQuerySerializer(QuerySerializer):
    status = serializers.ChoiceField(choices=Charge.Status.choices, required=False)
    payer = QueryIntegerField(required=False, min_value=1, max_value=MAX_ID)
    client = QueryIntegerField(required=False, min_value=1, max_value=MAX_ID)
    service_from = StrictDateField(required=False, help_text="Services on or after this date.")
    service_to = StrictDateField(required=False, help_text="Services on or before this date.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return date_range_checked(attrs)


class ClaimBatchListQuerySerializer(QuerySerializer):
    payer = QueryIntegerField(required=False, min_value=1, max_value=MAX_ID)
