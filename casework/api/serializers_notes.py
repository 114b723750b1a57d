"""Notes API serializers: a note as the API shows it, and what a draft, a signature, a void or
an addendum takes. Output and input are separate; the writes go through casework.notes.services.

Narratives (sections, the group's shared text, addenda text) are left out of the output for
people who may not read them: billing (unless the agency allows it), and everyone outside a
42 CFR Part 2 program for the notes written under it (casework.core.access). The view says
which, and `narrative_withheld` tells the caller why.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.api.serializers import StrictBooleanField, StrictCharField
from casework.billing.models import PLACE_OF_SERVICE_CHOICES, Charge, ServiceCode
from casework.clients.models import Client
from casework.core import access
from casework.core.models import Agency, User
from casework.notes.models import Addendum, ContactType, MedicationAdherence, NotableEvent, Note
from casework.notes.services import NoteError, NoteStart, note_start_defaults
from casework.notes.templates import note_template, template_choices

ADDENDUM_LIMIT = 20_000
# Larger than any id the database hands out, smaller than what it can compare without overflow.
MAX_ID = 2**63 - 1
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A service outside these years is a typing slip (2206 for 2026), not a record to keep.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2100, 12, 31)
# The service's form-field names, as the API calls those fields.
NOTE_ERROR_FIELDS = {
    "start_time": "start_at",
    "end_time": "end_at",
    "service_code": "service_code_id",
}


def note_error(error: NoteError) -> serializers.ValidationError:
    """A NoteError as a 400 in the API's error shape: {field: [message]} or non_field_errors."""
    field = error.field or "non_field_errors"
    if field.startswith("section_"):
        field = "sections"
    return serializers.ValidationError({NOTE_ERROR_FIELDS.get(field, field): [str(error)]})


# --- strict input fields (JSON types as the schema states them; shared with billing) ----------


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: DRF would also take "12" and 12.0, which the schema does not allow."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class QueryIntegerField(serializers.IntegerField):
    """An integer in a query string: digits only (DRF would also take "12.0" or " 12")."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not data.isascii() or not data.isdigit():
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictChoiceField(serializers.ChoiceField):
    """A JSON string among the choices (DRF would match the number 12 to the choice "12")."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictDateField(serializers.DateField):
    """A date as YYYY-MM-DD, nothing looser."""

    default_error_messages = {"invalid": "Date has wrong format. Use YYYY-MM-DD, e.g. 2026-11-16."}

    def to_internal_value(self, value: Any) -> datetime.date:
        if not isinstance(value, str) or not ISO_DATE.match(value):
            self.fail("invalid")
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.fail("invalid")


class OffsetDateTimeField(serializers.DateTimeField):
    """A moment with its UTC offset (RFC 3339), shown in the agency's time zone.

    A time without an offset would be read in whatever zone the server happens to use, so it is
    refused rather than guessed.
    """

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-11-16T10:00:00-08:00.",
    }

    def to_internal_value(self, value: Any) -> datetime.datetime:
        if not isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss]±hh:mm")
        parsed = super().to_internal_value(value)
        if not re.search(r"(Z|[+-]\d{2}:?\d{2})$", value.strip(), re.IGNORECASE):
            self.fail("naive")
        return parsed

    def default_timezone(self) -> Any:
        agency = self.context.get("agency")
        return agency.tzinfo if isinstance(agency, Agency) else super().default_timezone()

    def to_representation(self, value: Any) -> Any:
        local = self.enforce_timezone(value) if isinstance(value, datetime.datetime) else None
        offset = local.utcoffset() if local is not None else None
        if offset is not None and offset.seconds % 60:
            # A zone's old local mean time (+05:21:10) has no RFC 3339 form: answer in UTC.
            return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
        return super().to_representation(value)


