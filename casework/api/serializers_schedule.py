"""Appointments API serializers: an appointment as the API shows it (naming only the clients the
reader may see), a clash with another appointment, what an outcome made; and what a new
appointment, a change and an outcome take. Writes go through casework.schedule.services.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.api.serializers import StrictBooleanField, StrictCharField
from casework.api.serializers_notes import (
    MAX_ID,
    AgencyTimes,
    OffsetDateTimeField,
    QueryIntegerField,
    QuerySerializer,
    StrictChoiceField,
    StrictDecimalField,
    StrictIntegerField,
)
from casework.api.serializers_plans import enum_schema
from casework.api.serializers_tasks import TaskDateField
from casework.clients.models import Client
from casework.core import access
from casework.core.models import User
from casework.schedule.models import (
    Appointment,
    AppointmentKind,
    PlaceType,
    Resource,
    TravelLeg,
)
from casework.schedule.recurrence import RULE_LIMIT

MAX_LEGS = 8
MAX_CLIENTS = 30
SCOPES = [
    ("this", "This appointment only"),
    ("following", "This one and the following ones of its series"),
]
OUTCOME_STATUSES = [
    (Appointment.Status.ATTENDED.value, "Attended"),
    (Appointment.Status.NO_SHOW.value, "No-show"),
    (Appointment.Status.CANCELLED.value, "Cancelled (say by whom)"),
]
CONFLICT_KINDS = [
    ("staff", "The same staff member is booked"),
    ("resource", "The car or room is booked"),
]


# --- output ------------------------------------------------------------------------------------


class TravelLegSerializer(serializers.ModelSerializer[TravelLeg]):
    purpose = serializers.SerializerMethodField()
    miles = serializers.DecimalField(
        max_digits=5, decimal_places=1, coerce_to_string=False, read_only=True
    )

    class Meta:
        model = TravelLeg
        fields = ["purpose", "miles"]
        read_only_fields = fields

    @extend_schema_field(enum_schema(TravelLeg.Purpose.choices))
    def get_purpose(self, leg: TravelLeg) -> str:
        return leg.purpose


class AppointmentSerializer(AgencyTimes, serializers.ModelSerializer[Appointment]):
    """An appointment, times in the agency's time zone.

    Context `visible`: the ids of the clients the reader may see; only those are named;
    `warnings`: what the services warned of when it was just saved.
    """

    kind = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    place_type = serializers.SerializerMethodField()
    cancelled_by = serializers.SerializerMethodField()
    client_ids = serializers.SerializerMethodField(
        help_text="The clients at the appointment you may see."
    )
    other_clients = serializers.SerializerMethodField(
        help_text="How many more clients (of a group) are at it, whom you may not see."
    )
    minutes = serializers.SerializerMethodField(help_text="From start to end.")
    legs = TravelLegSerializer(many=True, read_only=True)
    warnings = serializers.SerializerMethodField(
        help_text="After a booking or a change: what you may go ahead with but should know (a "
        "holiday, not a working day, no address on file, a time in the past). Empty on reads."
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "kind",
            "status",
            "staff_id",
            "client_ids",
            "other_clients",
            "start_at",
            "end_at",
            "minutes",
            "place_type",
            "place",
            "purpose",
            "resource_id",
            "external_with",
            "external_place",
            "external_start_at",
            "external_end_at",
            "legs",
            "series_id",
            "occurrence_start",
            "is_exception",
            "cancelled_by",
            "outcome_reason",
            "outcome_at",
            "outcome_by_id",
            "version",
            "created_by_id",
            "created_at",
            "updated_at",
            "warnings",
        ]
        read_only_fields = fields

    def _clients(self, appointment: Appointment) -> list[int]:
        return sorted(c.pk for c in appointment.clients.all())

    @extend_schema_field(enum_schema(AppointmentKind.choices))
    def get_kind(self, appointment: Appointment) -> str:
        return appointment.kind

    @extend_schema_field(enum_schema(Appointment.Status.choices))
    def get_status(self, appointment: Appointment) -> str:
        return appointment.status

    @extend_schema_field(enum_schema(PlaceType.choices))
    def get_place_type(self, appointment: Appointment) -> str:
        return appointment.place_type

    @extend_schema_field(
        {
            **enum_schema(Appointment.CancelledBy.choices, "Set when cancelled."),
            "enum": ["", *Appointment.CancelledBy.values],
        }
    )
    def get_cancelled_by(self, appointment: Appointment) -> str:
        return appointment.cancelled_by

    def get_client_ids(self, appointment: Appointment) -> list[int]:
        visible: set[int] = self.context["visible"]
        return [pk for pk in self._clients(appointment) if pk in visible]

    def get_other_clients(self, appointment: Appointment) -> int:
        visible: set[int] = self.context["visible"]
        return sum(1 for pk in self._clients(appointment) if pk not in visible)

    def get_minutes(self, appointment: Appointment) -> int:
        return appointment.duration_minutes

    def get_warnings(self, appointment: Appointment) -> list[str]:
        return list(self.context.get("warnings", []))


class ConflictSerializer(serializers.Serializer[Any]):
    """Another appointment in the way. Its clients are not named."""

    appointment_id = serializers.IntegerField(read_only=True)
    staff_id = serializers.IntegerField(read_only=True)
    start_at = OffsetDateTimeField(read_only=True)
    end_at = OffsetDateTimeField(read_only=True)
    kind = serializers.SerializerMethodField(help_text="What is booked: the staff or the resource.")
    reason = serializers.CharField(read_only=True)

    @extend_schema_field(enum_schema(CONFLICT_KINDS))
    def get_kind(self, conflict: Any) -> str:
        return str(conflict["kind"])


class ConflictRefusalSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(read_only=True)
    field = serializers.CharField(read_only=True, allow_null=True)
    conflicts = ConflictSerializer(many=True, read_only=True)


class OutcomeResultSerializer(serializers.Serializer[Any]):
    appointment = AppointmentSerializer(read_only=True)
    task_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The follow-up task (a no-show, or a cancellation by the client).",
    )
    note_ids = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="The notes documenting a no-show or cancellation, one per client.",
    )


# --- input -------------------------------------------------------------------------------------


def _flat(detail: Any, label: str) -> list[str]:
    """Nested errors ({0: {"miles": ["…"]}}) as one line each ("Leg 1: miles: …")."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            where = f"{label} {int(key) + 1}" if str(key).isdigit() else str(key)
            lines += [f"{where}: {line}" for line in _flat(value, label)]
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flat(item, label)]
    return [str(detail)]


