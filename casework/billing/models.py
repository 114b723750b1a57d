"""Billing: payers, the service catalogue and its unit rules, fee schedules, authorizations,
charges made from signed notes, and claim batches written as X12 837P files."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from casework.core.models import Agency

PLACES_OF_SERVICE: dict[str, str] = {
    "02": "Telehealth, not in the client's home",
    "03": "School",
    "04": "Homeless shelter",
    "10": "Telehealth in the client's home",
    "11": "Office",
    "12": "Home",
    "13": "Assisted living facility",
    "14": "Group home",
    "15": "Mobile unit",
    "16": "Temporary lodging",
    "20": "Urgent care facility",
    "21": "Inpatient hospital",
    "22": "Outpatient hospital",
    "23": "Emergency room",
    "27": "Outreach site / street",
    "31": "Skilled nursing facility",
    "32": "Nursing facility",
    "33": "Custodial care facility",
    "51": "Inpatient psychiatric facility",
    "53": "Community mental health center",
    "55": "Residential substance abuse treatment facility",
    "57": "Non-residential substance abuse treatment facility",
    "99": "Other place of service",
}
PLACE_OF_SERVICE_CHOICES = [(code, f"{code} {name}") for code, name in PLACES_OF_SERVICE.items()]


class UnitRule(models.TextChoices):
    """How minutes become billable units; each payer chooses (DOMAIN.md, units from minutes)."""

    CMS_8_MINUTE = "cms_8_minute", "CMS 8-minute rule (8 to 22 min = 1 unit, 23 to 37 = 2 …)"
    HALF_UNIT = "half_unit", "Each unit needs at least half its length"
    FULL_UNITS = "full_units", "Full units only"
    FIRST_UNIT_ANY = "first_unit_any", "First unit from 1 minute, later units from half"
    ENCOUNTER = "encounter", "One unit per encounter, above a minimum duration"


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

    class FilingIndicator(models.TextChoices):
        """X12 claim filing indicator (SBR09)."""

        MEDICAID = "MC", "MC Medicaid"
        MEDICARE_B = "MB", "MB Medicare Part B"
        COMMERCIAL = "CI", "CI Commercial insurance"
        HMO = "HM", "HM Health maintenance organization"
        OTHER_NON_FEDERAL = "11", "11 Other non-federal program"
        BLUE_CROSS = "BL", "BL Blue Cross/Blue Shield"
        CHAMPUS = "CH", "CH TRICARE"
        VETERANS = "VA", "VA Veterans Affairs plan"
        MUTUALLY_DEFINED = "ZZ", "ZZ Mutually defined"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="payers")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    payer_id = models.CharField("payer id (X12)", max_length=80, blank=True)
    is_active = models.BooleanField(default=True)
    filing_indicator = models.CharField(
        "claim filing indicator",
        max_length=2,
        choices=FilingIndicator.choices,
        default=FilingIndicator.MEDICAID,
    )
    unit_rule = models.CharField(
        "default unit rule",
        max_length=16,
        choices=UnitRule.choices,
        default=UnitRule.CMS_8_MINUTE,
        help_text="How minutes become units for this payer, unless a code says otherwise.",
    )
    requires_authorization = models.BooleanField(
        default=False,
        help_text="Charges to this payer are held until an authorization covers them.",
    )
    bills_electronically = models.BooleanField(
        default=True, help_text="Grant funders and self-pay are usually reported, not claimed."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="payer_unique_name_per_agency")
        ]

    def __str__(self) -> str:
        return self.name


class ServiceCode(models.Model):
    """A billable (or reportable) service in the agency's catalogue: code, modifiers, units."""

    class UnitType(models.TextChoices):
        PER_15_MINUTES = "15min", "Per 15 minutes"
        PER_HOUR = "hour", "Per hour"
        PER_ENCOUNTER = "encounter", "Per encounter"
        PER_DAY = "day", "Per day"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="service_codes")
    code = models.CharField("procedure code (HCPCS/CPT)", max_length=5)
    modifiers = models.CharField(
        max_length=11, blank=True, help_text="Up to four two-character modifiers, e.g. “HF”."
    )
    description = models.CharField(max_length=200)
    unit_type = models.CharField(max_length=10, choices=UnitType.choices)
    minimum_minutes = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(720)],
        help_text="Shorter contacts give no units (encounter codes).",
    )
    is_billable = models.BooleanField(default=True)
    allowed_credentials = models.JSONField(
        default=list,
        blank=True,
        help_text="Credential types that may render this service; empty means any current credential.",
    )
    allowed_places = models.JSONField(
        "allowed places of service",
        default=list,
        blank=True,
        help_text="Place-of-service codes allowed; empty means any.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "modifiers"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "code", "modifiers"], name="service_code_unique_per_agency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.description}"

    @property
    def label(self) -> str:
        return f"{self.code} {self.modifiers}".strip()

    @property
    def modifier_list(self) -> tuple[str, ...]:
        return tuple(self.modifiers.split())