class AgencyTimes:
    """Model serializers whose moments are shown in the agency's time zone (context `agency`)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: OffsetDateTimeField,
    }


class StrictDecimalField(serializers.DecimalField):
    """A JSON number (not a string and not true/false)."""

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class SectionsField(serializers.Field):
    """Section key -> text. Errors come back flat ({"sections": ["…"]}), as every field's do."""

    default_error_messages = {"not_an_object": "Send the sections as an object of key to text."}

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if not isinstance(data, dict):
            self.fail("not_an_object")
        text = StrictCharField(allow_blank=True, trim_whitespace=False)
        sections, problems = {}, []
        for key, value in data.items():
            try:
                sections[key] = text.run_validation(value)
            except serializers.ValidationError as error:
                messages = error.detail if isinstance(error.detail, list) else [error.detail]
                problems += [f"Section {key}: {message}" for message in messages]
        if problems:
            raise serializers.ValidationError(problems)
        return sections

    def to_representation(self, value: Any) -> dict[str, str]:
        return {str(key): str(text) for key, text in value.items()}


# --- output ------------------------------------------------------------------------------------


class HoldSerializer(serializers.Serializer[dict[str, str]]):
    code = serializers.CharField(read_only=True, help_text="e.g. no_coverage, credential, cosign")
    message = serializers.CharField(read_only=True)


# The charge's status as a note explains it (the charges API lists the model's own labels).
NOTE_CHARGE_STATUSES = [
    (Charge.Status.HELD.value, "Held: something stops it from being billed (see holds)"),
    (Charge.Status.READY.value, "Ready to bill"),
    (Charge.Status.BILLED.value, "Billed: claimed in a batch"),
    (Charge.Status.VOID.value, "Void: will not be billed"),
]


class NoteChargeSerializer(AgencyTimes, serializers.ModelSerializer[Charge]):
    """What the note's signature made: one charge, its units and amount, and what holds it."""

    status = serializers.ChoiceField(choices=NOTE_CHARGE_STATUSES, read_only=True)
    holds = HoldSerializer(source="hold_reasons", many=True, read_only=True)
    amount = serializers.DecimalField(max_digits=11, decimal_places=2, read_only=True)

    class Meta:
        model = Charge
        fields = ["id", "status", "units", "amount", "holds"]
        read_only_fields = fields


class AddendumSerializer(AgencyTimes, serializers.ModelSerializer[Addendum]):
    # Not read-only in the schema's eyes, so that leaving it out is allowed by the schema.
    text = serializers.CharField(
        required=False, help_text="Left out when the note's `narrative_withheld` says why."
    )

    class Meta:
        model = Addendum
        fields = ["id", "note_id", "author_id", "created_at", "text"]
        read_only_fields = ["id", "note_id", "author_id", "created_at"]

    def to_representation(self, instance: Addendum) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.note_id in self.context.get("withheld", {}):
            data.pop("text", None)
        return data


NARRATIVE_FIELDS = ("sections", "shared_text")


