"""Reads behind the reports, each scoped to the asking user's agency and to whose work they may see.

Here: who sees which report, the pieces all reports share, and the staff reports
(productivity, unsigned notes); the billing reports are in `selectors_billing`. Every report is
computed by the database in a fixed number of GROUP BY queries, however many staff, notes or
charges there are (the tests hold the query count to that).

Who sees what: billing staff and agency admins see every report for the whole agency;
supervisors see productivity and unsigned notes for the teams they supervise (and themselves);
case managers see their own row of those two; everyone else sees no report.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DecimalField,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from casework.billing.models import Charge
from casework.core import access
from casework.core.models import Role, StaffRole, User
from casework.notes.models import Note

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

# ---------------------------------------------------------------------------- who sees what


@dataclass(frozen=True)
class ReportInfo:
    key: str
    title: str
    summary: str
    url_name: str
    billing_only: bool


PRODUCTIVITY = ReportInfo(
    "productivity",
    "Productivity",
    "Signed notes, documented and billable hours, units and amounts per staff member, "
    "against a weekly target.",
    "reports_productivity",
    billing_only=False,
)
UNSIGNED_NOTES = ReportInfo(
    "unsigned_notes",
    "Unsigned notes by age",
    "Drafts not yet signed, per author, by days since the service.",
    "reports_unsigned_notes",
    billing_only=False,
)
CHARGES = ReportInfo(
    "charges",
    "Charges by payer, code and month",
    "Counts, units and amounts held, ready and billed; held charges by reason.",
    "reports_charges",
    billing_only=True,
)
AUTHORIZATIONS = ReportInfo(
    "authorizations",
    "Authorization use",
    "Units authorised, used and remaining, with what to act on.",
    "reports_authorizations",
    billing_only=True,
)
REPORTS = (PRODUCTIVITY, UNSIGNED_NOTES, CHARGES, AUTHORIZATIONS)


def staff_scope(user: User) -> QuerySet[User] | None:
    """Staff whose work the user may report on, or None when the user sees no staff report:
    the whole agency for billing staff and admins, the supervised teams and oneself for a
    supervisor, oneself for a case manager."""
    if access.may_bill(user):
        return access.staff_in_agency(user)
    if not access.may_edit_chart(user):  # auditors, people without a role or an agency
        return None
    staff = access.staff_in_agency(user)
    if user.has_role(Role.SUPERVISOR):
        return staff.filter(Q(id__in=access.supervised_staff_ids(user)) | Q(pk=user.pk))
    if user.has_role(Role.CASE_MANAGER):
        return staff.filter(pk=user.pk)
    return None


def may_see(user: User, report: ReportInfo) -> bool:
    if report.billing_only:
        return access.may_bill(user)
    return staff_scope(user) is not None


def reports_for(user: User) -> list[ReportInfo]:
    """The reports the user may open, for the index page (and the navigation)."""
    return [report for report in REPORTS if may_see(user, report)]


# ---------------------------------------------------------------------------- shared pieces


@dataclass(frozen=True)
class Period:
    """Service dates from `start` to `end`, both included."""

    start: datetime.date
    end: datetime.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def hours(minutes: int) -> Decimal:
    """Minutes as hours to one decimal, halves rounded up (105 minutes are 1.8 hours)."""
    return (Decimal(minutes) / 60).quantize(TENTH, rounding=ROUND_HALF_UP)


def money(value: Decimal | int | None) -> Decimal:
    """Amounts to the cent, as SQLite's SUM does not keep the column's two decimals."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _percent(part: Decimal, whole: Decimal) -> int | None:
    if whole <= 0:
        return None
    return int((part * 100 / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _name(first: str, last: str, email: str) -> str:
    """As User.full_name, from values() rows."""
    return f"{first} {last}".strip() or email


# ---------------------------------------------------------------------------- productivity


@dataclass(frozen=True)
class ProductivityRow:
    staff_id: int | None  # None on the totals row
    name: str
    signed_notes: int
    minutes_documented: int
    billable_minutes: int
    units: int
    amount: Decimal
    target_minutes: Decimal

    @property
    def billable_hours(self) -> Decimal:
        return hours(self.billable_minutes)

    @property
    def documented_hours(self) -> Decimal:
        return hours(self.minutes_documented)

    @property
    def percent_of_target(self) -> int | None:
        return _percent(Decimal(self.billable_minutes), self.target_minutes)

    @property
    def bar_width(self) -> int:
        """The bar's width in percent of its track, which stands for the target."""
        return min(self.percent_of_target or 0, 100)


@dataclass(frozen=True)
class Productivity:
    period: Period
    target_per_week: Decimal
    rows: list[ProductivityRow]
    total: ProductivityRow

    @property
    def target_hours(self) -> Decimal:
        """The weekly target prorated over the period, per staff member."""
        return (self.target_per_week * self.period.days / 7).quantize(TENTH, rounding=ROUND_HALF_UP)


def productivity_report(
    *, user: User, period: Period, target_per_week: Decimal
) -> Productivity | None:
    """Per staff member in the user's scope, for services dated in the period: signed notes and
    their minutes; non-void charges' minutes (billable hours), units and amount; and the share
    of the weekly target (prorated by days / 7) those billable hours reach.

    Rows: everyone in scope who is active with a case manager or supervisor role, and anyone
    else in scope with signed notes or charges in the period. Three queries."""
    staff = staff_scope(user)
    if staff is None:
        return None
    agency_id = access.agency_id_of(user)
    staff_ids = staff.values("id")
    notes = Note.objects.filter(
        agency_id=agency_id,
        status=Note.Status.SIGNED,
        service_date__range=(period.start, period.end),
        author_id__in=staff_ids,
    )
    charges = Charge.objects.filter(
        agency_id=agency_id,
        service_date__range=(period.start, period.end),
        rendering_provider_id__in=staff_ids,
    ).exclude(status=Charge.Status.VOID)

    note_totals = {
        row["author_id"]: row
        for row in notes.order_by()
        .values("author_id")
        .annotate(count=Count("id"), minutes=Coalesce(Sum("minutes"), 0))
    }
    charge_totals = {
        row["rendering_provider_id"]: row
        for row in charges.order_by()
        .values("rendering_provider_id")
        .annotate(
            minutes=Coalesce(Sum("minutes"), 0),
            units=Coalesce(Sum("units"), 0),
            amount=Coalesce(Sum("amount"), ZERO, output_field=DecimalField()),
        )
    }
    caseload_staff = StaffRole.objects.filter(role__in=(Role.CASE_MANAGER, Role.SUPERVISOR)).values(
        "user_id"
    )
    people = (
        staff.filter(
            Q(is_active=True, id__in=caseload_staff)
            | Q(id__in=notes.values("author_id"))
            | Q(id__in=charges.values("rendering_provider_id"))
        )
        .order_by("last_name", "first_name", "id")
        .values_list("id", "first_name", "last_name", "email")
    )
    target_minutes = target_per_week * 60 * period.days / 7
    empty: dict[str, Any] = {}
    rows = [
        ProductivityRow(
            staff_id=pk,
            name=_name(first, last, email),
            signed_notes=note_totals.get(pk, empty).get("count", 0),
            minutes_documented=note_totals.get(pk, empty).get("minutes", 0),
            billable_minutes=charge_totals.get(pk, empty).get("minutes", 0),
            units=charge_totals.get(pk, empty).get("units", 0),
            amount=money(charge_totals.get(pk, empty).get("amount")),
            target_minutes=target_minutes,
        )
        for pk, first, last, email in people
    ]
    total = ProductivityRow(
        staff_id=None,
        name="All staff shown",
        signed_notes=sum(r.signed_notes for r in rows),
        minutes_documented=sum(r.minutes_documented for r in rows),
        billable_minutes=sum(r.billable_minutes for r in rows),
        units=sum(r.units for r in rows),
        amount=sum((r.amount for r in rows), ZERO),
        target_minutes=target_minutes * len(rows),
    )
    return Productivity(period=period, target_per_week=target_per_week, rows=rows, total=total)


# ---------------------------------------------------------------------------- unsigned notes


@dataclass(frozen=True)
class AgeBucket:
    label: str
    low: int  # days since the service date, inclusive
    high: int | None  # inclusive; None: no upper bound


AGE_BUCKETS = (
    AgeBucket("0 to 1 days", 0, 1),
    AgeBucket("2 to 3 days", 2, 3),
    AgeBucket("4 to 7 days", 4, 7),
    AgeBucket("8 to 14 days", 8, 14),
    AgeBucket("Over 14 days", 15, None),
)


@dataclass(frozen=True)
class UnsignedRow:
    staff_id: int | None  # None on the totals row
    name: str
    counts: tuple[int, ...]  # one per AGE_BUCKETS entry
    oldest: datetime.date | None
    today: datetime.date

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def oldest_days(self) -> int | None:
        return None if self.oldest is None else (self.today - self.oldest).days

    @property
    def cells(self) -> list[tuple[AgeBucket, int]]:
        return list(zip(AGE_BUCKETS, self.counts, strict=True))


@dataclass(frozen=True)
class UnsignedNotes:
    today: datetime.date
    start: datetime.date | None  # service dates on or after, when chosen
    end: datetime.date | None  # service dates on or before, when chosen
    rows: list[UnsignedRow]
    total: UnsignedRow
    buckets: tuple[AgeBucket, ...] = AGE_BUCKETS


def _age_bucket(today: datetime.date) -> Case:
    """The index in AGE_BUCKETS of a note's age, from its service date (future dates count as 0)."""
    whens = [
        When(service_date__gte=today - datetime.timedelta(days=bucket.high), then=Value(index))
        for index, bucket in enumerate(AGE_BUCKETS)
        if bucket.high is not None
    ]
    return Case(*whens, default=Value(len(AGE_BUCKETS) - 1), output_field=IntegerField())


def unsigned_notes_report(
    *,
    user: User,
    today: datetime.date,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> UnsignedNotes | None:
    """Draft notes by authors in the user's scope (with a service date from `start` to `end`
    where given), counted per author and age bucket, with each author's oldest service date; the
    authors with the oldest drafts first. One query."""
    staff = staff_scope(user)
    if staff is None:
        return None
    drafts = Note.objects.filter(
        agency_id=access.agency_id_of(user),
        status=Note.Status.DRAFT,
        author_id__in=staff.values("id"),
    )
    if start is not None:
        drafts = drafts.filter(service_date__gte=start)
    if end is not None:
        drafts = drafts.filter(service_date__lte=end)
    grouped = (
        drafts.order_by()
        .annotate(bucket=_age_bucket(today))
        .values("author_id", "author__first_name", "author__last_name", "author__email", "bucket")
        .annotate(count=Count("id"), oldest=Min("service_date"))
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    oldest: dict[int, datetime.date] = {}
    names: dict[int, str] = {}
    for row in grouped:
        pk = row["author_id"]
        counts[pk][row["bucket"]] += row["count"]
        oldest[pk] = min(oldest.get(pk, row["oldest"]), row["oldest"])
        names[pk] = _name(row["author__first_name"], row["author__last_name"], row["author__email"])
    rows = sorted(
        (
            UnsignedRow(
                staff_id=pk,
                name=names[pk],
                counts=tuple(counts[pk]),
                oldest=oldest[pk],
                today=today,
            )
            for pk in counts
        ),
        key=lambda r: (r.oldest, r.name.lower(), r.staff_id),
    )
    total = UnsignedRow(
        staff_id=None,
        name="All authors shown",
        counts=tuple(sum(r.counts[i] for r in rows) for i in range(len(AGE_BUCKETS))),
        oldest=min((r.oldest for r in rows if r.oldest), default=None),
        today=today,
    )
    return UnsignedNotes(today=today, start=start, end=end, rows=rows, total=total)