class PayerCodeRule(models.Model):
    """A payer's own unit rule for one code, where it differs from the payer's default."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="code_rules")
    service_code = models.ForeignKey(
        ServiceCode, on_delete=models.CASCADE, related_name="payer_rules"
    )
    unit_rule = models.CharField(max_length=16, choices=UnitRule.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "service_code"], name="one_rule_per_payer_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_unit_rule_display()}"


class FeeRate(models.Model):
    """The rate per unit for a code from a date on (a payer's own, or the agency's default)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    service_code = models.ForeignKey(ServiceCode, on_delete=models.CASCADE, related_name="rates")
    payer = models.ForeignKey(
        Payer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rates",
        help_text="Empty: the agency's default rate for every payer without its own.",
    )
    effective_from = models.DateField()
    rate = models.DecimalField(
        "rate per unit",
        max_digits=9,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00")), MaxValueValidator(Decimal("99999.99"))],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_code", "payer", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["service_code", "payer", "effective_from"], name="one_rate_per_day"
            ),
            models.UniqueConstraint(
                fields=["service_code", "effective_from"],
                condition=Q(payer__isnull=True),
                name="one_default_rate_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"${self.rate} from {self.effective_from:%Y-%m-%d}"


class Authorization(models.Model):
    """Units a payer has authorised for a client and codes between two dates."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="authorizations"
    )
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="authorizations")
    number = models.CharField("authorization number", max_length=50)
    service_codes = models.ManyToManyField(ServiceCode, related_name="authorizations")
    units = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    start_on = models.DateField()
    end_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-end_on"]
        indexes = [models.Index(fields=["client", "payer", "end_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(end_on__gte=models.F("start_on")), name="auth_dates")
        ]

    def __str__(self) -> str:
        return f"Authorization {self.number}"

    def covers(self, day: datetime.date) -> bool:
        return self.start_on <= day <= self.end_on


class ClaimSettings(models.Model):
    """The agency's electronic-claims identity: submitter, clearinghouse and control numbers."""

    agency = models.OneToOneField(Agency, on_delete=models.PROTECT, related_name="claim_settings")
    submitter_id = models.CharField(
        "submitter id (ETIN)", max_length=80, help_text="Given by the clearinghouse or payer."
    )
    submitter_contact = models.CharField(max_length=60)
    submitter_phone = models.CharField(max_length=20)
    receiver_name = models.CharField(max_length=60, default="Washington HCA ProviderOne")
    receiver_id = models.CharField(max_length=80, default="77045")
    interchange_sender_id = models.CharField("ISA sender id", max_length=15)
    interchange_receiver_id = models.CharField("ISA receiver id", max_length=15, default="77045")
    taxonomy_code = models.CharField(
        max_length=10, blank=True, help_text="Billing provider taxonomy, e.g. 251S00000X."
    )
    is_test = models.BooleanField(
        "test files", default=True, help_text="Mark files as test (ISA15 = T) until go-live."
    )
    next_control_number = models.PositiveIntegerField(
        default=1, validators=[MaxValueValidator(999_999_999)]
    )

    class Meta:
        verbose_name_plural = "claim settings"

    def __str__(self) -> str:
        return f"Claim settings of agency {self.agency_id}"


class Charge(models.Model):
    """What one signed billable note earns: created exactly once, when the note is signed."""

    class Status(models.TextChoices):
        HELD = "held", "Held"
        READY = "ready", "Ready to bill"
        BILLED = "billed", "Billed"
        VOID = "void", "Void"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    note = models.OneToOneField("notes.Note", on_delete=models.PROTECT, related_name="charge")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="charges")
    service_code = models.ForeignKey(ServiceCode, on_delete=models.PROTECT, related_name="+")
    rendering_provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    payer = models.ForeignKey(
        Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    coverage = models.ForeignKey(
        "clients.Coverage", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authorization = models.ForeignKey(
        Authorization, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    service_date = models.DateField()
    minutes = models.PositiveIntegerField()
    units = models.PositiveIntegerField()
    unit_rule = models.CharField(max_length=16, choices=UnitRule.choices)
    rate = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("0.00"))
    amount = models.DecimalField(max_digits=11, decimal_places=2, default=Decimal("0.00"))
    place_of_service = models.CharField(max_length=2)
    modifiers = models.CharField(max_length=11, blank=True)
    diagnosis_codes = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices)
    hold_reasons = models.JSONField(default=list, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-service_date", "-id"]
        indexes = [
            models.Index(fields=["agency", "status", "payer", "service_date"]),
            models.Index(fields=["agency", "service_date"]),
            models.Index(fields=["authorization", "status"]),
        ]

    def __str__(self) -> str:
        return f"Charge {self.pk} ({self.get_status_display()})"

    @property
    def claim_number(self) -> str:
        return claim_number(self.agency_id, self.pk)


def claim_number(agency_id: int, charge_id: int) -> str:
    """The patient control number (CLM01) a charge is claimed under, in every claim of it."""
    return f"CW{agency_id}-{charge_id}"


class ClaimBatch(models.Model):
    """One generated 837P file for one payer: immutable once written (the database refuses edits)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="batches")
    service_from = models.DateField()
    service_to = models.DateField()
    control_number = models.PositiveIntegerField(help_text="ISA13 / GS06 / ST02")
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    claim_count = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=13, decimal_places=2)
    is_test = models.BooleanField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "claim batches"
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "control_number"], name="batch_control_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Batch {self.control_number:09d}"

    @property
    def filename(self) -> str:
        return f"837P-{self.control_number:09d}.x12"


class ClaimLine(models.Model):
    """A charge as claimed in one batch: an original, a replacement or a void of it."""

    class Frequency(models.TextChoices):
        ORIGINAL = "1", "Original"
        REPLACEMENT = "7", "Replacement"
        VOID = "8", "Void"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        ClaimBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="claim_lines")
    frequency = models.CharField(max_length=1, choices=Frequency.choices)
    original_reference = models.CharField(
        "payer claim number",
        max_length=50,
        blank=True,
        help_text="REF*F8 for replacements and voids.",
    )
    amount = models.DecimalField(max_digits=11, decimal_places=2)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["agency", "batch"])]
        constraints = [
            models.UniqueConstraint(
                fields=["charge"],
                condition=Q(frequency="1"),
                name="one_original_claim_per_charge",
            ),
            models.UniqueConstraint(
                fields=["charge"],
                condition=Q(batch__isnull=True),
                name="one_pending_correction_per_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} claim for charge {self.charge_id}"