class NoteSerializer(AgencyTimes, serializers.ModelSerializer[Note]):
    """A service note as the API returns it, with its charge once signed."""

    start_at = OffsetDateTimeField(read_only=True, allow_null=True)
    end_at = OffsetDateTimeField(read_only=True, allow_null=True)
    place_of_service = serializers.ChoiceField(
        choices=PLACE_OF_SERVICE_CHOICES, allow_blank=True, read_only=True
    )
    minutes = serializers.SerializerMethodField(
        help_text="Elapsed minutes from start to end (fixed at signing)."
    )
    mileage = serializers.DecimalField(
        max_digits=6, decimal_places=1, coerce_to_string=False, read_only=True, allow_null=True
    )
    # Not read-only in the schema's eyes, so that leaving them out is allowed by the schema.
    sections = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="The narrative by template section. Left out when `narrative_withheld` says why.",
    )
    shared_text = serializers.CharField(
        required=False,
        help_text="The group session's shared part. Left out when `narrative_withheld` says why.",
    )
    medication_adherence = serializers.ChoiceField(
        choices=MedicationAdherence.choices,
        allow_blank=True,
        read_only=True,
        help_text="What the note found about the client's medications; blank: not discussed.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=NotableEvent.choices),
        read_only=True,
        help_text="Notable events the note records.",
    )
    addenda = AddendumSerializer(many=True, read_only=True)
    charge = serializers.SerializerMethodField()
    part2 = serializers.SerializerMethodField(
        help_text="Written under a 42 CFR Part 2 program: its narrative is read by the "
        "program's staff only."
    )
    narrative_withheld = serializers.SerializerMethodField(
        help_text="Why the narrative (sections, shared text, addenda text) is left out, e.g. "
        f"“{access.PART2_WITHHELD}”; empty when it is shown."
    )

    class Meta:
        model = Note
        fields = [
            "id",
            "client_id",
            "author_id",
            "group_id",
            "status",
            "service_date",
            "start_at",
            "end_at",
            "minutes",
            "contact_type",
            "place_of_service",
            "service_code_id",
            "present",
            "template",
            "sections",
            "shared_text",
            "mileage",
            "travel_minutes",
            "interpreter_used",
            "interpreter_language",
            "medication_adherence",
            "events",
            "appointment_id",
            "version",
            "created_at",
            "updated_at",
            "signed_at",
            "late_reason",
            "cosign_required",
            "cosigned_by_id",
            "cosigned_at",
            "voided_at",
            "voided_by_id",
            "void_reason",
            "addenda",
            "charge",
            "part2",
            "narrative_withheld",
        ]
        read_only_fields = [f for f in fields if f not in NARRATIVE_FIELDS]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_minutes(self, note: Note) -> int | None:
        return note.duration_minutes

    @extend_schema_field(NoteChargeSerializer(allow_null=True))
    def get_charge(self, note: Note) -> dict[str, Any] | None:
        try:
            charge = note.charge
        except ObjectDoesNotExist:
            return None
        return NoteChargeSerializer(charge, context=self.context).data

    def get_part2(self, note: Note) -> bool:
        return note.program_id in self.context.get("part2_programs", frozenset())

    def get_narrative_withheld(self, note: Note) -> str:
        withheld: dict[int, str] = self.context.get("withheld", {})
        return withheld.get(note.pk, "")

    def to_representation(self, instance: Note) -> dict[str, Any]:
        data = super().to_representation(instance)
        if instance.pk in self.context.get("withheld", {}):
            for name in NARRATIVE_FIELDS:
                data.pop(name, None)
        return data


# --- input -------------------------------------------------------------------------------------


class _DraftInput(serializers.Serializer[Any]):
    """What a draft may change (casework.notes.services.DRAFT_FIELDS), checked for type and range.

    Context: `agency` (service codes must be its own) and, for a change, the `note`.
    """

    service_date = StrictDateField(required=False)
    start_at = OffsetDateTimeField(required=False, allow_null=True)
    end_at = OffsetDateTimeField(required=False, allow_null=True)
    contact_type = StrictChoiceField(choices=ContactType.choices, required=False)
    place_of_service = StrictChoiceField(
        choices=PLACE_OF_SERVICE_CHOICES, required=False, allow_blank=True
    )
    service_code_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="An active service code of your agency; null for none.",
    )
    present = StrictCharField(required=False, allow_blank=True, max_length=500)
    template = StrictChoiceField(choices=template_choices(), required=False)
    sections = SectionsField(
        required=False,
        help_text="The narrative by the template's section keys (e.g. data, assessment, plan for "
        "DAP); replaces all sections. At most 100,000 characters together.",
    )
    mileage = StrictDecimalField(
        required=False,
        allow_null=True,
        max_digits=6,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("2000"),
        coerce_to_string=False,
    )
    travel_minutes = StrictIntegerField(
        required=False, allow_null=True, min_value=0, max_value=1440
    )
    interpreter_used = StrictBooleanField(required=False)
    interpreter_language = StrictCharField(required=False, allow_blank=True, max_length=60)

    def _in_range(self, day: datetime.date) -> None:
        if not EARLIEST <= day <= LATEST:
            raise serializers.ValidationError(
                f"Give a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}."
            )

    def validate_service_date(self, value: datetime.date) -> datetime.date:
        self._in_range(value)
        return value

    def validate_start_at(self, value: datetime.datetime | None) -> datetime.datetime | None:
        if value is not None:
            self._in_range(value.date())
        return value

    def validate_end_at(self, value: datetime.datetime | None) -> datetime.datetime | None:
        if value is not None:
            self._in_range(value.date())
        return value

    def validate_service_code_id(self, value: int | None) -> ServiceCode | None:
        if value is None:
            return None
        agency: Agency = self.context["agency"]
        code = ServiceCode.objects.filter(pk=value, agency=agency, is_active=True).first()
        if code is None:
            raise serializers.ValidationError("No active service code of your agency has this id.")
        return code

    def _check_sections(self, attrs: dict[str, Any], template_key: str) -> None:
        if "sections" not in attrs:
            return
        template = note_template(template_key)
        known = [s.key for s in template.sections]
        unknown = sorted(set(attrs["sections"]) - set(known))
        if unknown:
            raise serializers.ValidationError(
                {
                    "sections": [
                        f"The {template.name} template has no section {', '.join(unknown)}; "
                        f"use {', '.join(known)}."
                    ]
                }
            )

    def draft_data(self) -> dict[str, Any]:
        """The validated fields under the names note_save_draft takes."""
        data = dict(self.validated_data)
        if "service_code_id" in data:
            data["service_code"] = data.pop("service_code_id")
        data.pop("client_id", None)
        return data


