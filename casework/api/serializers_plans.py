"""Service plans API serializers: a plan version with its needs, goals, objectives (each with its
status now), interventions and signatures; and what a new plan, a review, a change to the plan's
own fields, a part, a signature and a progress entry take. Writes go through
casework.plans.services.
"""

from __future__ import annotations

import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from casework.api.serializers import StrictBooleanField, StrictCharField
from casework.api.serializers_notes import (
    EARLIEST,
    LATEST,
    MAX_ID,
    AgencyTimes,
    OffsetDateTimeField,
    QueryIntegerField,
    QuerySerializer,
    StrictChoiceField,
    StrictDateField,
    StrictIntegerField,
)
from casework.clients.models import Client
from casework.core import access
from casework.core.models import User
from casework.plans.models import (
    LONG_TEXT_LIMIT,
    TEXT_LIMIT,
    ObjectiveProgress,
    PlanGoal,
    PlanIntervention,
    PlanNeed,
    PlanObjective,
    PlanSignature,
    ServicePlan,
)

PART_KINDS = [
    ("need", "A need"),
    ("goal", "A goal (under a need, or none)"),
    ("objective", "A measurable objective (under a goal)"),
    ("intervention", "An intervention (under an objective)"),
]
# The fields each kind of part takes, and which of them a new one must have.
PART_FIELDS: dict[str, tuple[str, ...]] = {
    "need": ("area", "text"),
    "goal": ("text", "need_id"),
    "objective": ("goal_id", "text", "measure", "target_on"),
    "intervention": ("objective_id", "action", "responsible", "frequency", "service_code"),
}
PART_REQUIRED: dict[str, tuple[str, ...]] = {
    "need": ("area", "text"),
    "goal": ("text",),
    "objective": ("goal_id", "text", "measure", "target_on"),
    "intervention": ("objective_id", "action", "responsible", "frequency"),
}


def enum_schema(choices: list[tuple[str, str]], description: str = "") -> dict[str, Any]:
    """An enum written out where it is used: one choice set shared by several outputs would
    otherwise get a generated (hashed) component name."""
    listed = "; ".join(f"`{value}`: {label}" for value, label in choices)
    return {
        "type": "string",
        "enum": [value for value, _ in choices],
        "readOnly": True,
        "description": f"{description} {listed}".strip(),
    }


def in_range(day: datetime.date) -> datetime.date:
    """A date within the years a plan can have (2206 for 2026 is a typing slip)."""
    if not EARLIEST <= day <= LATEST:
        raise serializers.ValidationError(
            f"Give a date between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}."
        )
    return day


class PlanDateField(StrictDateField):
    def to_internal_value(self, value: Any) -> datetime.date:
        return in_range(super().to_internal_value(value))


# --- output ------------------------------------------------------------------------------------


class PlanNeedSerializer(serializers.ModelSerializer[PlanNeed]):
    class Meta:
        model = PlanNeed
        fields = ["id", "key", "position", "area", "text", "source_assessment_id"]
        read_only_fields = fields


class PlanInterventionSerializer(serializers.ModelSerializer[PlanIntervention]):
    class Meta:
        model = PlanIntervention
        fields = [
            "id",
            "key",
            "position",
            "objective_id",
            "action",
            "responsible",
            "frequency",
            "service_code",
        ]
        read_only_fields = fields


class PlanObjectiveSerializer(serializers.ModelSerializer[PlanObjective]):
    """An objective with where it stands now (progress is kept by key, across versions).

    Context `progress`: objective key -> its latest ObjectiveProgress.
    """

    status = serializers.SerializerMethodField()
    status_recorded_at = serializers.SerializerMethodField()
    status_comment = serializers.SerializerMethodField()
    interventions = PlanInterventionSerializer(many=True, read_only=True)

    class Meta:
        model = PlanObjective
        fields = [
            "id",
            "key",
            "position",
            "goal_id",
            "text",
            "measure",
            "target_on",
            "status",
            "status_recorded_at",
            "status_comment",
            "interventions",
        ]
        read_only_fields = fields

    def _latest(self, objective: PlanObjective) -> ObjectiveProgress | None:
        progress: dict[Any, ObjectiveProgress] = self.context.get("progress", {})
        return progress.get(objective.key)

    @extend_schema_field(
        enum_schema(
            PlanObjective.Status.choices,
            "Where it stands now: the latest progress recorded (not_started without any).",
        )
    )
    def get_status(self, objective: PlanObjective) -> str:
        latest = self._latest(objective)
        return latest.status if latest else PlanObjective.Status.NOT_STARTED.value

    @extend_schema_field(OffsetDateTimeField(allow_null=True, read_only=True))
    def get_status_recorded_at(self, objective: PlanObjective) -> Any:
        latest = self._latest(objective)
        if latest is None:
            return None
        moment = OffsetDateTimeField(read_only=True)
        moment.bind(field_name="status_recorded_at", parent=self)  # the agency's zone
        return moment.to_representation(latest.recorded_at)

    @extend_schema_field(serializers.CharField(read_only=True))
    def get_status_comment(self, objective: PlanObjective) -> str:
        latest = self._latest(objective)
        return latest.comment if latest else ""


