"""Releases of information and the disclosures made under them.

A `Consent` says what the client lets the agency share, with whom, why and until when; a
`Disclosure` is one time something was shared. Disclosures are written once and never changed
(the database refuses UPDATE and DELETE), because the client's accounting of disclosures is
read from them.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from casework.clients.models import Client, ClientRecord
from casework.coordination.models.directory import Recipient, someone_named


class Category(models.TextChoices):
    """What a release lets the agency share; every disclosure names the categories it shares."""

    DEMOGRAPHICS = "demographics", "Demographics and contact details"
    DIAGNOSES = "diagnoses", "Diagnoses and medications"
    NOTES = "notes", "Service notes and other narrative (referral reasons, summaries, letters)"
    ASSESSMENTS = "assessments", "Assessments and screenings"
    PLANS = "plans", "Service plans"
    DOCUMENTS = "documents", "Uploaded documents"
    SUBSTANCE_USE = "substance_use", "Substance-use treatment records (42 CFR Part 2)"
    SUD_COUNSELING_NOTES = "sud_counseling_notes", "SUD counseling notes (42 CFR Part 2)"


PART2_CATEGORIES: frozenset[str] = frozenset(
    {Category.SUBSTANCE_USE, Category.SUD_COUNSELING_NOTES}
)


class Purpose(models.TextChoices):
    TREATMENT = "treatment", "Treatment and care coordination"
    PAYMENT = "payment", "Payment"
    OPERATIONS = "operations", "Health care operations"
    TPO = "tpo", "Treatment, payment and health care operations (all future)"
    HOUSING = "housing", "Housing"
    BENEFITS = "benefits", "Benefits and entitlements"
    LEGAL = "legal", "Legal or court"
    CLIENT_REQUEST = "client_request", "At the client's request"
    OTHER = "other", "Other (described)"


class Consent(Recipient, ClientRecord):
    """A release of information (HIPAA authorization or 42 CFR Part 2 consent) signed by the client."""

    class SignedHow(models.TextChoices):
        ON_SCREEN = "on_screen", "Signed on screen"
        PAPER = "paper", "Signed on paper (scanned)"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    purpose_detail = models.CharField(max_length=300, blank=True)
    categories = models.JSONField(default=list)
    starts_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(
        max_length=200, blank=True, help_text="An event that ends the release, if not a date."
    )
    ended_on = models.DateField(
        null=True, blank=True, help_text="When the expiry event happened, once it has."
    )
    signed_how = models.CharField(max_length=12, choices=SignedHow.choices)
    signed_by_name = models.CharField(
        max_length=200, help_text="The client, or their legal representative."
    )
    signed_on = models.DateField()
    signed_copy = models.ForeignKey(
        "coordination.Document",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The scanned paper form.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["client", "revoked_at", "expires_on"])]
        constraints = [
            models.CheckConstraint(condition=someone_named(), name="consent_names_a_recipient"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=False) | ~Q(expiry_event=""),
                name="consent_has_an_end",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("starts_on")),
                name="consent_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"Release {self.pk}"

    @property
    def is_part2(self) -> bool:
        return bool(PART2_CATEGORIES & set(self.categories))

    def is_active_at(self, moment: datetime.datetime, day: datetime.date) -> bool:
        """In force at `moment` (`day` is its date in the agency's time zone)."""
        if self.revoked_at is not None and self.revoked_at <= moment:
            return False
        if day < self.starts_on:
            return False
        if self.expires_on is not None and day > self.expires_on:
            return False
        return self.ended_on is None or day < self.ended_on

    def categories_display(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(code, code)) for code in self.categories]


class Disclosure(Recipient, ClientRecord):
    """One time the client's information left the agency, under the consent that allowed it."""

    class Channel(models.TextChoices):
        REFERRAL_PACKET = "referral_packet", "Referral packet"
        DOCUMENT = "document", "Document given to an outside party"
        LETTER = "letter", "Letter"
        EXPORT = "export", "Export"
        API = "api", "Read by an outside system (API)"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="disclosures")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="disclosures")
    also_under = models.JSONField(
        default=list, help_text="Ids of further releases that together with `consent` covered it."
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    categories = models.JSONField(default=list)
    part2 = models.BooleanField(default=False)
    recipient_name = models.CharField(max_length=420, help_text="Who received it, as it was then.")
    description = models.CharField(max_length=300)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField()

    class Meta:
        ordering = ["-made_at", "-id"]
        indexes = [models.Index(fields=["client", "-made_at"])]

    def __str__(self) -> str:
        return f"Disclosure {self.pk}"

    def categories_display(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(code, code)) for code in self.categories]