class NoteUpdateSerializer(_DraftInput):
    """A change to one's own draft: only the fields sent change."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        note: Note = self.context["note"]
        self._check_sections(attrs, attrs.get("template", note.template))
        return attrs


START_FIELDS = ("service_date", "start_at", "end_at", "contact_type", "place_of_service", "present")


class NoteCreateSerializer(_DraftInput):
    """A new draft about a client; what is not sent starts from the author's last note."""

    client_id = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="A client you may see.")

    def validate_client_id(self, value: int) -> Client:
        user: User = self.context["user"]
        client = access.visible_clients(user).filter(pk=value).first()
        if client is None:
            raise serializers.ValidationError("No client you may see has this id.")
        return client

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start_at, end_at = attrs.get("start_at"), attrs.get("end_at")
        if start_at and end_at and end_at <= start_at:
            raise serializers.ValidationError(
                {"end_at": ["The end time must be after the start time."]}
            )
        defaults = note_start_defaults(client=attrs["client_id"], author=self.context["user"])
        self._check_sections(attrs, attrs.get("template", defaults.template))
        self.defaults = defaults
        return attrs

    def start(self) -> NoteStart:
        """The note's starting values: what was sent, the rest from note_start_defaults."""
        data = self.validated_data
        values = {name: data[name] for name in START_FIELDS if name in data}
        if "template" in data:
            values["template"] = data["template"]
        if "service_code_id" in data:
            code = data["service_code_id"]
            values["service_code_id"] = code.pk if code is not None else None
        return dataclasses.replace(self.defaults, **values)

    def draft_rest(self) -> dict[str, Any]:
        """What note_create does not take, to save into the new draft straight away."""
        rest = self.draft_data()
        for name in (*START_FIELDS, "template", "service_code"):
            rest.pop(name, None)
        return rest


class NoteSignSerializer(serializers.Serializer[Any]):
    attest = StrictBooleanField(
        help_text="true: I attest that I provided this service as documented."
    )
    late_reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Needed when the note is signed after the agency's limit for late notes.",
    )


class NoteVoidSerializer(serializers.Serializer[Any]):
    reason = StrictCharField(
        allow_blank=True, max_length=500, help_text="Why the note is void (entered in error …)."
    )


class AddendumCreateSerializer(serializers.Serializer[Any]):
    text = StrictCharField(allow_blank=True, max_length=ADDENDUM_LIMIT, trim_whitespace=False)


class QuerySerializer(serializers.Serializer[Any]):
    """Query parameters: one sent empty is refused (DRF would quietly treat it as not sent)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        blank = {
            name: ["Give a value, or leave the parameter out."]
            for name, _ in self.fields.items()
            if name in data and data.get(name) == ""
        }
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


class NoteListQuerySerializer(QuerySerializer):
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's notes."
    )
    status = serializers.ChoiceField(choices=Note.Status.choices, required=False)
    author = serializers.RegexField(
        r"^(me|[0-9]{1,18})$",
        required=False,
        help_text="`me` for your own notes, or a staff id.",
    )
    service_from = StrictDateField(required=False, help_text="Services on or after this date.")
    service_to = StrictDateField(required=False, help_text="Services on or before this date.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return date_range_checked(attrs)


def date_range_checked(attrs: dict[str, Any]) -> dict[str, Any]:
    first, last = attrs.get("service_from"), attrs.get("service_to")
    if first and last and first > last:
        raise serializers.ValidationError(
            {"service_to": ["The last service date is before the first."]}
        )
    return attrs