class PlanGoalSerializer(serializers.ModelSerializer[PlanGoal]):
    objectives = PlanObjectiveSerializer(many=True, read_only=True)

    class Meta:
        model = PlanGoal
        fields = ["id", "key", "position", "need_id", "text", "objectives"]
        read_only_fields = fields


class PlanSignatureSerializer(AgencyTimes, serializers.ModelSerializer[PlanSignature]):
    class Meta:
        model = PlanSignature
        fields = [
            "id",
            "role",
            "name",
            "user_id",
            "method",
            "signed_on",
            "reason",
            "recorded_by_id",
            "recorded_at",
        ]
        read_only_fields = fields


class ServicePlanSerializer(AgencyTimes, serializers.ModelSerializer[ServicePlan]):
    """One version of a client's service plan, with everything in it."""

    status = serializers.SerializerMethodField()
    needs = PlanNeedSerializer(many=True, read_only=True)
    goals = PlanGoalSerializer(
        many=True,
        read_only=True,
        help_text="Each goal with its objectives, and each objective with its interventions.",
    )
    signatures = PlanSignatureSerializer(many=True, read_only=True)

    class Meta:
        model = ServicePlan
        fields = [
            "id",
            "client_id",
            "number",
            "previous_id",
            "status",
            "starts_on",
            "review_due_on",
            "strengths",
            "barriers",
            "participation",
            "review_summary",
            "author_id",
            "revision",
            "created_at",
            "updated_at",
            "signed_at",
            "signed_by_id",
            "needs",
            "goals",
            "signatures",
        ]
        read_only_fields = fields

    @extend_schema_field(enum_schema(ServicePlan.Status.choices, "Signed plans are locked."))
    def get_status(self, plan: ServicePlan) -> str:
        return plan.status


class PlanPartResultSerializer(serializers.Serializer[Any]):
    kind = serializers.SerializerMethodField()
    id = serializers.IntegerField(read_only=True, help_text="The part's id in this version.")
    plan = ServicePlanSerializer(read_only=True, help_text="The plan as it is now.")

    @extend_schema_field(enum_schema(PART_KINDS))
    def get_kind(self, result: dict[str, Any]) -> str:
        return str(result["kind"])


# --- input -------------------------------------------------------------------------------------


class PlanCreateSerializer(serializers.Serializer[Any]):
    client_id = StrictIntegerField(min_value=1, max_value=MAX_ID, help_text="A client you may see.")
    starts_on = PlanDateField(required=False, help_text="Today unless sent.")

    def validate_client_id(self, value: int) -> Client:
        user: User = self.context["user"]
        client = access.visible_clients(user).filter(pk=value).first()
        if client is None:
            raise serializers.ValidationError("No client you may see has this id.")
        return client


class PlanReviewSerializer(serializers.Serializer[Any]):
    starts_on = PlanDateField(
        required=False, help_text="The day the reviewed plan starts; today unless sent."
    )


def _long_text(help_text: str) -> StrictCharField:
    return StrictCharField(
        required=False, allow_blank=True, max_length=LONG_TEXT_LIMIT, help_text=help_text
    )


class PlanUpdateSerializer(serializers.Serializer[Any]):
    """The plan's own fields; only those sent change."""

    starts_on = PlanDateField(required=False)
    strengths = _long_text("What the client is good at, what has helped before.")
    barriers = _long_text("What stands in the way.")
    participation = _long_text("How the client took part, in their words where possible.")
    review_summary = _long_text("For a review: progress since the last version.")


