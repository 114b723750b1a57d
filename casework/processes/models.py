"""Guided processes: the agency's versioned BPMN definitions, the processes running for clients,
their open and finished steps, and the history of each.

The workflow's own state (SpiffWorkflow's serialization, which carries the diagram it started
on) lives on the instance, so a new version of a definition never changes a running process.
Steps are mirrored into rows so that My day, the chart and "who is waiting on whom" are plain
queries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from casework.clients.models import Client, ClientRecord
from casework.core.models import Agency

TITLE_LIMIT = 200
REASON_LIMIT = 300


class ProcessDefinition(models.Model):
    """One uploaded version of a BPMN process; (agency, key, version) is unique."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=60)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=TITLE_LIMIT)
    description = models.TextField(blank=True)
    bpmn = models.TextField()
    sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "key", "version"], name="process_definition_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (version {self.version})"


class ProcessInstance(ClientRecord):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="processes")
    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_by_rule = models.CharField(max_length=TITLE_LIMIT, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=REASON_LIMIT, blank=True)
    next_timer_at = models.DateTimeField(null=True, blank=True)
    state = models.JSONField()
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["client", "status"]),
            models.Index(
                fields=["next_timer_at"],
                name="process_timer_due",
                condition=Q(status="running", next_timer_at__isnull=False),
            ),
        ]

    OPEN_STATUSES = (Status.RUNNING, Status.PAUSED)

    def __str__(self) -> str:
        return f"{self.definition.name} for client {self.client_id}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ProcessStep(ClientRecord):
    """A step that waited (or waits) for a person, with its answers once done."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CLOSED = "closed", "Closed by the process"

    instance = models.ForeignKey(ProcessInstance, on_delete=models.PROTECT, related_name="steps")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    task_id = models.CharField(max_length=36)
    element_id = models.CharField(max_length=100)
    title = models.CharField(max_length=TITLE_LIMIT)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    waiting_kind = models.CharField(max_length=10, blank=True)
    waiting_on = models.CharField(max_length=TITLE_LIMIT, blank=True)
    answers = models.JSONField(default=dict, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "task_id"], name="process_step_once"),
        ]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def waiting_text(self) -> str:
        from casework.processes.steps import WAITING_KINDS

        if not self.waiting_on:
            return ""
        return f"Waiting on {WAITING_KINDS.get(self.waiting_kind, 'others')}: {self.waiting_on}"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and bool(
            self.due_at and self.due_at < timezone.now()
        )


class ProcessEvent(ClientRecord):
    """The history of a process: who did what, when (answers stay on the step, not here)."""

    class Action(models.TextChoices):
        STARTED = "started", "Started"
        STEP_DONE = "step_done", "Step done"
        TIMER = "timer", "Timer reached"
        STUCK = "stuck", "Stopped: needs attention"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        REASSIGNED = "reassigned", "Reassigned"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"

    instance = models.ForeignKey(ProcessInstance, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=12, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    detail = models.CharField(max_length=REASON_LIMIT, blank=True)

    class Meta:
        ordering = ["at", "id"]
