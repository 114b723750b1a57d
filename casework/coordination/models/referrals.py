"""Referrals to outside resources, and prior-authorization requests to insurers."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from casework.clients.models import Client, ClientRecord
from casework.coordination.models.consent import Disclosure
from casework.coordination.models.directory import Organization, Person
from casework.coordination.models.documents import Document
from casework.coordination.storage import document_storage

TEXT_LIMIT = 2_000


class Referral(ClientRecord):
    """Sending a client to an outside resource, followed until it is completed, declined or dropped."""

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        SOON = "soon", "Within a week"
        URGENT = "urgent", "Urgent"

    class Status(models.TextChoices):
        DRAFT = "draft", "Being prepared"
        SENT = "sent", "Sent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        NO_RESPONSE = "no_response", "No response"
        CANCELLED = "cancelled", "Cancelled"

    class SentVia(models.TextChoices):
        FAX = "fax", "Fax"
        EMAIL = "email", "Secure email"
        PORTAL = "portal", "Their portal"
        PHONE = "phone", "Phone"
        IN_PERSON = "in_person", "In person"
        MAIL = "mail", "Mail"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="referrals")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="referrals"
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    reason = models.TextField(max_length=TEXT_LIMIT)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.DRAFT)
    packet_summary = models.TextField(
        max_length=TEXT_LIMIT * 5, blank=True, help_text="What the receiving provider should know."
    )
    packet_categories = models.JSONField(default=list)
    packet_documents = models.ManyToManyField(Document, blank=True, related_name="referrals")
    packet_file = models.FileField(storage=document_storage, upload_to="packets/%Y/%m/", blank=True)
    disclosure = models.OneToOneField(
        Disclosure, on_delete=models.PROTECT, null=True, blank=True, related_name="referral"
    )
    sent_via = models.CharField(max_length=10, choices=SentVia.choices, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    follow_up_on = models.DateField(null=True, blank=True)
    follow_up_task = models.ForeignKey(
        "worklist.Task", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(max_length=TEXT_LIMIT, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agency", "status", "follow_up_on"])]

    def __str__(self) -> str:
        return f"Referral {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFERRAL_STATUSES


OPEN_REFERRAL_STATUSES = frozenset(
    {
        Referral.Status.DRAFT,
        Referral.Status.SENT,
        Referral.Status.ACKNOWLEDGED,
        Referral.Status.SCHEDULED,
    }
)


class ReferralEvent(models.Model):
    """One step in a referral's life, with who recorded it."""

    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="+")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(max_length=14, choices=Referral.Status.choices)
    detail = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} referral {self.referral_id}"


class PriorAuthRequest(ClientRecord):
    """A request to an insurer to authorise services; an approval becomes a billing authorization."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Being prepared"
        SUBMITTED = "submitted", "Submitted"
        PENDED = "pended", "Pended (more information asked)"
        APPROVED = "approved", "Approved"
        PARTIAL = "partial", "Partly approved"
        DENIED = "denied", "Denied"
        APPEALED = "appealed", "Appealed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="prior_auths")
    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="+")
    service_code = models.ForeignKey(
        "billing.ServiceCode", on_delete=models.PROTECT, related_name="+"
    )
    units_requested = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    start_on = models.DateField()
    end_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    reference = models.CharField("payer reference", max_length=50, blank=True)
    submitted_on = models.DateField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    authorization = models.OneToOneField(
        "billing.Authorization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="request",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_on__gte=models.F("start_on")), name="prior_auth_dates"
            )
        ]

    def __str__(self) -> str:
        return f"Prior authorization request {self.pk}"
