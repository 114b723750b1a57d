"""Billing set-up. The foundation holds only payers (coverage needs them); claims come later."""

from __future__ import annotations

from django.db import models

from casework.core.models import Agency


class Payer(models.Model):
    """Who pays for services: a Medicaid plan, an administrative services organisation, a grant…"""

    class Kind(models.TextChoices):
        MEDICAID_MCO = "medicaid_mco", "Medicaid managed care plan"
        MEDICAID_FFS = "medicaid_ffs", "Medicaid fee-for-service"
        BH_ASO = "bh_aso", "Behavioral health administrative services organization"
        MEDICARE = "medicare", "Medicare"
        COMMERCIAL = "commercial", "Commercial insurance"
        GRANT = "grant", "Grant or other funder"
        SELF_PAY = "self_pay", "Self-pay"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="payers")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    payer_id = models.CharField("payer id (X12)", max_length=80, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="payer_unique_name_per_agency")
        ]

    def __str__(self) -> str:
        return self.name
