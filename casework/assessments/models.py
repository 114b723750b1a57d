"""Assessments given to a client with an instrument from data/instruments/: drafts, then signed.

Answers are stored as given; the total, band and flags are computed by the instrument and fixed
at signing, when the record locks (migration 0002), like a signed note.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from casework.core.models import Agency, Program

MAX_DAYS = 3650  # ten years: the longest interval or grace an agency may set


class Assessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person, together"
        READ_ALOUD = "read_aloud", "Read aloud to the client"
        PHONE = "phone", "By phone"
        SELF = "self", "Filled in by the client"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="assessments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=20)
    administered_on = models.DateField()
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.IN_PERSON)
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    total = models.IntegerField(null=True, blank=True, help_text="Computed; fixed at signing.")
    band = models.CharField(max_length=120, blank=True)
    flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-administered_on", "-id"]
        indexes = [models.Index(fields=["client", "instrument", "-administered_on"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="signed") | Q(signed_at__isnull=False),
                name="signed_assessment_has_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument} of {self.administered_on:%Y-%m-%d}"


class AssessmentAddendum(models.Model):
    """A correction to a signed assessment; the original answers stay as signed."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=20_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Addendum {self.pk} to assessment {self.assessment_id}"


class AssessmentRule(models.Model):
    """An agency's own rule for one instrument, agency-wide or for one program.

    `repeat_every_days`: blank (null) sets no interval here, so the agency-wide rule or else the
    instrument's own `repeat_every_days` applies; 0 means the instrument is not repeated.
    `required`: clients of the program (of the agency, for an agency-wide rule) must have one,
    due `first_due_days` after their admission. A program's rule beats the agency-wide one.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=40)
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    repeat_every_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(MAX_DAYS)]
    )
    required = models.BooleanField(default=False)
    first_due_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(MAX_DAYS)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument", "program__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "instrument", "program"],
                condition=Q(program__isnull=False),
                name="one_assessment_rule_per_program",
            ),
            models.UniqueConstraint(
                fields=["agency", "instrument"],
                condition=Q(program__isnull=True),
                name="one_agency_wide_assessment_rule",
            ),
            models.CheckConstraint(
                condition=Q(repeat_every_days__lte=MAX_DAYS) & Q(first_due_days__lte=MAX_DAYS),
                name="assessment_rule_days_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Rule for {self.instrument} ({self.program_id or 'all programs'})"
