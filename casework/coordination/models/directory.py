"""The agency's directory: organisations and people outside the agency that staff work with."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from casework.core.models import Agency

NAME_LIMIT = 200
TEXT_LIMIT = 2_000


class ServiceType(models.TextChoices):
    """What a resource offers; the directory is searched by these."""

    PSYCHIATRY = "psychiatry", "Psychiatry"
    PRIMARY_CARE = "primary_care", "Primary care"
    PHARMACY = "pharmacy", "Pharmacy"
    HOSPITAL = "hospital", "Hospital"
    SUD_TREATMENT = "sud_treatment", "Substance-use treatment"
    CRISIS = "crisis", "Crisis services"
    HOUSING = "housing", "Housing"
    SHELTER = "shelter", "Shelter"
    FOOD = "food", "Food"
    BENEFITS = "benefits", "Benefits and entitlements"
    EMPLOYMENT = "employment", "Employment"
    LEGAL = "legal", "Legal aid"
    TRANSPORT = "transport", "Transport"
    NURSING_FACILITY = "nursing_facility", "Nursing facility"
    INSURER = "insurer", "Insurer or managed-care plan"
    DENTAL = "dental", "Dental"
    PEER_SUPPORT = "peer_support", "Peer support"
    OTHER = "other", "Other"


class Organization(models.Model):
    """A provider or community resource in the agency's directory (a clinic, a landlord, a pantry)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=NAME_LIMIT)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    fax = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    hours = models.CharField(max_length=300, blank=True)
    eligibility = models.TextField(max_length=TEXT_LIMIT, blank=True)
    languages = models.CharField(max_length=300, blank=True, help_text="E.g. English, Spanish.")
    accepting_referrals = models.BooleanField(default=True)
    is_covered_entity = models.BooleanField(
        "HIPAA covered entity",
        default=False,
        help_text="A health plan or provider bound by HIPAA; Part 2 redisclosure rules differ.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "name", "address"], name="one_organization_per_name_and_address"
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationService(models.Model):
    """One service type an organisation offers (a row each, so the directory filters by it)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="services"
    )
    service_type = models.CharField(max_length=24, choices=ServiceType.choices)

    class Meta:
        ordering = ["service_type"]
        indexes = [models.Index(fields=["agency", "service_type"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "service_type"], name="one_row_per_service_type"
            )
        ]

    def __str__(self) -> str:
        return str(self.get_service_type_display())


class Person(models.Model):
    """Someone outside the agency staff talk with about clients: a psychiatrist, a landlord, a parent."""

    class Role(models.TextChoices):
        PSYCHIATRIST = "psychiatrist", "Psychiatrist or prescriber"
        PHYSICIAN = "physician", "Physician or nurse"
        PHARMACIST = "pharmacist", "Pharmacist"
        THERAPIST = "therapist", "Therapist or counselor"
        LANDLORD = "landlord", "Landlord or housing staff"
        FAMILY = "family", "Family member"
        FRIEND = "friend", "Friend or neighbour"
        PROBATION = "probation", "Probation or parole officer"
        ATTORNEY = "attorney", "Attorney or guardian"
        INSURER = "insurer", "Insurer or care coordinator"
        BENEFITS = "benefits", "Benefits worker"
        OTHER = "other", "Other"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=NAME_LIMIT)
    role = models.CharField(max_length=16, choices=Role.choices)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["agency", "name"])]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """Base for records addressed to someone in the directory: a person, an organisation or both."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def recipient_label(self) -> str:
        names = [who.name for who in (self.person, self.organization) if who is not None]
        return ", ".join(names)


def someone_named() -> Q:
    """A recipient row names a person, an organisation or both, never nobody."""
    return Q(organization__isnull=False) | Q(person__isnull=False)
