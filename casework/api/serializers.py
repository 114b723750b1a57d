"""API serializers. Output and input are separate (HackSoft style): writes go through services."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.clients import services
from casework.clients.models import DEMOGRAPHIC_FIELDS, Client, Identifier
from casework.clients.validators import (
    normalize_identifier,
    validate_birth_date,
    validate_identifier,
)
from casework.core.models import Agency, Program, Role, User

# Merging is its own operation (an admin screen); the API never sets "merged" by hand.
WRITABLE_STATUSES = [
    (value, label) for value, label in Client.Status.choices if value != Client.Status.MERGED
]
IDEMPOTENCY_KEY_SHAPE = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")


def drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a 400 with field messages where the service named fields."""
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(
            {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()
            }
        )
    return serializers.ValidationError({"non_field_errors": error.messages})


class StrictCharField(serializers.CharField):
    """Text must arrive as a JSON string: a number where a name belongs is a client bug, not data."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        # Measured before trimming, as the schema's maxLength is.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true or false (DRF would also take "yes", 1, "on" …)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class IdentifierSerializer(serializers.ModelSerializer[Identifier]):
    class Meta:
        model = Identifier
        fields = ["kind", "value", "label"]
        read_only_fields = fields


class ClientSerializer(serializers.ModelSerializer[Client]):
    """A client as the API returns it."""

    identifiers = IdentifierSerializer(many=True, read_only=True)
    primary_case_manager_id = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = [
            "id",
            "record_number",
            *DEMOGRAPHIC_FIELDS,
            "status",
            "status_changed_on",
            "identifiers",
            "primary_case_manager_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_primary_case_manager_id(self, client: Client) -> int | None:
        assignments = getattr(client, "primary_assignments", None)
        if assignments is None:
            return None
        return assignments[0].staff_id if assignments else None


class _ClientInput(serializers.ModelSerializer[Client]):
    """Checks shared by create and update; the agency comes from the view's context."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }

    def validate_date_of_birth(self, value: datetime.date) -> datetime.date:
        agency: Agency = self.context["agency"]
        try:
            validate_birth_date(value, today=agency.today())
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return value

    def validate_state(self, value: str) -> str:
        state = value.strip().upper()
        if state and (len(state) != 2 or not state.isalpha()):
            raise serializers.ValidationError("Use the two-letter state code, e.g. WA.")
        return state


class ClientCreateSerializer(_ClientInput):
    """What a new client needs; ProviderOne id and Medicare MBI are optional identifiers."""

    providerone_id = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=20,
        write_only=True,
        help_text="Washington Medicaid (ProviderOne) client id: 9 digits then WA, e.g. 123456789WA.",
    )
    medicare_mbi = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=20,
        write_only=True,
        help_text="Medicare beneficiary identifier, e.g. 1EG4TE5MK73.",
    )

    primary_case_manager_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        write_only=True,
        help_text="Staff id of the primary case manager; needed unless you are a case manager or see the whole agency.",
    )

    class Meta:
        model = Client
        fields = [*DEMOGRAPHIC_FIELDS, "providerone_id", "medicare_mbi", "primary_case_manager_id"]

    def validate_primary_case_manager_id(self, value: int | None) -> User | None:
        if value is None:
            return None
        manager = (
            User.objects.filter(pk=value, agency=self.context["agency"], is_active=True)
            .filter(role_rows__role__in=[Role.CASE_MANAGER, Role.SUPERVISOR])
            .first()
        )
        if manager is None:
            raise serializers.ValidationError(
                "No active case manager or supervisor of your agency has this id."
            )
        return manager

    def _identifier(self, kind: str, value: str) -> str:
        cleaned = normalize_identifier(kind, value)
        if cleaned:
            try:
                validate_identifier(kind, cleaned)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from None
        return cleaned

    def validate_providerone_id(self, value: str) -> str:
        return self._identifier(Identifier.Kind.PROVIDERONE, value)

    def validate_medicare_mbi(self, value: str) -> str:
        return self._identifier(Identifier.Kind.MEDICARE_MBI, value)

    def demographics(self) -> dict[str, Any]:
        return {k: v for k, v in self.validated_data.items() if k in DEMOGRAPHIC_FIELDS}

    def identifiers(self) -> list[services.NewIdentifier]:
        return [
            services.NewIdentifier(
                Identifier.Kind.PROVIDERONE, self.validated_data.get("providerone_id", "")
            ),
            services.NewIdentifier(
                Identifier.Kind.MEDICARE_MBI, self.validated_data.get("medicare_mbi", "")
            ),
        ]


class ClientUpdateSerializer(_ClientInput):
    """Demographics and status; identifiers and the care team change through the chart."""

    status = serializers.ChoiceField(choices=WRITABLE_STATUSES, required=False)

    class Meta:
        model = Client
        fields = [*DEMOGRAPHIC_FIELDS, "status"]


class StaffSerializer(serializers.ModelSerializer[User]):
    name = serializers.CharField(source="full_name", read_only=True)
    roles = serializers.SerializerMethodField()
    team_ids = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "name", "email", "title", "roles", "is_active", "team_ids"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Role.choices)))
    def get_roles(self, user: User) -> list[str]:
        return sorted(row.role for row in user.role_rows.all())

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_team_ids(self, user: User) -> list[int]:
        return sorted(m.team_id for m in user.team_memberships.all())


class ProgramSerializer(serializers.ModelSerializer[Program]):
    class Meta:
        model = Program
        fields = ["id", "name", "code", "description", "is_active"]
        read_only_fields = fields


class ClientListQuerySerializer(serializers.Serializer[Any]):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Name (typo-tolerant), date of birth (YYYY-MM-DD or MM/DD/YYYY), "
        "identifier such as a ProviderOne id, or record number (exact).",
    )
    include_inactive = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also list inactive, discharged and deceased clients.",
    )