class PlanPartSerializer(serializers.Serializer[Any]):
    """A need, goal, objective or intervention to add to a draft (or, with `id`, to change)."""

    kind = StrictChoiceField(choices=PART_KINDS)
    id = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="To change a part of this kind already in the draft; leave out to add one. "
        "Fields left out of a change keep their values.",
    )
    area = StrictChoiceField(
        choices=PlanNeed.Area.choices, required=False, help_text="need: the area of need."
    )
    text = StrictCharField(
        required=False,
        max_length=TEXT_LIMIT,
        help_text="need, goal, objective: the words, the client's own where possible.",
    )
    need_id = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="goal: the need of this plan it answers (null for none).",
    )
    goal_id = StrictIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="objective: its goal."
    )
    measure = StrictCharField(
        required=False, max_length=500, help_text="objective: how you will know it is done."
    )
    target_on = PlanDateField(required=False, help_text="objective: the target date.")
    objective_id = StrictIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="intervention: its objective."
    )
    action = StrictCharField(
        required=False, max_length=TEXT_LIMIT, help_text="intervention: what will be done."
    )
    responsible = StrictCharField(
        required=False, max_length=200, help_text="intervention: who does it."
    )
    frequency = StrictCharField(
        required=False, max_length=100, help_text="intervention: how often."
    )
    service_code = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=5,
        help_text="intervention: the agency's service code it is billed under, if any.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        sent = set(attrs) - {"kind", "id"}
        foreign = sorted(sent - set(PART_FIELDS[kind]))
        if foreign:
            raise serializers.ValidationError(
                {
                    name: [f"A {kind} has no {name}; it takes {', '.join(PART_FIELDS[kind])}."]
                    for name in foreign
                }
            )
        if "id" not in attrs:
            missing = [name for name in PART_REQUIRED[kind] if name not in attrs]
            if missing:
                raise serializers.ValidationError(
                    {name: [f"A new {kind} needs this field."] for name in missing}
                )
        return attrs


class PlanSignSerializer(serializers.Serializer[Any]):
    """The case manager's signature, with the client's (or guardian's) recorded with it."""

    attest = StrictBooleanField(
        help_text="true: I reviewed this plan with the client and sign it as the case manager."
    )
    role = StrictChoiceField(
        choices=[
            (PlanSignature.Role.CLIENT.value, "The client"),
            (PlanSignature.Role.GUARDIAN.value, "The client's guardian or representative"),
        ],
        required=False,
        help_text="Whose signature is recorded with yours; client unless sent.",
    )
    method = StrictChoiceField(choices=PlanSignature.Method.choices)
    name = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The name as signed (needed unless the client did not sign).",
    )
    signed_on = PlanDateField(required=False, help_text="Today unless sent.")
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Why the plan was not signed (needed with method declined).",
    )

    def validate_attest(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Tick the attestation to sign.")
        return value


class PlanSignatureCreateSerializer(serializers.Serializer[Any]):
    """A signature after signing: the supervisor's (yours, on screen) or the client's later."""

    role = StrictChoiceField(
        choices=[
            (PlanSignature.Role.SUPERVISOR.value, "Supervisor (you, on screen)"),
            (PlanSignature.Role.CLIENT.value, "The client"),
            (PlanSignature.Role.GUARDIAN.value, "The client's guardian or representative"),
        ]
    )
    method = StrictChoiceField(
        choices=PlanSignature.Method.choices,
        required=False,
        help_text="on_screen unless sent (a supervisor always signs on screen).",
    )
    name = StrictCharField(required=False, allow_blank=True, max_length=200)
    signed_on = PlanDateField(required=False, help_text="Today unless sent.")
    reason = StrictCharField(required=False, allow_blank=True, max_length=500)


class ObjectiveProgressCreateSerializer(serializers.Serializer[Any]):
    objective_id = StrictIntegerField(
        min_value=1, max_value=MAX_ID, help_text="An objective of this plan version."
    )
    status = StrictChoiceField(choices=PlanObjective.Status.choices)
    comment = StrictCharField(required=False, allow_blank=True, max_length=500)


class PlanListQuerySerializer(QuerySerializer):
    client = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's plans."
    )
    status = serializers.ChoiceField(choices=ServicePlan.Status.choices, required=False)
