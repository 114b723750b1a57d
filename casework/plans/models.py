"""Individual service plans: needs → goals → measurable objectives → interventions.

A plan is written as a draft, then signed by the case manager with the client's participation
recorded; a signed plan is locked (migration 0002). A review copies the signed plan into the
next version, so every version stays as it was signed. Goals, objectives and the rest carry a
`key` that stays the same from version to version: that is how a review shows what changed and
how progress recorded against an objective follows it into the next version.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.core.models import Agency

TEXT_LIMIT = 2_000
LONG_TEXT_LIMIT = 10_000


class ServicePlan(models.Model):
    """One version of a client's individual service plan."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="service_plans"
    )
    number = models.PositiveSmallIntegerField(default=1, help_text="Version 1, 2, 3…")
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    starts_on = models.DateField()
    review_due_on = models.DateField(null=True, blank=True, help_text="Set at signing.")
    strengths = models.TextField(max_length=LONG_TEXT_LIMIT, blank=True)
    barriers = models.TextField(max_length=LONG_TEXT_LIMIT, blank=True)
    participation = models.TextField(
        max_length=LONG_TEXT_LIMIT,
        blank=True,
        help_text="How the client took part, in their words where possible.",
    )
    review_summary = models.TextField(
        max_length=LONG_TEXT_LIMIT, blank=True, help_text="For a review: progress since the last."
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField(default=1, help_text="Goes up with every change.")
    fields_revision = models.PositiveIntegerField(
        default=1, help_text="The revision at which the plan's own fields last changed."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="one_plan_per_version"),
            models.UniqueConstraint(
                fields=["client"], condition=Q(status="draft"), name="one_draft_plan_per_client"
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(signed_at__isnull=False) & Q(review_due_on__gt=models.F("starts_on"))),
                name="signed_plan_has_time_and_review",
            ),
        ]

    def __str__(self) -> str:
        return f"Service plan v{self.number}"

    @property
    def is_signed(self) -> bool:
        return self.status == self.Status.SIGNED


class PlanPart(models.Model):
    """Base for the rows of a plan: they carry the agency, the plan (for the lock) and a key."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    key = models.UUIDField(default=uuid.uuid4, editable=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "id"]


class PlanNeed(PlanPart):
    """A need, in the client's own words where possible, often from the assessment."""

    class Area(models.TextChoices):
        HOUSING = "housing", "Housing"
        INCOME = "income", "Income and benefits"
        FOOD = "food", "Food"
        HEALTH = "health", "Physical health and medications"
        MENTAL_HEALTH = "mental_health", "Mental health"
        SUBSTANCE_USE = "substance_use", "Substance use"
        LEGAL = "legal", "Legal"
        TRANSPORT = "transport", "Transportation"
        SOCIAL = "social", "Family and social supports"
        WORK = "work", "Work, school and daily activities"
        DAILY_LIVING = "daily_living", "Daily living skills"
        SAFETY = "safety", "Safety"
        OTHER = "other", "Other"

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="needs")
    area = models.CharField(max_length=16, choices=Area.choices)
    text = models.TextField(max_length=TEXT_LIMIT)
    source_assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta(PlanPart.Meta):
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="need_key_per_plan")]

    def __str__(self) -> str:
        return f"Need: {self.get_area_display()}"


class PlanGoal(PlanPart):
    """What the client wants to achieve, in their words."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="goals")
    need = models.ForeignKey(
        PlanNeed, on_delete=models.SET_NULL, null=True, blank=True, related_name="goals"
    )
    text = models.TextField(max_length=TEXT_LIMIT)

    class Meta(PlanPart.Meta):
        constraints = [models.UniqueConstraint(fields=["plan", "key"], name="goal_key_per_plan")]

    def __str__(self) -> str:
        return f"Goal {self.position}"


class PlanObjective(PlanPart):
    """A measurable step toward a goal, with a target date."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        PROGRESSING = "progressing", "Progressing"
        MET = "met", "Met"
        DISCONTINUED = "discontinued", "Discontinued"

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="objectives")
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="objectives")
    text = models.TextField(max_length=TEXT_LIMIT)
    measure = models.CharField(max_length=500, help_text="How we will know it is done.")
    target_on = models.DateField()

    class Meta(PlanPart.Meta):
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="objective_key_per_plan")
        ]

    def __str__(self) -> str:
        return f"Objective {self.position}"


class PlanIntervention(PlanPart):
    """Who does what, how often, and the service code it is billed under (if any)."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="interventions")
    objective = models.ForeignKey(
        PlanObjective, on_delete=models.CASCADE, related_name="interventions"
    )
    action = models.TextField(max_length=TEXT_LIMIT)
    responsible = models.CharField(max_length=200, help_text="Who does it.")
    frequency = models.CharField(max_length=100)
    service_code = models.CharField(max_length=5, blank=True)

    class Meta(PlanPart.Meta):
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="intervention_key_per_plan")
        ]

    def __str__(self) -> str:
        return f"Intervention {self.position}"


class PlanSignature(models.Model):
    """A signature on a signed plan: on screen, on paper (kept on file), or a recorded refusal."""

    class Role(models.TextChoices):
        CLIENT = "client", "Client"
        GUARDIAN = "guardian", "Guardian or representative"
        CASE_MANAGER = "case_manager", "Case manager"
        SUPERVISOR = "supervisor", "Supervisor"

    class Method(models.TextChoices):
        ON_SCREEN = "on_screen", "Signed on screen"
        PAPER = "paper", "Signed on paper (kept on file)"
        DECLINED = "declined", "Did not sign"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(ServicePlan, on_delete=models.PROTECT, related_name="signatures")
    role = models.CharField(max_length=12, choices=Role.choices)
    name = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who signed, for staff signatures.",
    )
    method = models.CharField(max_length=10, choices=Method.choices)
    signed_on = models.DateField()
    reason = models.CharField(max_length=500, blank=True, help_text="Why the person did not sign.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "role"],
                condition=~Q(method="declined"),
                name="one_signature_per_role",
            ),
            models.CheckConstraint(
                condition=~Q(method="declined") | ~Q(reason=""),
                name="declined_signature_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} signature"


class ObjectiveProgress(models.Model):
    """A status recorded for an objective, from a note that addressed it or on the plan itself.

    Kept outside the (locked) plan and keyed by the objective's key, so the status can change
    while the plan stays as signed, and it carries over to the next version.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="objective_progress"
    )
    objective_key = models.UUIDField()
    status = models.CharField(max_length=12, choices=PlanObjective.Status.choices)
    comment = models.CharField(max_length=500, blank=True)
    note = models.ForeignKey(
        "notes.Note", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["client", "objective_key", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.recorded_at:%Y-%m-%d})"
