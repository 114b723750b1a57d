"""Care coordination in the API: the directory, releases, referrals, communications, documents."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.api.serializers import StrictCharField
from casework.api.serializers_notes import (
    MAX_ID,
    OffsetDateTimeField,
    QueryIntegerField,
    QuerySerializer,
    StrictChoiceField,
    StrictIntegerField,
)
from casework.clients.models import Client
from casework.coordination.models import (
    Category,
    Communication,
    Consent,
    Document,
    Organization,
    Person,
    Referral,
    ServiceType,
)
from casework.coordination.services_communications import MAX_MINUTES
from casework.core import access


class OrganizationSerializer(serializers.ModelSerializer[Organization]):
    service_types = serializers.SerializerMethodField()
    # Plain strings: an entry without an email or website has "" there, not a URI or address.
    email = serializers.CharField(help_text="Blank when unknown.")
    website = serializers.CharField(help_text="Blank when unknown.")

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "service_types",
            "address",
            "phone",
            "fax",
            "email",
            "website",
            "hours",
            "eligibility",
            "languages",
            "accepting_referrals",
            "is_covered_entity",
            "is_active",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=ServiceType.choices))
    )
    def get_service_types(self, organization: Organization) -> list[str]:
        return [service.service_type for service in organization.services.all()]


class OrganizationListQuerySerializer(QuerySerializer):
    q = serializers.CharField(
        required=False, max_length=100, help_text="Part of the organisation's name."
    )
    service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False)
    # A choice, not a BooleanField: DRF reads a missing boolean in a query string as false.
    accepting_referrals = serializers.ChoiceField(
        choices=["true", "false"], required=False, help_text="Only those that do (or don't)."
    )


class ConsentSerializer(serializers.ModelSerializer[Consent]):
    client = serializers.IntegerField(source="client_id")
    organization = serializers.IntegerField(source="organization_id", allow_null=True)
    person = serializers.IntegerField(source="person_id", allow_null=True)
    recipient = serializers.CharField(source="recipient_label")
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices),
        help_text="What the release lets the agency share.",
    )
    part2 = serializers.BooleanField(source="is_part2", help_text="A 42 CFR Part 2 consent.")
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "client",
            "organization",
            "person",
            "recipient",
            "purpose",
            "purpose_detail",
            "categories",
            "part2",
            "starts_on",
            "expires_on",
            "expiry_event",
            "ended_on",
            "signed_how",
            "signed_on",
            "revoked_at",
            "in_force",
        ]
        read_only_fields = fields

    def get_in_force(self, consent: Consent) -> bool:
        now, today = self.context["now"], self.context["today"]
        return consent.is_active_at(now, today)


class ConsentListQuerySerializer(QuerySerializer):
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's releases."
    )


class ReferralSerializer(serializers.ModelSerializer[Referral]):
    client = serializers.IntegerField(source="client_id")
    organization = serializers.IntegerField(source="organization_id")
    person = serializers.IntegerField(source="person_id", allow_null=True)
    documents = serializers.SerializerMethodField()
    sent_via = serializers.ChoiceField(
        choices=[("", "Not sent yet"), *Referral.SentVia.choices], help_text="Blank until sent."
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "client",
            "organization",
            "person",
            "reason",
            "urgency",
            "status",
            "sent_via",
            "sent_at",
            "scheduled_for",
            "follow_up_on",
            "outcome",
            "documents",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_documents(self, referral: Referral) -> list[int]:
        return [document.pk for document in referral.packet_documents.all()]


class ReferralListQuerySerializer(QuerySerializer):
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's referrals."
    )
    status = serializers.ChoiceField(choices=Referral.Status.choices, required=False)


class CommunicationSerializer(serializers.ModelSerializer[Communication]):
    client = serializers.IntegerField(source="client_id")
    organization = serializers.IntegerField(source="organization_id", allow_null=True)
    person = serializers.IntegerField(source="person_id", allow_null=True)
    who = serializers.CharField()
    staff = serializers.IntegerField(source="staff_id")
    note = serializers.IntegerField(source="note_id", allow_null=True)

    class Meta:
        model = Communication
        fields = [
            "id",
            "client",
            "occurred_at",
            "channel",
            "direction",
            "organization",
            "person",
            "who",
            "with_role",
            "minutes",
            "summary",
            "outcome",
            "staff",
            "note",
        ]
        read_only_fields = fields


class CommunicationListQuerySerializer(QuerySerializer):
    client = QueryIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only this client's communications.",
    )


class DocumentSerializer(serializers.ModelSerializer[Document]):
    client = serializers.IntegerField(source="client_id")
    name = serializers.CharField(source="original_name")

    class Meta:
        model = Document
        fields = [
            "id",
            "client",
            "kind",
            "title",
            "dated_on",
            "part2",
            "name",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
        ]
        read_only_fields = fields


class DocumentListQuerySerializer(QuerySerializer):
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's documents."
    )


class CommunicationCreateSerializer(serializers.Serializer[Any]):
    """A contact to log, e.g. from a phone system; the rules are the communications log's."""

    client_id = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="A client you may see.")
    occurred_at = OffsetDateTimeField(help_text="When it happened, with its UTC offset.")
    channel = StrictChoiceField(choices=Communication.Channel.choices)
    direction = StrictChoiceField(
        choices=Communication.Direction.choices, required=False, help_text="Outgoing if left out."
    )
    organization_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="An organisation of your agency's directory.",
    )
    person_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="A person of your agency's directory.",
    )
    with_name = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Who, when they are not in the directory (then with_role too).",
    )
    with_role = StrictChoiceField(choices=Person.Role.choices, required=False)
    minutes = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_MINUTES
    )
    summary = StrictCharField(max_length=2000, help_text="What was discussed.")
    outcome = StrictCharField(required=False, allow_blank=True, max_length=500)

    def _directory_row(self, model: type[Any], value: int | None) -> Any:
        if value is None:
            return None
        agency_id = self.context["user"].agency_id
        row = model.objects.filter(pk=value, agency_id=agency_id, is_active=True).first()
        if row is None:
            raise serializers.ValidationError("Not in your agency's directory.")
        return row

    def validate_client_id(self, value: int) -> Client:
        client = access.visible_clients(self.context["user"]).filter(pk=value).first()
        if client is None:
            raise serializers.ValidationError("No such client among those you may see.")
        return client

    def validate_organization_id(self, value: int | None) -> Organization | None:
        return self._directory_row(Organization, value)

    def validate_person_id(self, value: int | None) -> Person | None:
        return self._directory_row(Person, value)
