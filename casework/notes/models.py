"""Service notes: the record of every contact with or about a client, and the source of charges.

A note is a draft until its author signs it; from then on its content is locked by the
database (migration 0002) and corrections are addenda that keep the original.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from casework.billing.models import PLACE_OF_SERVICE_CHOICES
from casework.core.models import Agency, Program

NARRATIVE_LIMIT = 100_000  # characters, all sections together


class ContactType(models.TextChoices):
    FACE_TO_FACE = "face_to_face", "Face-to-face"
    PHONE = "phone", "Phone"
    VIDEO = "video", "Video"
    COLLATERAL = "collateral", "Collateral contact (doctor, family, agency)"
    OUTREACH_ATTEMPT = "outreach", "Outreach attempt"
    NO_SHOW = "no_show", "No-show"
    CANCELLATION = "cancelled", "Cancellation"


NEVER_BILLABLE_CONTACTS = frozenset({ContactType.NO_SHOW, ContactType.CANCELLATION})


class MedicationAdherence(models.TextChoices):
    """What the note found about the client's medications; early warnings read it."""

    TAKING = "taking", "Taking as prescribed"
    SOME_MISSED = "some_missed", "Missed some doses"
    NOT_TAKING = "not_taking", "Reports not taking them"
    STOPPED = "stopped", "Stopped a medication"


class NotableEvent(models.TextChoices):
    """Events a note records because they change the client's risk."""

    ER_VISIT = "er_visit", "Emergency-room visit"
    HOSPITALIZED = "hospitalized", "Hospitalized"
    HOUSING_LOST = "housing_lost", "Lost housing"
    JAIL = "jail", "Arrested or jailed"


class GroupSession(models.Model):
    """One group session: each client present gets a note of their own sharing its common part."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Group session {self.pk}"


class Note(models.Model):
    """A service note about one client by one author; signed notes never change."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"
        VOID = "void", "Void"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notes"
    )
    group = models.ForeignKey(
        GroupSession, on_delete=models.PROTECT, null=True, blank=True, related_name="notes"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)

    service_date = models.DateField()
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    contact_type = models.CharField(
        max_length=16, choices=ContactType.choices, default=ContactType.FACE_TO_FACE
    )
    place_of_service = models.CharField(max_length=2, choices=PLACE_OF_SERVICE_CHOICES, blank=True)
    service_code = models.ForeignKey(
        "billing.ServiceCode", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    present = models.CharField("who was present", max_length=500, blank=True)
    template = models.CharField(max_length=16, default="dap")
    sections = models.JSONField(default=dict, blank=True)
    shared_text = models.TextField(
        "group session (shared part)", blank=True, help_text="Same text in every note of a group."
    )
    goals_addressed = models.JSONField(default=list, blank=True)
    appointment = models.ForeignKey(
        "schedule.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notes",
        help_text="The appointment this note documents, if it came from one.",
    )
    medication_adherence = models.CharField(
        max_length=16, choices=MedicationAdherence.choices, blank=True
    )
    events = models.JSONField(
        "notable events", default=list, blank=True, help_text="Values of NotableEvent."
    )
    mileage = models.DecimalField(
        "miles driven",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("2000"))],
    )
    travel_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    interpreter_used = models.BooleanField(default=False)
    interpreter_language = models.CharField(max_length=60, blank=True)
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The program the service was given under, fixed at signing: one the author "
        "works in and the client was enrolled in on the service date, a 42 CFR Part 2 program "
        "first. A Part 2 program's notes are read by its own staff (casework.core.access).",
    )

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    signed_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Fixed at signing.")
    attestation = models.CharField(max_length=300, blank=True)
    late_reason = models.CharField("late-entry reason", max_length=500, blank=True)

    cosign_required = models.BooleanField(default=False)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)

    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-service_date", "-start_at", "-id"]
        indexes = [
            models.Index(fields=["client", "-service_date"]),
            models.Index(fields=["author", "status", "service_date"]),
            models.Index(
                fields=["agency", "cosign_required"],
                condition=Q(cosign_required=True, cosigned_at__isnull=True),
                name="note_awaiting_cosign",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__isnull=True)
                | Q(start_at__isnull=True)
                | Q(end_at__gt=models.F("start_at")),
                name="note_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="signed") | Q(signed_at__isnull=False),
                name="signed_note_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Note {self.pk} ({self.get_status_display()})"

    @property
    def duration_minutes(self) -> int | None:
        """True elapsed minutes, so a daylight-saving night is an hour shorter or longer."""
        if self.minutes is not None:
            return self.minutes
        if self.start_at is None or self.end_at is None:
            return None
        # Subtract in UTC: Python ignores DST changes between two times of the same zone.
        elapsed = self.end_at.astimezone(datetime.UTC) - self.start_at.astimezone(datetime.UTC)
        return int(elapsed.total_seconds() // 60)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def awaiting_cosign(self) -> bool:
        return self.cosign_required and self.cosigned_at is None and self.status == "signed"

    def age_days(self, today: datetime.date) -> int:
        return (today - self.service_date).days


class Addendum(models.Model):
    """A correction or addition to a signed note, itself locked once written."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=20_000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "addenda"

    def __str__(self) -> str:
        return f"Addendum {self.pk} to note {self.note_id}"


class QuickPhrase(models.Model):
    """A person's own snippet for phrases they type every day."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quick_phrases"
    )
    label = models.CharField(max_length=60)
    text = models.CharField(max_length=2000)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "label"], name="quick_phrase_label_unique")
        ]

    def __str__(self) -> str:
        return self.label
