"""Agencies, programs, teams, staff, roles and credentials: who works where and may do what."""

from __future__ import annotations

import datetime
import zoneinfo
from functools import cached_property
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from casework.core.catalogues import credential_type_choices, credential_types
from casework.core.validators import validate_ein, validate_npi


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone name such as America/Los_Angeles.")


class Agency(models.Model):
    """A licensed agency: the tenant. Nothing in Casework crosses from one agency to another."""

    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64, default="America/Los_Angeles", validators=[validate_time_zone]
    )
    npi = models.CharField("NPI", max_length=10, blank=True, validators=[validate_npi])
    tax_id = models.CharField(
        "federal tax id (EIN)", max_length=10, blank=True, validators=[validate_ein]
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, default="WA")
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=32, blank=True)

    record_number_prefix = models.CharField(max_length=8, default="C")
    next_record_number = models.PositiveIntegerField(default=1)

    idle_timeout_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(2), MaxValueValidator(240)],
        help_text="Staff are signed out after this many idle minutes.",
    )
    require_two_factor_for_all = models.BooleanField(
        default=False,
        help_text="Admins and billing staff always need two-factor sign-in; this extends it to everyone.",
    )
    billing_sees_narratives = models.BooleanField(
        default=False,
        help_text="Whether billing staff may read note narratives (they always see billing data).",
    )
    credential_warning_days = models.PositiveSmallIntegerField(
        default=60,
        validators=[MaxValueValidator(365)],
        help_text="Warn staff and admins this many days before a credential expires.",
    )
    break_glass_minutes = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
        help_text="How long emergency access to a chart outside one's caseload lasts.",
    )
    note_template = models.CharField(
        max_length=16,
        default="dap",
        help_text="The narrative template new service notes start with (DAP, SOAP, BIRP, GIRP or free).",
    )
    late_note_days = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="A note signed more than this many days after the service asks for a late-entry reason.",
    )
    plan_first_due_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A client's first service plan is due this many days after admission.",
    )
    plan_review_every_days = models.PositiveSmallIntegerField(
        default=180,
        validators=[MinValueValidator(7), MaxValueValidator(365)],
        help_text="A signed service plan is due for review this many days after it starts.",
    )
    calendar_feeds_enabled = models.BooleanField(
        default=True,
        help_text="Staff may subscribe their phone's calendar to a private feed of their appointments (initials and place type only).",
    )
    contact_every_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="A client not seen for longer than this goes on My day, unless their program or chart says otherwise.",
    )
    priority_weights = models.JSONField(
        default=dict,
        blank=True,
        help_text="How much each factor counts in a My day item's priority; blank uses the defaults.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> datetime.date:
        return timezone.now().astimezone(self.tzinfo).date()


class Program(models.Model):
    """A program of the agency that clients enrol in (e.g. intensive case management, SUD outpatient)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True, max_length=2000)
    is_active = models.BooleanField(default=True)
    contact_every_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="Contact standard of the program (e.g. 7 for intensive case management); blank uses the agency's.",
    )
    is_part2 = models.BooleanField(
        "42 CFR Part 2 program",
        default=False,
        help_text="A substance-use program: its clients' clinical records are shared only under a Part 2 consent.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "name"], name="program_unique_name_per_agency"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A group of staff who share clients; supervisors supervise teams."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="teams")
    program = models.ForeignKey(
        Program, on_delete=models.SET_NULL, null=True, blank=True, related_name="teams"
    )
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    members: models.ManyToManyField[User, TeamMembership] = models.ManyToManyField(
        "User", through="TeamMembership", related_name="teams"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="team_unique_name_per_agency")
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    class Kind(models.TextChoices):
        MEMBER = "member", "Member"
        SUPERVISOR = "supervisor", "Supervisor"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey("User", on_delete=models.CASCADE, related_name="team_memberships")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of team {self.team_id}"


class Role(models.TextChoices):
    CASE_MANAGER = "case_manager", "Case manager"
    SUPERVISOR = "supervisor", "Supervisor"
    BILLING = "billing", "Billing"
    AGENCY_ADMIN = "agency_admin", "Agency admin"
    AUDITOR = "auditor", "Auditor"


TWO_FACTOR_ROLES = frozenset({Role.AGENCY_ADMIN, Role.BILLING})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=(username or "").strip())

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("Staff need an email address to sign in.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member. One person, one login: accounts are personal and never shared."""

    email = models.EmailField(unique=True, max_length=254)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    title = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    npi = models.CharField(
        "NPI",
        max_length=10,
        blank=True,
        validators=[validate_npi],
        help_text="Individual NPI, printed as the rendering provider on claims.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May use the Django admin site (platform operators)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # Raising this number signs the person out of every session ("sign out everywhere").
    session_generation = models.PositiveIntegerField(default=0)
    work_days = models.CharField(
        max_length=20,
        default="MO,TU,WE,TH,FR",
        help_text="Working days as RFC 5545 day codes (MO,TU,…); reminders wait for them.",
    )
    work_starts = models.TimeField(default=datetime.time(8, 0))
    work_ends = models.TimeField(default=datetime.time(17, 0))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["first_name", "last_name"]

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["agency", "last_name"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name

    def get_session_auth_hash(self) -> str:
        key_salt = "casework.core.models.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_generation}", algorithm="sha256"
        ).hexdigest()

    @cached_property
    def roles(self) -> frozenset[str]:
        if not self.pk:
            return frozenset()
        return frozenset(StaffRole.objects.filter(user=self).values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def needs_two_factor(self) -> bool:
        if self.is_staff or self.is_superuser or self.has_role(*TWO_FACTOR_ROLES):
            return True
        return bool(self.agency and self.agency.require_two_factor_for_all)


class StaffRole(models.Model):
    """One role held by a staff member; a person may hold several (e.g. case manager and supervisor)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_rows")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="one_row_per_role")]

    def __str__(self) -> str:
        return str(self.get_role_display())


class Credential(models.Model):
    """A staff member's professional credential; whether they may bill a code on a date depends on it."""

    class BackgroundCheck(models.TextChoices):
        PENDING = "pending", "Pending"
        CLEARED = "cleared", "Cleared"
        NOT_CLEARED = "not_cleared", "Not cleared"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="credentials")
    kind = models.CharField("type", max_length=40, choices=credential_type_choices)
    number = models.CharField("credential number", max_length=40)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    attested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attested_on = models.DateField(null=True, blank=True)
    background_check = models.CharField(
        max_length=16, choices=BackgroundCheck.choices, default=BackgroundCheck.PENDING
    )
    background_checked_on = models.DateField(null=True, blank=True)
    supervision_required = models.BooleanField(default=True)
    notes = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_on"]
        indexes = [models.Index(fields=["agency", "expires_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def clean(self) -> None:
        if self.issued_on and self.expires_on and self.expires_on < self.issued_on:
            raise ValidationError({"expires_on": "The expiry date is before the issue date."})

    def is_current_on(self, day: datetime.date) -> bool:
        if self.issued_on and day < self.issued_on:
            return False
        return not (self.expires_on and day > self.expires_on)

    def days_left(self, today: datetime.date) -> int | None:
        return None if self.expires_on is None else (self.expires_on - today).days

    @property
    def attestation_missing(self) -> bool:
        kind = credential_types().get(self.kind)
        return bool(kind and kind.requires_attestation and not self.attested_on)

    @property
    def may_serve_unsupervised(self) -> bool:
        """No unsupervised services until the background check is done (RCW 18.19, DOMAIN.md)."""
        return (
            self.background_check == self.BackgroundCheck.CLEARED and not self.supervision_required
        )


class IdempotencyKey(models.Model):
    """Remembers a form submission so that a double submit returns the first result instead of a copy."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE)
    key = models.CharField(max_length=64)
    purpose = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "purpose", "key"], name="idempotency_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.key}"


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit log.

    The table is created by hand-written SQL in migration 0002 together with the triggers that
    refuse UPDATE and DELETE, so Django does not manage it (and test flushes leave it alone).
    """

    class Action(models.TextChoices):
        VIEW = "view", "View"
        CREATE = "create", "Create"
        UPDATE = "update", "Update"
        DELETE = "delete", "Delete"
        EXPORT = "export", "Export"
        SEARCH = "search", "Search"
        LOGIN = "login", "Sign in"
        LOGOUT = "logout", "Sign out"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        BREAK_GLASS = "break_glass", "Break the glass"
        MERGE = "merge", "Merge"

    chain = models.BigIntegerField()
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    agency_id = models.BigIntegerField(null=True)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    client_id = models.BigIntegerField(null=True)
    ip = models.CharField(max_length=45)
    user_agent = models.CharField(max_length=300)
    request_id = models.CharField(max_length=64)
    detail = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        managed = False
        db_table = "core_auditevent"
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id}"


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the token is shown once, when made."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    organization = models.ForeignKey(
        "coordination.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Set when an outside organisation's system uses the token: what it reads "
        "about a client is a disclosure to them, allowed only under a release.",
    )
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
