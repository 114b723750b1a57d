"""Reads behind the billing reports (charges by payer, code and month; authorization use), for
billing staff and agency admins only, scoped to their agency, in a fixed number of queries."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth

from casework.billing.models import Authorization, Charge, ServiceCode
from casework.billing.selectors import catalogue as billing
from casework.core import access
from casework.core.models import User
from casework.reports.selectors import ZERO, Period, money

PIVOT_STATUSES = (Charge.Status.HELD, Charge.Status.READY, Charge.Status.BILLED)

HOLD_REASON_LABELS: dict[str, str] = {
    "no_coverage": "No active coverage",
    "no_episode": "No open episode of care",
    "no_diagnosis": "No active diagnosis",
    "credential": "Credential does not allow billing",
    "no_npi": "Staff member has no NPI",
    "place": "Place of service not allowed",
    "zero_units": "Too short for a unit",
    "no_rate": "No fee rate",
    "no_authorization": "No authorization",
    "authorization_expired": "Authorization ended",
    "authorization_exhausted": "Authorization used up",
    "cosign": "Waiting for co-signature",
}


@dataclass(frozen=True)
class Tally:
    count: int = 0
    units: int = 0
    amount: Decimal = ZERO

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.units + other.units, self.amount + other.amount)


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total += tally
    return total


@dataclass(frozen=True)
class ChargeRow:
    """One payer, code and month, with a tally per status (held, ready, billed)."""

    payer: str
    code: str
    month: datetime.date
    by_status: tuple[Tally, ...]

    @property
    def total(self) -> Tally:
        return _sum(self.by_status)

    @property
    def cells(self) -> list[tuple[str, Tally]]:
        return [
            (str(status.label), tally)
            for status, tally in zip(PIVOT_STATUSES, self.by_status, strict=True)
        ]


@dataclass(frozen=True)
class HoldRow:
    code: str
    label: str
    tally: Tally


@dataclass(frozen=True)
class ChargesReport:
    period: Period
    rows: list[ChargeRow]
    holds: list[HoldRow]
    statuses: tuple[Charge.Status, ...] = PIVOT_STATUSES
    totals: tuple[Tally, ...] = field(default=())

    @property
    def total(self) -> Tally:
        return _sum(self.totals)

    @property
    def total_cells(self) -> list[tuple[str, Tally]]:
        return [
            (str(status.label), tally)
            for status, tally in zip(PIVOT_STATUSES, self.totals, strict=True)
        ]


NO_PAYER = "No payer"


def charges_report(*, user: User, period: Period) -> ChargesReport | None:
    """The agency's charges with a service date in the period, void ones left out: count, units
    and amount per payer, service code and month of service, split by status; and the held ones
    per hold reason (a charge held for two reasons counts under both). Two queries."""
    if not access.may_bill(user):
        return None
    charges = Charge.objects.filter(
        agency_id=access.agency_id_of(user), service_date__range=(period.start, period.end)
    ).exclude(status=Charge.Status.VOID)
    grouped = (
        charges.order_by()
        .annotate(month=TruncMonth("service_date"))
        .values(
            "payer_id",
            "payer__name",
            "service_code_id",
            "service_code__code",
            "service_code__modifiers",
            "month",
            "status",
        )
        .annotate(
            count=Count("id"),
            units=Coalesce(Sum("units"), 0),
            amount=Coalesce(Sum("amount"), ZERO, output_field=DecimalField()),
        )
    )
    cells: dict[tuple[Any, ...], dict[str, Tally]] = defaultdict(dict)
    for row in grouped:
        month = row["month"]
        if isinstance(month, datetime.datetime):  # some backends truncate dates to datetimes
            month = month.date()
        code = f"{row['service_code__code']} {row['service_code__modifiers']}".strip()
        key = (row["payer__name"] is None, row["payer__name"] or NO_PAYER, code, month)
        cells[key][row["status"]] = Tally(row["count"], row["units"], money(row["amount"]))
    rows = [
        ChargeRow(
            payer=payer,
            code=code,
            month=month,
            by_status=tuple(by_status.get(status, Tally()) for status in PIVOT_STATUSES),
        )
        for (_, payer, code, month), by_status in sorted(cells.items(), key=lambda kv: kv[0])
    ]
    totals = tuple(_sum(r.by_status[i] for r in rows) for i in range(len(PIVOT_STATUSES)))
    return ChargesReport(period=period, rows=rows, holds=_holds(charges), totals=totals)


def _holds(charges: QuerySet[Charge]) -> list[HoldRow]:
    """Held charges per reason code. Reasons are a JSON list on each charge, which SQLite and
    PostgreSQL unnest differently, so the (few) held rows are read and grouped here."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    held = charges.filter(status=Charge.Status.HELD).order_by()
    for reasons, units, amount in held.values_list("hold_reasons", "units", "amount"):
        codes = {str(r.get("code", "")) for r in reasons or [] if isinstance(r, dict)} or {""}
        for code in codes:
            tallies[code] += Tally(1, units, money(amount))
    return sorted(
        (
            HoldRow(
                code or "unknown", HOLD_REASON_LABELS.get(code, code or "No reason recorded"), t
            )
            for code, t in tallies.items()
        ),
        key=lambda h: (-h.tally.count, h.code),
    )


# ---------------------------------------------------------------------------- authorizations


@dataclass(frozen=True)
class AuthorizationUse:
    authorization: Authorization
    used: int
    remaining: int
    percent_used: int
    days_left: int  # days from today to the last day; negative once it has ended
    badges: tuple[billing.Badge, ...]

    @property
    def exhausted(self) -> bool:
        return self.used >= self.authorization.units

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    @property
    def flagged(self) -> bool:
        """What needs acting on: at least 80 % used, used up, or ended."""
        return self.percent_used >= billing.WARNING_PERCENT or self.exhausted or self.expired

    @property
    def code_labels(self) -> str:
        return ", ".join(code.label for code in self.authorization.service_codes.all())


@dataclass(frozen=True)
class AuthorizationReport:
    period: Period
    today: datetime.date
    rows: list[AuthorizationUse]

    @property
    def flagged_count(self) -> int:
        return sum(1 for row in self.rows if row.flagged)


def authorization_use_report(
    *, user: User, period: Period, today: datetime.date
) -> AuthorizationReport | None:
    """Authorizations whose dates overlap the period, each with the units of its non-void
    charges (all of them, not only the period's), what remains, the share used and the days
    left; flagged first, then by end date. Two queries."""
    if not access.may_bill(user):
        return None
    authorizations = billing.authorizations_with_usage(
        billing.authorizations_in_scope(user)
        .filter(start_on__lte=period.end, end_on__gte=period.start)
        .select_related("client", "payer")
        .prefetch_related(
            Prefetch("service_codes", queryset=ServiceCode.objects.order_by("code", "modifiers"))
        )
        .order_by("end_on", "id")
    )
    rows = []
    for authorization in authorizations:
        balance = billing.authorization_balance(authorization, today=today)
        rows.append(
            AuthorizationUse(
                authorization=authorization,
                used=balance.used,
                remaining=balance.remaining,
                percent_used=balance.percent_used,
                days_left=(authorization.end_on - today).days,
                badges=balance.badges,
            )
        )
    rows.sort(key=lambda r: not r.flagged)  # stable: end date order within each group
    return AuthorizationReport(period=period, today=today, rows=rows)
