"""The client registry: one chart per person the agency serves."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from casework.clients.validators import validate_icd10_code, validate_phone
from casework.core.models import Agency, Program

# What a person may type about a client (the web form and the API both edit exactly these).
DEMOGRAPHIC_FIELDS = [
    "legal_first_name",
    "legal_middle_name",
    "legal_last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "sex_for_billing",
    "gender_identity",
    "primary_language",
    "interpreter_needed",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "address_notes",
]


class Client(models.Model):
    """A person the agency serves. Legal name for claims, preferred name for people."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        DISCHARGED = "discharged", "Discharged"
        DECEASED = "deceased", "Deceased"
        MERGED = "merged", "Merged into another record"

    class Sex(models.TextChoices):
        # The values X12 837P DMG03 and most payers accept.
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        UNKNOWN = "U", "Unknown / not reported"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="clients")
    record_number = models.CharField(max_length=20)
    legal_first_name = models.CharField(max_length=100)
    legal_middle_name = models.CharField(max_length=100, blank=True)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField()
    sex_for_billing = models.CharField(
        "sex (as payers record it)", max_length=1, choices=Sex.choices, default=Sex.UNKNOWN
    )
    gender_identity = models.CharField(max_length=80, blank=True)
    primary_language = models.CharField(max_length=60, default="English")
    interpreter_needed = models.BooleanField(default=False)

    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    address_notes = models.CharField(
        max_length=300, blank=True, help_text="e.g. shelter bed, mail at the office"
    )

    class Acuity(models.IntegerChoices):
        LOW = 1, "Low"
        MODERATE = 2, "Moderate"
        HIGH = 3, "High"

    acuity = models.PositiveSmallIntegerField(
        choices=Acuity.choices,
        default=Acuity.MODERATE,
        help_text="Weighs the client in a case manager's caseload load.",
    )
    contact_every_days = models.PositiveSmallIntegerField(
        "contact standard (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="See the client at least this often; blank uses the program's or agency's standard.",
    )

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_changed_on = models.DateField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # Lower-case, accent-free "first middle last preferred" for sorting and search.
    search_name = models.CharField(max_length=420, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "record_number"], name="client_record_number_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "legal_last_name", "legal_first_name"]),
            models.Index(fields=["agency", "date_of_birth"]),
            models.Index(fields=["agency", "status"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        parts = [self.legal_first_name, self.legal_middle_name, self.legal_last_name]
        return " ".join(p for p in parts if p)

    def age_on(self, day: datetime.date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class ClientRecord(models.Model):
    """Base for the rows that hang off a chart: they carry the agency (tenancy)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True


class Phone(ClientRecord):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="phones")

    class Kind(models.TextChoices):
        MOBILE = "mobile", "Mobile"
        HOME = "home", "Home"
        WORK = "work", "Work"
        OTHER = "other", "Other (e.g. shelter desk)"

    number = models.CharField(max_length=32, validators=[validate_phone])
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MOBILE)
    may_leave_voicemail = models.BooleanField(default=False)
    safe_to_text = models.BooleanField(default=False)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} phone"


class EmergencyContact(ClientRecord):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="emergency_contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=80, blank=True)
    phone = models.CharField(max_length=32, validators=[validate_phone])
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Emergency contact ({self.relationship or 'unspecified'})"


class Identifier(ClientRecord):
    """An id that other systems know the client by (Medicaid ProviderOne id, Medicare MBI …)."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="identifiers")

    class Kind(models.TextChoices):
        PROVIDERONE = "providerone", "Washington Medicaid (ProviderOne) client id"
        MEDICARE_MBI = "medicare_mbi", "Medicare beneficiary identifier (MBI)"
        STATE_ID = "state_id", "State ID / driver licence"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=40)
    label = models.CharField(max_length=80, blank=True, help_text="Which system, for “other”.")

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "kind", "value"], name="identifier_unique_per_agency"
            ),
        ]
        indexes = [models.Index(fields=["agency", "value"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class Coverage(ClientRecord):
    """Insurance or funding that pays for the client's services, in priority order."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="coverages")

    class Priority(models.IntegerChoices):
        PRIMARY = 1, "Primary"
        SECONDARY = 2, "Secondary"
        TERTIARY = 3, "Tertiary"

    payer = models.ForeignKey("billing.Payer", on_delete=models.PROTECT, related_name="+")
    member_id = models.CharField(max_length=40)
    group_number = models.CharField(max_length=40, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.PRIMARY)
    start_on = models.DateField()
    end_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["priority", "-start_on"]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} coverage {self.member_id}"

    def is_active_on(self, day: datetime.date) -> bool:
        """Coverage runs through its end date inclusive, as payers' eligibility spans do."""
        return self.start_on <= day and (self.end_on is None or day <= self.end_on)


class Diagnosis(ClientRecord):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="diagnoses")

    class Rank(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"

    code = models.CharField("ICD-10-CM code", max_length=8, validators=[validate_icd10_code])
    description = models.CharField(max_length=250)
    rank = models.CharField(max_length=10, choices=Rank.choices, default=Rank.SECONDARY)
    onset_on = models.DateField(null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "diagnoses"
        ordering = ["rank", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class Medication(ClientRecord):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=200)
    dose = models.CharField(max_length=100, blank=True)
    frequency = models.CharField(max_length=100, blank=True)
    prescriber = models.CharField(max_length=200, blank=True)
    started_on = models.DateField(null=True, blank=True)
    stopped_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["stopped_on", "name"]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}".strip()


class SafetyFlag(ClientRecord):
    """A warning for anyone who visits or calls: shown on every page of the chart."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="safety_flags")

    class Kind(models.TextChoices):
        DO_NOT_VISIT_ALONE = "visit_in_pairs", "Do not visit alone"
        DOG = "dog", "Dog on premises"
        WEAPONS = "weapons", "Weapons in the home"
        VIOLENCE = "violence", "History of violence"
        SUICIDE_RISK = "suicide_risk", "Suicide risk"
        FALL_RISK = "fall_risk", "Fall risk"
        ALLERGY = "allergy", "Severe allergy"
        OTHER = "other", "Other"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    detail = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class FlagNotice(ClientRecord):
    """Tells one person that an urgent safety flag was raised, until they acknowledge it.

    `reason` is what raised the flag (the instrument, the question and the answer): it is PHI
    and stays in the database, never in logs or audit details. A notice is never deleted;
    acknowledging only stamps `acknowledged_at`.
    """

    flag = models.ForeignKey(SafetyFlag, on_delete=models.PROTECT, related_name="notices")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flag_notices"
    )
    assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flag_notices",
        help_text="The assessment whose answer raised the flag, if one did.",
    )
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=600)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "acknowledged_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["flag", "recipient", "assessment"],
                condition=Q(assessment__isnull=False),
                name="one_flag_notice_per_assessment_and_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"Flag notice {self.pk} for user {self.recipient_id}"


class Episode(ClientRecord):
    """An episode of care: enrolment in a program from admission to discharge."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="episodes")
    admitted_on = models.DateField()
    admission_reason = models.CharField(max_length=300, blank=True)
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-admitted_on"]

    def __str__(self) -> str:
        return f"Episode from {self.admitted_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None


class CareTeamMember(ClientRecord):
    """A staff member on the client's care team from `start_on` until the day before `end_on`."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="care_team")

    class Role(models.TextChoices):
        PRIMARY = "primary", "Primary case manager"
        CASE_MANAGER = "case_manager", "Case manager"
        PEER = "peer", "Peer specialist"
        CLINICIAN = "clinician", "Clinician"
        PRESCRIBER = "prescriber", "Prescriber"
        OTHER = "other", "Other"

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_assignments"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    start_on = models.DateField()
    end_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["role", "start_on"]
        indexes = [models.Index(fields=["agency", "staff", "end_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(role="primary", end_on__isnull=True),
                name="one_open_primary_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} from {self.start_on:%Y-%m-%d}"

    @staticmethod
    def active_on(day: datetime.date) -> Q:
        return Q(start_on__lte=day) & (Q(end_on__isnull=True) | Q(end_on__gt=day))


class TimelineEvent(ClientRecord):
    """Something that happened in the client's care, recorded with the change that caused it."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="timeline_events")
    occurred_at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=40)
    summary = models.CharField(max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["client", "-occurred_at"])]

    def __str__(self) -> str:
        return self.summary


class NameKey(models.Model):
    """Search keys for typo-tolerant name search (a token and its one-letter deletions)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="name_keys")
    key = models.CharField(max_length=100)
    # The client's status is active: a copy kept by clients.services (`_refresh_search`, and
    # `client_update` when the status changes), so that a search over the whole agency's active
    # clients reads the keys alone instead of joining every client (docs/PERFORMANCE.md).
    # Search still checks the client itself, so a stale copy can hide a client, never show one.
    client_is_active = models.BooleanField(db_default=True)

    class Meta:
        # With client_id in the index, search counts a key's clients from the index alone.
        indexes = [
            models.Index(fields=["agency", "key", "client"], name="clients_namekey_lookup"),
            models.Index(
                fields=["agency", "key", "client"],
                condition=models.Q(client_is_active=True),
                name="clients_namekey_active",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class BreakGlassAccess(models.Model):
    """Emergency access to a chart outside one's caseload: time-limited, with a reason, audited."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="break_glass")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass"
    )
    reason = models.CharField(max_length=500)
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [models.Index(fields=["user", "client", "expires_at"])]

    def __str__(self) -> str:
        return f"Emergency access until {timezone.localtime(self.expires_at):%Y-%m-%d %H:%M}"