class FlatListField(serializers.ListField):
    """A list whose errors come back flat ({"legs": ["Leg 2: miles: …"]}), as every field's do."""

    def __init__(self, *, item_label: str, **kwargs: Any) -> None:
        self.item_label = item_label
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[Any]:
        try:
            return list(super().to_internal_value(data))
        except serializers.ValidationError as error:
            raise serializers.ValidationError(_flat(error.detail, self.item_label)) from None


class TravelLegInputSerializer(serializers.Serializer[Any]):
    purpose = StrictChoiceField(choices=TravelLeg.Purpose.choices)
    miles = StrictDecimalField(
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("1000"),
        coerce_to_string=False,
    )


class AppointmentWriteSerializer(serializers.Serializer[Any]):
    """A new appointment, or (partial: only the fields sent change) a change to one.

    One serializer for both, so that each choice set is one schema component. Context `user`,
    and `creating`: true for a new one.
    """

    kind = StrictChoiceField(choices=AppointmentKind.choices)
    staff_id = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Whose time it is: you unless sent (a supervisor books for the team, an admin "
        "for anyone).",
    )
    client_ids = FlatListField(
        item_label="Client",
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        max_length=MAX_CLIENTS,
        required=False,
        help_text="Clients you may see: one (a group: up to 30; a meeting with a provider: "
        "none or one).",
    )
    start_at = OffsetDateTimeField(help_text="The start of your time block, with its offset.")
    end_at = OffsetDateTimeField()
    place_type = StrictChoiceField(choices=PlaceType.choices)
    place = StrictCharField(required=False, allow_blank=True, max_length=300)
    purpose = StrictCharField(required=False, allow_blank=True, max_length=300)
    resource_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="A pool car or room of your agency.",
    )
    external_with = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The client's own appointment inside the block, e.g. Dr. Lee, psychiatry.",
    )
    external_place = StrictCharField(required=False, allow_blank=True, max_length=300)
    external_start_at = OffsetDateTimeField(required=False, allow_null=True)
    external_end_at = OffsetDateTimeField(required=False, allow_null=True)
    legs = FlatListField(
        item_label="Leg",
        child=TravelLegInputSerializer(),
        required=False,
        max_length=MAX_LEGS,
        help_text="The drive, leg by leg.",
    )
    confirm_conflicts = StrictBooleanField(
        required=False,
        help_text="true: book even though it overlaps other appointments (the 409 lists them).",
    )

    rule = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=RULE_LIMIT,
        help_text="To repeat it: an RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TU;COUNT=10, "
        "expanded in the agency's time zone from this appointment (the answer is the first "
        "occurrence). In a change, with scope `following`: the new series' rule (the old one, "
        "moved to the new weekday, unless sent).",
    )
    skip_holidays = StrictBooleanField(
        required=False,
        help_text="New repeating appointments: skip the agency's holidays (true unless sent).",
    )
    scope = StrictChoiceField(
        choices=SCOPES,
        required=False,
        help_text="A change to a repeating appointment: this one (unless sent), or this one and "
        "the following ones (a new series from here).",
    )

    def validate_staff_id(self, value: int) -> User:
        user: User = self.context["user"]
        staff = access.staff_in_agency(user).filter(pk=value).first()
        if staff is None:
            raise serializers.ValidationError("No one on your agency's staff has this id.")
        return staff

    def validate_client_ids(self, value: list[int]) -> list[Client]:
        user: User = self.context["user"]
        found = {c.pk: c for c in access.visible_clients(user).filter(pk__in=value)}
        if len(found) != len(set(value)):
            raise serializers.ValidationError("You may not see a client with one of these ids.")
        return [found[pk] for pk in value]

    def validate_resource_id(self, value: int | None) -> Resource | None:
        if value is None:
            return None
        user: User = self.context["user"]
        resource = Resource.objects.filter(agency_id=access.agency_id_of(user), pk=value).first()
        if resource is None:
            raise serializers.ValidationError("Your agency has no car or room with this id.")
        return resource

    def validate_legs(self, value: list[dict[str, Any]]) -> list[tuple[str, Decimal]]:
        return [(leg["purpose"], leg["miles"]) for leg in value]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.context.get("creating"):
            if "scope" in attrs:
                raise serializers.ValidationError(
                    {"scope": ["A scope applies to a change, not to a new appointment."]}
                )
        else:
            if "skip_holidays" in attrs:
                raise serializers.ValidationError(
                    {"skip_holidays": ["This applies to a new repeating appointment only."]}
                )
            if "rule" in attrs and attrs.get("scope") != "following":
                raise serializers.ValidationError(
                    {"rule": ["A new rule applies to this and the following ones: send scope too."]}
                )
        return attrs


class OutcomeSerializer(serializers.Serializer[Any]):
    status = StrictChoiceField(choices=OUTCOME_STATUSES)
    cancelled_by = StrictChoiceField(
        choices=Appointment.CancelledBy.choices,
        required=False,
        help_text="With cancelled: who cancelled. A cancellation by the client makes a "
        "follow-up task and a note, as a no-show does.",
    )
    reason = StrictCharField(required=False, allow_blank=True, max_length=300)


class AppointmentListQuerySerializer(QuerySerializer):
    staff = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this staff member's."
    )
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's."
    )
    start = TaskDateField(
        required=False, help_text="Starting on or after this day (the agency's local date)."
    )
    end = TaskDateField(
        required=False, help_text="Starting on or before this day (the agency's local date)."
    )
    status = serializers.ChoiceField(choices=Appointment.Status.choices, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start: datetime.date | None = attrs.get("start")
        end: datetime.date | None = attrs.get("end")
        if start is not None and end is not None and end < start:
            raise serializers.ValidationError({"end": ["The end is before the start."]})
        return attrs
