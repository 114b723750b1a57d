"""Appointments: home visits, drives to the doctor, errands, calls, groups, provider meetings.

An appointment is the case manager's block of time (pick-up, travel, waiting, drop-off); the
client's own appointment inside it (the psychiatrist at 10:00) is kept apart as the external
appointment. A recurring visit is a `Series` whose RFC 5545 rule is expanded in the agency's
local time into ordinary appointment rows up to a horizon, so every occurrence can carry its
own outcome, note and exceptions, and a week view is one indexed query.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from casework.clients.models import ClientRecord
from casework.core.models import Agency

MAX_APPOINTMENT = datetime.timedelta(hours=24)


class AppointmentKind(models.TextChoices):
    HOME_VISIT = "home_visit", "Home visit"
    OFFICE = "office", "Office visit"
    TRANSPORT = "transport", "Transport to a medical appointment"
    ERRAND = "errand", "Errand or shopping"
    PHONE_VIDEO = "phone_video", "Phone or video"
    GROUP = "group", "Group"
    PROVIDER_MEETING = "provider_meeting", "Meeting with a provider"


class PlaceType(models.TextChoices):
    """Where, in words that reveal nothing about the client (the phone calendar shows this)."""

    CLIENT_HOME = "client_home", "Client's home"
    OFFICE = "office", "Office"
    CLINIC = "clinic", "Clinic or hospital"
    COMMUNITY = "community", "In the community"
    REMOTE = "remote", "Phone or video"


class Resource(models.Model):
    """A pool car or a room that an appointment may book."""

    class Kind(models.TextChoices):
        VEHICLE = "vehicle", "Vehicle"
        ROOM = "room", "Room"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="resource_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    """A day the agency is closed: recurring appointments skip it unless told otherwise."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["agency", "day"], name="one_holiday_a_day")]

    def __str__(self) -> str:
        return f"{self.name} ({self.day})"


class Series(models.Model):
    """A recurring appointment: an RFC 5545 rule expanded in the agency's local time.

    `first_start` is the local wall-clock time of the first occurrence, so a weekly 10:00 visit
    stays at 10:00 across daylight-saving changes. New occurrences copy the latest one.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=300, help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TU")
    first_start = models.DateTimeField(help_text="The first occurrence (UTC, as stored).")
    time_zone = models.CharField(max_length=64)
    skip_holidays = models.BooleanField(default=True)
    generated_until = models.DateField(help_text="Occurrences exist up to this local date.")
    ended_on = models.DateField(
        null=True, blank=True, help_text="Set when 'this and following' split the series."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"Series {self.pk} ({self.rule})"


class Appointment(models.Model):
    """One block of a staff member's time with or for one or more clients."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"

    class CancelledBy(models.TextChoices):
        CLIENT = "client", "The client"
        STAFF = "staff", "Us"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AppointmentKind.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    clients: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "clients.Client", through="AppointmentClient", related_name="appointments"
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    place_type = models.CharField(max_length=16, choices=PlaceType.choices)
    place = models.CharField(max_length=300, blank=True, help_text="Address or room.")
    purpose = models.CharField(max_length=300, blank=True)
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )

    external_with = models.CharField(
        "client's appointment with",
        max_length=200,
        blank=True,
        help_text="e.g. Dr. Lee, psychiatry",
    )
    external_place = models.CharField(max_length=300, blank=True)
    external_start_at = models.DateTimeField(null=True, blank=True)
    external_end_at = models.DateTimeField(null=True, blank=True)

    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    occurrence_start = models.DateTimeField(
        null=True, blank=True, help_text="Where the series' rule put it (RFC 5545 RECURRENCE-ID)."
    )
    is_exception = models.BooleanField(
        default=False, help_text="Changed on its own, so series edits leave it alone."
    )

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    cancelled_by = models.CharField(max_length=8, choices=CancelledBy.choices, blank=True)
    outcome_reason = models.CharField(max_length=300, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_at", "id"]
        indexes = [
            models.Index(fields=["staff", "start_at"]),
            models.Index(fields=["agency", "start_at"]),
            models.Index(fields=["resource", "start_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_at__gt=models.F("start_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(external_end_at__isnull=True)
                | Q(external_start_at__isnull=True)
                | Q(external_end_at__gt=models.F("external_start_at")),
                name="external_appointment_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["series", "occurrence_start"],
                condition=Q(series__isnull=False),
                name="one_appointment_per_occurrence",
            ),
        ]

    def __str__(self) -> str:
        return f"Appointment {self.pk} ({self.get_kind_display()})"

    @property
    def duration_minutes(self) -> int:
        elapsed = self.end_at.astimezone(datetime.UTC) - self.start_at.astimezone(datetime.UTC)
        return int(elapsed.total_seconds() // 60)

    @property
    def has_outcome(self) -> bool:
        return self.status != self.Status.SCHEDULED


class AppointmentClient(ClientRecord):
    """A client at an appointment (a group has several)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "client"], name="client_once_per_appointment"
            )
        ]
        indexes = [models.Index(fields=["client", "appointment"])]

    def __str__(self) -> str:
        return f"Client {self.client_id} at appointment {self.appointment_id}"


class TravelLeg(models.Model):
    """One leg of the drive around an appointment, for the mileage log."""

    class Purpose(models.TextChoices):
        TO_CLIENT = "to_client", "To pick up the client"
        TO_APPOINTMENT = "to_appointment", "To the appointment"
        RETURN = "return", "Taking the client back"
        ERRAND = "errand", "Errand"
        OTHER = "other", "Other"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="legs")
    position = models.PositiveSmallIntegerField(default=0)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    miles = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.miles} mi"


class CalendarFeed(models.Model):
    """A private, revocable iCalendar address for one staff member's phone.

    Only a hash of the token is kept; the address is shown once when it is made.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="one_live_feed_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"Calendar feed {self.pk} of user {self.user_id}"
