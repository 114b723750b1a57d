"""Assessments API serializers: instruments as data, assessments with their computed scores, and
what a new draft, a save of answers and an addendum take. Writes go through
casework.assessments.services; the total, band and flags are always computed, never sent.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.api.serializers import StrictCharField
from casework.api.serializers_notes import (
    EARLIEST,
    MAX_ID,
    AgencyTimes,
    QueryIntegerField,
    QuerySerializer,
    StrictChoiceField,
    StrictDateField,
    StrictIntegerField,
)
from casework.assessments.instruments import Instrument, Result, instruments
from casework.assessments.models import Assessment, AssessmentAddendum
from casework.assessments.services import TEXT_LIMIT, AssessmentError
from casework.clients.models import Client
from casework.core import access
from casework.core.models import Agency, User

ADDENDUM_LIMIT = 20_000


def instrument_choices() -> list[tuple[str, str]]:
    return [(key, instrument.name) for key, instrument in instruments().items()]


# --- instruments -------------------------------------------------------------------------------


class OptionSerializer(serializers.Serializer[Mapping[str, Any]]):
    value = serializers.IntegerField(read_only=True, help_text="What the API stores and sends.")
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # shadows Field.label
    score = serializers.IntegerField(
        read_only=True,
        help_text="What the answer adds to the total (reverse-scored items count down).",
    )


class ItemSerializer(serializers.Serializer[Mapping[str, Any]]):
    key = serializers.CharField(read_only=True, help_text="The key of its answer in `answers`.")
    text = serializers.CharField(read_only=True)
    type = serializers.ChoiceField(
        choices=[("choice", "One of the options (an integer)"), ("text", "Free text")],
        read_only=True,
    )
    section = serializers.CharField(read_only=True, allow_blank=True)
    required = serializers.BooleanField(  # type: ignore[assignment]  # shadows Field.required
        read_only=True, help_text="Needs an answer before the assessment can be signed."
    )
    scored = serializers.BooleanField(read_only=True, help_text="Counts toward the total.")
    sex = serializers.CharField(
        read_only=True, allow_null=True, help_text="Asked only of clients of this sex (F or M)."
    )
    options = OptionSerializer(many=True, read_only=True)


class BandSerializer(serializers.Serializer[Mapping[str, Any]]):
    min = serializers.IntegerField(read_only=True)
    max = serializers.IntegerField(read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # shadows Field.label
    severity = serializers.ChoiceField(choices=["none", "low", "moderate", "high"], read_only=True)


class FlagRuleSerializer(serializers.Serializer[Mapping[str, Any]]):
    kind = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)
    urgent = serializers.BooleanField(read_only=True)
    when = serializers.DictField(
        read_only=True, help_text='e.g. {"item": "q9", "op": ">", "value": 0}.'
    )


class SubscaleSerializer(serializers.Serializer[Mapping[str, Any]]):
    key = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # shadows Field.label
    items = serializers.ListField(child=serializers.CharField(), read_only=True)


class InstrumentSerializer(serializers.Serializer[Any]):
    """An instrument file as the API shows it: items with their options, bands, flags."""

    key = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    version = serializers.CharField(read_only=True)
    instructions = serializers.CharField(read_only=True, allow_blank=True)
    source = serializers.CharField(read_only=True)  # type: ignore[assignment]  # shadows Field.source
    licence = serializers.CharField(read_only=True)
    repeat_every_days = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Due again this many days after a signed one."
    )
    has_total = serializers.BooleanField(read_only=True)
    items = ItemSerializer(many=True, read_only=True)
    bands = BandSerializer(many=True, read_only=True)
    bands_by_sex = serializers.DictField(
        child=BandSerializer(many=True),
        read_only=True,
        allow_null=True,
        help_text="Bands that differ by the client's sex (F, M, U), where the instrument has them.",
    )
    subscales = SubscaleSerializer(many=True, read_only=True)
    flags = FlagRuleSerializer(many=True, read_only=True)

    def to_representation(self, instance: Instrument) -> dict[str, Any]:
        raw = instance.raw
        items = []
        for item in instance.items:
            options = [
                {
                    "value": option["value"],
                    "label": option["label"],
                    "score": instance.item_score(item, option["value"])
                    if item.get("scored", True)
                    else 0,
                }
                for option in instance.options(item)
            ]
            items.append(
                {
                    "key": item["key"],
                    "text": item["text"],
                    "type": item["type"],
                    "section": item.get("section", ""),
                    "required": item.get("required", True),
                    "scored": item["type"] == "choice" and item.get("scored", True),
                    "sex": item.get("sex"),
                    "options": options,
                }
            )
        return {
            "key": instance.key,
            "name": instance.name,
            "version": instance.version,
            "instructions": raw.get("instructions", ""),
            "source": raw["source"],
            "licence": raw["licence"],
            "repeat_every_days": raw.get("repeat_every_days"),
            "has_total": bool(raw.get("total", True)),
            "items": items,
            "bands": [_band(b) for b in raw.get("bands", [])],
            "bands_by_sex": (
                {sex: [_band(b) for b in bands] for sex, bands in raw["bands_by_sex"].items()}
                if "bands_by_sex" in raw
                else None
            ),
            "subscales": [dict(s) for s in raw.get("subscales", [])],
            "flags": [
                {
                    "kind": f["kind"],
                    "message": f["message"],
                    "urgent": f.get("urgent", False),
                    "when": dict(f["when"]),
                }
                for f in raw.get("flags", [])
            ],
        }


def _band(band: Mapping[str, Any]) -> dict[str, Any]:
    return {**band, "severity": band.get("severity", "none")}


# --- assessments: output -----------------------------------------------------------------------


class AssessmentAddendumSerializer(AgencyTimes, serializers.ModelSerializer[AssessmentAddendum]):
    class Meta:
        model = AssessmentAddendum
        fields = ["id", "assessment_id", "author_id", "created_at", "text"]
        read_only_fields = fields


class FlagSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.CharField(read_only=True, help_text="e.g. suicide_risk")
    message = serializers.CharField(read_only=True)
    urgent = serializers.BooleanField(read_only=True)
    item = serializers.CharField(
        read_only=True, allow_null=True, help_text="The item whose answer raised it, if one did."
    )


ANSWERS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    "description": "Item key -> answer: a choice item takes the `value` of one of its options "
    "(an integer), a text item a string. See /api/v1/instruments/{key}/.",
}


@extend_schema_field(ANSWERS_SCHEMA)
class AnswersField(serializers.Field):
    """The answers object; what each answer may be is checked against the instrument
    (`answers_checked`), so that a refusal names the item."""

    default_error_messages = {
        "not_an_object": "Send the answers as an object of item key to answer."
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("not_an_object")
        return data

    def to_representation(self, value: Any) -> dict[str, Any]:
        return dict(value)


class AssessmentSerializer(AgencyTimes, serializers.ModelSerializer[Assessment]):
    """An assessment with its score: fixed at signing, computed from the answers for a draft."""

    instrument_name = serializers.SerializerMethodField()
    answers = AnswersField(read_only=True)
    total = serializers.SerializerMethodField(
        help_text="Computed from the answers; null until every required item is answered "
        "(and for instruments without a total). Fixed at signing."
    )
    band = serializers.SerializerMethodField(help_text="The band the total falls in, if any.")
    flags = serializers.SerializerMethodField(help_text="What the answers raise (e.g. risk).")
    complete = serializers.SerializerMethodField(help_text="Every required item is answered.")
    missing = serializers.SerializerMethodField(
        help_text="Required items still without an answer (a draft cannot be signed until none)."
    )
    addenda = AssessmentAddendumSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "client_id",
            "author_id",
            "instrument",
            "instrument_name",
            "instrument_version",
            "administered_on",
            "mode",
            "status",
            "version",
            "answers",
            "total",
            "band",
            "flags",
            "complete",
            "missing",
            "created_at",
            "updated_at",
            "signed_at",
            "addenda",
        ]
        read_only_fields = fields

    def _result(self, assessment: Assessment) -> Result | None:
        """The score of a draft's answers as they are now (None for a signed one: it is stored)."""
        if assessment.status == Assessment.Status.SIGNED:
            return None
        cache: dict[int, Result | None] = self.context.setdefault("results", {})
        if assessment.pk not in cache:
            instrument = instruments().get(assessment.instrument)
            cache[assessment.pk] = (
                instrument.score(assessment.answers, sex=assessment.client.sex_for_billing)
                if instrument
                else None
            )
        return cache[assessment.pk]

    def get_instrument_name(self, assessment: Assessment) -> str:
        instrument = instruments().get(assessment.instrument)
        return instrument.name if instrument else assessment.instrument

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_total(self, assessment: Assessment) -> int | None:
        if assessment.status == Assessment.Status.SIGNED:
            return assessment.total
        result = self._result(assessment)
        return result.total if result else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_band(self, assessment: Assessment) -> str | None:
        if assessment.status == Assessment.Status.SIGNED:
            return assessment.band or None
        result = self._result(assessment)
        return result.band.label if result and result.band else None

    @extend_schema_field(FlagSerializer(many=True))
    def get_flags(self, assessment: Assessment) -> list[dict[str, Any]]:
        if assessment.status == Assessment.Status.SIGNED:
            return [
                {
                    "kind": f.get("kind", ""),
                    "message": f.get("message", ""),
                    "urgent": bool(f.get("urgent")),
                    "item": f.get("item"),
                }
                for f in assessment.flags
            ]
        result = self._result(assessment)
        return [
            {"kind": f.kind, "message": f.message, "urgent": f.urgent, "item": f.item}
            for f in (result.flags if result else ())
        ]

    @extend_schema_field(serializers.BooleanField())
    def get_complete(self, assessment: Assessment) -> bool:
        result = self._result(assessment)
        return result.complete if result else assessment.status == Assessment.Status.SIGNED

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing(self, assessment: Assessment) -> list[str]:
        result = self._result(assessment)
        return list(result.missing) if result else []


