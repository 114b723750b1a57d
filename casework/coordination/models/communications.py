"""Calls, messages, letters and meetings with people about a client (collateral contacts)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casework.clients.models import Client, ClientRecord
from casework.coordination.models.consent import Disclosure
from casework.coordination.models.directory import Person, Recipient

TEXT_LIMIT = 2_000
LETTER_LIMIT = 20_000


class Communication(Recipient, ClientRecord):
    """One contact with someone about the client: who, when, how, what was said and what came of it."""

    class Channel(models.TextChoices):
        CALL = "call", "Phone call"
        VOICEMAIL = "voicemail", "Voicemail left"
        MESSAGE = "message", "Text or secure message"
        EMAIL = "email", "Email"
        LETTER = "letter", "Letter"
        FAX = "fax", "Fax"
        MEETING = "meeting", "Meeting"

    class Direction(models.TextChoices):
        OUTGOING = "outgoing", "We contacted them"
        INCOMING = "incoming", "They contacted us"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="communications")
    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(
        max_length=8, choices=Direction.choices, default=Direction.OUTGOING
    )
    with_name = models.CharField(
        max_length=200, blank=True, help_text="Who, when they are not in the directory."
    )
    with_role = models.CharField(max_length=16, choices=Person.Role.choices)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    summary = models.TextField("what was discussed", max_length=TEXT_LIMIT)
    outcome = models.CharField(max_length=500, blank=True)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # A draft note discarded unsigned leaves the contact in the log, no longer linked.
    note = models.OneToOneField(
        "notes.Note",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communication",
        help_text="The service note that bills this contact, if it is billable.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["client", "-occurred_at"])]

    def __str__(self) -> str:
        return f"Communication {self.pk}"

    @property
    def who(self) -> str:
        return self.recipient_label or self.with_name


class LetterTemplate(models.Model):
    """A letter an agency sends often (to a landlord, a benefits office), with fields filled in."""

    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    body = models.TextField(max_length=LETTER_LIMIT)
    categories = models.JSONField(
        default=list, help_text="What a letter from this template shares about the client."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="one_letter_template_per_name")
        ]

    def __str__(self) -> str:
        return self.name


class Letter(Recipient, ClientRecord):
    """A letter written for a client from a template; once issued it is a disclosure and is kept as sent."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="letters")
    template = models.ForeignKey(
        LetterTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="letters"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=LETTER_LIMIT)
    categories = models.JSONField(default=list)
    disclosure = models.OneToOneField(
        Disclosure, on_delete=models.PROTECT, null=True, blank=True, related_name="letter"
    )
    communication = models.OneToOneField(
        Communication, on_delete=models.PROTECT, null=True, blank=True, related_name="letter"
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Letter {self.pk}"
