"""My day: tasks people and rules give each other, and early warnings about clients.

Most of My day is derived from facts (unsigned notes, plans due, appointments); only what
needs a person's decision is stored: tasks, snoozes of derived items, and warnings. Nothing
leaves without a trace: a task keeps its history in `TaskEvent`, a warning is acknowledged
with a plan (a task), never deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from casework.clients.models import ClientRecord
from casework.core.models import Agency

TITLE_LIMIT = 200
TEXT_LIMIT = 1_000


class Task(models.Model):
    """Work for one person, with the reason it exists."""

    class Kind(models.TextChoices):
        MANUAL = "manual", "Task"
        FOLLOW_UP = "follow_up", "Follow-up after a missed appointment"
        WARNING_PLAN = "warning_plan", "Plan for an early warning"
        REFERRAL_FOLLOW_UP = "referral", "Referral follow-up"
        AUTOMATED = "automated", "Made by an automation rule"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks"
    )
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MANUAL)
    title = models.CharField(max_length=TITLE_LIMIT)
    reason = models.CharField(max_length=TEXT_LIMIT, blank=True)
    link = models.CharField(
        max_length=300, blank=True, help_text="A page of Casework where the task is done."
    )
    due_on = models.DateField(null=True, blank=True)
    urgent = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    appointment = models.ForeignKey(
        "schedule.Appointment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Blank when a rule made it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["assignee", "status", "due_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind"],
                condition=Q(appointment__isnull=False),
                name="one_follow_up_per_appointment",
            )
        ]

    def __str__(self) -> str:
        return f"Task {self.pk} ({self.get_status_display()})"


class TaskEvent(models.Model):
    """One step in a task's life: made, snoozed, reassigned, done, reopened."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        SNOOZED = "snoozed", "Snoozed"
        REASSIGNED = "reassigned", "Reassigned"
        DONE = "done", "Done"
        REOPENED = "reopened", "Reopened"
        MOVED = "moved", "Due date moved"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=12, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} task {self.task_id}"


class Snooze(models.Model):
    """A derived My day item (e.g. a plan review due) put aside by one person until a date."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item_key = models.CharField(max_length=120)
    label = models.CharField(max_length=TITLE_LIMIT, blank=True, help_text="What the item said.")
    until = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "item_key"], name="one_snooze_per_item")
        ]

    def __str__(self) -> str:
        return f"Snooze of {self.item_key} until {self.until}"


class WarningKind(models.TextChoices):
    MISSED_IN_A_ROW = "missed_in_a_row", "Missed appointments in a row"
    NO_CONTACT = "no_contact", "No contact for too long"
    PHQ9_RISE = "phq9_rise", "PHQ-9 score rose"
    PHQ9_ITEM9 = "phq9_item9", "PHQ-9 thoughts of self-harm"
    MEDICATION = "medication", "Medication stopped or not taken"
    ER_OR_HOSPITAL = "er_or_hospital", "ER visit or hospitalization"
    HOUSING_LOST = "housing_lost", "Housing lost"


class WarningRule(models.Model):
    """An agency's setting for one early-warning rule: on or off, and its threshold."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=WarningKind.choices)
    is_enabled = models.BooleanField(default=True)
    threshold = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Blank uses the rule's default.",
    )

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind"], name="one_rule_per_warning_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} rule"


class ClientWarning(ClientRecord):
    """A rule saw a client slipping. It stays until acknowledged with a plan."""

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="warnings")
    kind = models.CharField(max_length=20, choices=WarningKind.choices)
    evidence = models.CharField(max_length=TEXT_LIMIT)
    # What the warning is about (e.g. "note:812"), so a rule run twice raises it once.
    evidence_key = models.CharField(max_length=120)
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    plan_task = models.OneToOneField(
        Task, on_delete=models.PROTECT, null=True, blank=True, related_name="warning"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["agency", "acknowledged_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "evidence_key"], name="one_warning_per_evidence"
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(plan_task__isnull=False),
                name="warning_acknowledged_with_a_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"Warning {self.pk} ({self.get_kind_display()})"


class Reminder(models.Model):
    """A reminder email sent to one person, kept so that none is sent twice.

    `key` says what it was about ("digest:2026-12-03", "urgent:task:12"); the email itself
    carries counts, never client details.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=160)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_reminder_per_thing")
        ]

    def __str__(self) -> str:
        return f"Reminder {self.key} to user {self.user_id}"