# --- assessments: input ------------------------------------------------------------------------


def answers_checked(instrument: Instrument, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers if each names an item of the instrument and is an answer that item takes;
    otherwise an AssessmentError naming the item (field "answers.<key>")."""
    by_key = {item["key"]: item for item in instrument.items}
    for key, value in answers.items():
        field = f"answers.{key}"
        item = by_key.get(key)
        if item is None:
            raise AssessmentError(
                f"{instrument.name} has no item “{key}”; its items are {', '.join(by_key)}.",
                field=field,
            )
        if item["type"] == "text":
            if not isinstance(value, str):
                raise AssessmentError("Send this answer as text.", field=field)
            if "\x00" in value:
                raise AssessmentError("Null characters are not allowed.", field=field)
            if len(value) > TEXT_LIMIT:
                raise AssessmentError(f"At most {TEXT_LIMIT:,} characters.", field=field)
            continue
        allowed = [option["value"] for option in instrument.options(item)]
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            offered = ", ".join(f"{o['value']} ({o['label']})" for o in instrument.options(item))
            raise AssessmentError(
                f"Choose one of the answers offered, by its value: {offered}.", field=field
            )
    return answers


class AssessmentCreateSerializer(serializers.Serializer[Any]):
    """A new draft: the client, the instrument, when and how it was given, answers so far."""

    client_id = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="A client you may see.")
    instrument = StrictChoiceField(
        choices=instrument_choices(), help_text="An instrument key (see /api/v1/instruments/)."
    )
    administered_on = StrictDateField(
        required=False, help_text="The day it was given (today unless sent); not in the future."
    )
    mode = StrictChoiceField(
        choices=Assessment.Mode.choices, required=False, help_text="in_person unless sent."
    )
    answers = AnswersField(required=False)

    def validate_client_id(self, value: int) -> Client:
        user: User = self.context["user"]
        client = access.visible_clients(user).filter(pk=value).first()
        if client is None:
            raise serializers.ValidationError("No client you may see has this id.")
        return client

    def validate_administered_on(self, value: datetime.date) -> datetime.date:
        agency: Agency = self.context["agency"]
        if value > agency.today():
            raise serializers.ValidationError("An assessment cannot be dated in the future.")
        if value < EARLIEST:
            raise serializers.ValidationError(f"Give a date from {EARLIEST:%Y-%m-%d} on.")
        return value


class AssessmentUpdateSerializer(serializers.Serializer[Any]):
    answers = AnswersField(
        help_text="Only the items sent change; the others keep their answers. A partial set "
        "is normal for a draft."
    )


class AssessmentAddendumCreateSerializer(serializers.Serializer[Any]):
    text = StrictCharField(allow_blank=True, max_length=ADDENDUM_LIMIT, trim_whitespace=False)


class AssessmentListQuerySerializer(QuerySerializer):
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's assessments."
    )
    instrument = serializers.ChoiceField(choices=instrument_choices(), required=False)
    status = serializers.ChoiceField(choices=Assessment.Status.choices, required=False)
