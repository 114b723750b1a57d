"""Files kept in a client's chart: ID and insurance cards, court orders, discharge summaries."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casework.clients.models import Client, ClientRecord
from casework.coordination.storage import document_storage


class Document(ClientRecord):
    """An uploaded file. The bytes live outside the web root; only an access-checked view serves them.

    A document is never deleted: a wrong upload is marked removed with a reason and stops
    showing, so the audit trail of who saw it still points at something.
    """

    class Kind(models.TextChoices):
        ID_CARD = "id_card", "ID card"
        INSURANCE_CARD = "insurance_card", "Insurance card"
        COURT_ORDER = "court_order", "Court order"
        DISCHARGE_SUMMARY = "discharge_summary", "Hospital discharge summary"
        SIGNED_CONSENT = "signed_consent", "Signed consent or release"
        MEDICAL_RECORD = "medical_record", "Medical record from another provider"
        BENEFITS = "benefits", "Benefits letter or application"
        HOUSING = "housing", "Housing document"
        OTHER = "other", "Other"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    dated_on = models.DateField(help_text="The date on the document.")
    part2 = models.BooleanField(
        "42 CFR Part 2 record",
        default=False,
        help_text="From a substance-use program: shared only under a Part 2 consent.",
    )
    file = models.FileField(storage=document_storage, upload_to="documents/%Y/%m/")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removal_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-dated_on", "-id"]
        indexes = [models.Index(fields=["client", "removed_at", "-dated_on"])]

    def __str__(self) -> str:
        return f"Document {self.pk}"

    @property
    def is_previewable(self) -> bool:
        return self.content_type == "application/pdf" or self.content_type.startswith("image/")
