"""Automation: "When … then …" rules an agency admin sets up, the log of what they did, the
per-client switch that turns them off, and client appointment reminders.

A rule pairs a trigger (a no-show, a release about to expire…) with an action (a task, a
request to book a follow-up, a word to the supervisor, a guided process). What a rule did is an
`AutomationRun`, unique per rule, client and event: the run row and the action are written in
one transaction, so a queue job that runs twice, or a worker killed half-way and run again, acts
once. A `ClientReminder` is the outbox row of one appointment reminder, unique per appointment,
client, channel and start time, so a reminder is sent at most once.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from casework.clients.models import ClientRecord
from casework.core.models import Agency

NAME_LIMIT = 120
TITLE_LIMIT = 200  # as a worklist task's title
KEY_LIMIT = 64
MAX_DAYS = 365
DEFAULT_PERCENT = 80


class Trigger(models.TextChoices):
    HOSPITAL_STAY = "hospital_stay", "Hospital stay or ER visit recorded (discharge follow-up)"
    RELEASE_EXPIRING = "release_expiring", "Release of information about to expire"
    NO_SHOW = "no_show", "Appointment no-show"
    PLAN_REVIEW_DUE = "plan_review_due", "Service plan review due"
    AUTHORIZATION_USED = "authorization_used", "Authorization mostly used"
    ASSESSMENT_FLAG = "assessment_flag", "Assessment raised a flag"
    PROCESS_COMPLETED = "process_completed", "Guided process completed"


# Triggers read on a timer (hourly); the others fire when the record is written.
TIME_TRIGGERS = frozenset(
    {Trigger.RELEASE_EXPIRING, Trigger.PLAN_REVIEW_DUE, Trigger.AUTHORIZATION_USED}
)
DAYS_TRIGGERS = frozenset({Trigger.RELEASE_EXPIRING, Trigger.PLAN_REVIEW_DUE})


class ActionKind(models.TextChoices):
    CREATE_TASK = "create_task", "Create a task"
    REQUEST_SLOT = "request_slot", "Ask for a follow-up appointment to be booked"
    NOTIFY_SUPERVISOR = "notify_supervisor", "Notify the case manager's supervisor"
    START_PROCESS = "start_process", "Start a guided process"


class AssigneeKind(models.TextChoices):
    PRIMARY = "primary", "The client's primary case manager"
    STAFF = "staff", "A staff member I choose"


class AutomationRule(models.Model):
    """One "When … then …" rule of an agency. Switched off, never deleted: its runs name it."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=NAME_LIMIT)
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    days_before = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DAYS)],
        help_text="For expiring releases and plan reviews: how many days ahead.",
    )
    percent = models.PositiveSmallIntegerField(
        default=DEFAULT_PERCENT,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="For authorizations: the share of units used.",
    )
    trigger_process_key = models.CharField(
        max_length=KEY_LIMIT, blank=True, help_text="For a completed process: which (blank: any)."
    )
    action = models.CharField(max_length=24, choices=ActionKind.choices)
    task_title = models.CharField(max_length=TITLE_LIMIT, blank=True)
    due_in_days = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(MAX_DAYS)]
    )
    assignee_kind = models.CharField(
        max_length=8, choices=AssigneeKind.choices, default=AssigneeKind.PRIMARY
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    process_key = models.CharField(max_length=KEY_LIMIT, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["agency", "trigger", "is_active"])]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="one_automation_rule_per_name"),
            models.CheckConstraint(
                condition=Q(percent__gte=1, percent__lte=100), name="automation_percent_range"
            ),
            models.CheckConstraint(
                condition=Q(assignee_kind="primary") | Q(assignee__isnull=False),
                name="automation_fixed_assignee_named",
            ),
        ]

    def __str__(self) -> str:
        return f"Automation rule {self.pk}"


class AutomationRun(ClientRecord):
    """What one rule did (or why it did nothing) for one event about one client.

    `summary` is short and carries no PHI (it may be shown and exported with the log); the
    task or process it made holds the details.
    """

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        OPTED_OUT = "opted_out", "Skipped: switched off for this client"
        CHAIN_TOO_LONG = "chain_too_long", "Stopped: rule chain too long"
        NOT_DONE = "not_done", "Not done"
        FAILED = "failed", "Failed: unexpected error"

    rule = models.ForeignKey(AutomationRule, on_delete=models.PROTECT, related_name="runs")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="automation_runs"
    )
    event_key = models.CharField(max_length=160)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    summary = models.CharField(max_length=300)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    caused_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    depth = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["agency", "-at"]),
            models.Index(fields=["client", "-at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "client", "event_key"], name="one_automation_run_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"Automation run {self.pk} ({self.outcome})"


class AutomationOptOut(ClientRecord):
    """Automation switched off for one client: for one rule, or (no rule) for every rule."""

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="automation_opt_outs"
    )
    rule = models.ForeignKey(
        AutomationRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "rule"],
                condition=Q(rule__isnull=False),
                name="one_opt_out_per_client_and_rule",
            ),
            models.UniqueConstraint(
                fields=["client"], condition=Q(rule__isnull=True), name="one_opt_out_of_every_rule"
            ),
        ]

    def __str__(self) -> str:
        return f"Automation off for client {self.client_id}"


class Channel(models.TextChoices):
    NONE = "none", "No reminders"
    SMS = "sms", "Text message (SMS)"
    EMAIL = "email", "Email"


class ReminderPreference(ClientRecord):
    """Whether, and how, a client wants appointment reminders (off unless they ask).

    Texts go to one of the client's own phones, marked safe to text on the contact details,
    never to a number typed here. If that phone is later removed (`phone` becomes null),
    unmarked or moved to someone else, the reminder job sends nothing and records why.
    """

    client = models.OneToOneField(
        "clients.Client", on_delete=models.PROTECT, related_name="reminder_preference"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.NONE)
    phone = models.ForeignKey(
        "clients.Phone", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(max_length=254, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(channel="email") | Q(email__gt=""),
                name="reminder_email_has_an_address",
            )
        ]

    def __str__(self) -> str:
        return f"Reminder preference of client {self.client_id}"


class ClientReminder(ClientRecord):
    """The outbox row of one appointment reminder: claimed (sending), then sent or failed;
    "not sent" when the address was no longer usable at send time; "unknown" when a worker was
    killed between the claim and the provider's answer (never sent again: at most once).

    Unique per appointment, client, channel and start time: a retried or doubled job finds the
    row and sends nothing; a moved appointment gets a reminder for its new time. `error` says
    what went wrong without PHI (no number, no text).
    """

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NOT_SENT = "not_sent", "Not sent"
        UNKNOWN = "unknown", "May not have been sent — check with the client"

    appointment = models.ForeignKey(
        "schedule.Appointment", on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENDING)
    provider_id = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-claimed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "client", "channel", "starts_at"],
                name="one_reminder_per_appointment_time",
            )
        ]

    def __str__(self) -> str:
        return f"Reminder {self.pk} ({self.status})"
