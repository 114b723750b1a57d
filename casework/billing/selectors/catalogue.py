"""Reads about the billing set-up: payers, the catalogue, fee schedules and authorizations.

Each starts from the user's agency (and, for authorizations, the clients the user may see) and
runs a fixed number of queries however many rows there are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from casework.billing.models import (
    Authorization,
    Charge,
    FeeRate,
    Payer,
    PayerCodeRule,
    ServiceCode,
)
from casework.core import access
from casework.core.models import User

WARNING_PERCENT = 80
EXPIRING_DAYS = 30
AUTHORIZATION_FILTERS: dict[str, str] = {
    "active": "Active",
    "expiring": f"Expiring in {EXPIRING_DAYS} days",
    "all": "All",
}


# ---------------------------------------------------------------------------- scopes


def payers_in_agency(user: User) -> QuerySet[Payer]:
    return Payer.objects.filter(agency_id=access.agency_id_of(user))


def service_codes_in_agency(user: User) -> QuerySet[ServiceCode]:
    return ServiceCode.objects.filter(agency_id=access.agency_id_of(user))


def authorizations_in_scope(user: User) -> QuerySet[Authorization]:
    """The agency's authorizations for clients the user may see."""
    return Authorization.objects.filter(
        agency_id=access.agency_id_of(user),
        client_id__in=access.visible_clients(user).values("id"),
    )


# ---------------------------------------------------------------------------- payers


def payer_list(*, user: User) -> QuerySet[Payer]:
    """The agency's payers, active first, with how many codes have a rule of their own."""
    return (
        payers_in_agency(user)
        .annotate(code_rule_count=Count("code_rules"))
        .order_by("-is_active", "name")
    )


def payer_code_rules(*, payer: Payer) -> dict[int, str]:
    """The payer's own unit rule by service-code id (codes absent follow the payer's default)."""
    return dict(
        PayerCodeRule.objects.filter(payer=payer).values_list("service_code_id", "unit_rule")
    )


# ---------------------------------------------------------------------------- catalogue and rates


def _default_rate_on(day: datetime.date) -> Subquery:
    return Subquery(
        FeeRate.objects.filter(
            service_code=OuterRef("pk"), payer__isnull=True, effective_from__lte=day
        )
        .order_by("-effective_from")
        .values("rate")[:1]
    )


def service_code_list(*, user: User, today: datetime.date) -> QuerySet[ServiceCode]:
    """The catalogue, active codes first, each with the agency's default rate in effect today."""
    return (
        service_codes_in_agency(user)
        .annotate(default_rate=_default_rate_on(today))
        .order_by("-is_active", "code", "modifiers")
    )


def rate_on(
    *, service_code: ServiceCode, payer: Payer | None, day: datetime.date
) -> Decimal | None:
    """The rate per unit on the day: the payer's own latest rate from on or before the day,
    else the agency's default one; None when neither exists. One query."""
    whose = Q(payer__isnull=True)
    if payer is not None:
        whose |= Q(payer=payer)
    rate: Decimal | None = (
        FeeRate.objects.filter(whose, service_code=service_code, effective_from__lte=day)
        .order_by(F("payer_id").asc(nulls_last=True), "-effective_from")
        .values_list("rate", flat=True)
        .first()
    )
    return rate


@dataclass(frozen=True)
class FeeRateRow:
    rate: FeeRate
    state: str  # "current", "scheduled" or "superseded"

    @property
    def state_label(self) -> str:
        return {"current": "In effect", "scheduled": "Scheduled", "superseded": "Superseded"}[
            self.state
        ]


def fee_schedule(*, service_code: ServiceCode, today: datetime.date) -> list[FeeRateRow]:
    """Every rate of the code, the agency default first then by payer, newest first in each,
    marked in effect today, scheduled for later, or superseded."""
    rates = (
        FeeRate.objects.filter(service_code=service_code)
        .select_related("payer")
        .order_by(F("payer__name").asc(nulls_first=True), "payer_id", "-effective_from")
    )
    rows: list[FeeRateRow] = []
    seen_current: set[int | None] = set()
    for rate in rates:
        if rate.effective_from > today:
            state = "scheduled"
        elif rate.payer_id in seen_current:
            state = "superseded"
        else:
            state = "current"
            seen_current.add(rate.payer_id)
        rows.append(FeeRateRow(rate=rate, state=state))
    return rows


# ---------------------------------------------------------------------------- authorizations


def authorization_units_used(
    authorization: Authorization, *, excluding_note_id: int | None = None
) -> int:
    """Units the authorization's charges hold: every linked charge that is not void.

    A charge held because the authorization ran out is never linked, so it holds nothing.
    """
    charges = Charge.objects.filter(authorization=authorization).exclude(status=Charge.Status.VOID)
    if excluding_note_id is not None:
        charges = charges.exclude(note_id=excluding_note_id)
    total = charges.aggregate(total=Sum("units"))["total"]
    return int(total or 0)


def authorizations_with_usage(queryset: QuerySet[Authorization]) -> QuerySet[Authorization]:
    """Annotate `used_units`: units of the charges under each authorization that are not void.

    A correlated subquery, so it stays right whatever joins the queryset already has.
    """
    used = (
        Charge.objects.filter(authorization=OuterRef("pk"))
        .exclude(status=Charge.Status.VOID)
        .order_by()
        .values("authorization")
        .annotate(total=Sum("units"))
        .values("total")
    )
    return queryset.annotate(
        used_units=Coalesce(Subquery(used, output_field=IntegerField()), Value(0))
    )


def authorization_list(*, user: User, show: str, today: datetime.date) -> QuerySet[Authorization]:
    """Authorizations for the list page: "active" (covering today), "expiring" (active and
    ending within 30 days) or "all"; with usage, client, payer and codes loaded."""
    authorizations = authorizations_in_scope(user)
    if show in ("active", "expiring"):
        authorizations = authorizations.filter(start_on__lte=today, end_on__gte=today)
        order: tuple[str, ...] = ("end_on", "id")
    else:
        order = ("-end_on", "-id")
    if show == "expiring":
        authorizations = authorizations.filter(
            end_on__lte=today + datetime.timedelta(days=EXPIRING_DAYS)
        )
    return authorizations_with_usage(
        authorizations.select_related("client", "payer")
        .prefetch_related(
            Prefetch("service_codes", queryset=ServiceCode.objects.order_by("code", "modifiers"))
        )
        .order_by(*order)
    )


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str  # "", "ok", "warn" or "danger"


@dataclass(frozen=True)
class AuthorizationBalance:
    """How much of an authorization is used, and the badges that say what to watch."""

    authorization: Authorization
    used: int
    remaining: int
    percent_used: int
    badges: tuple[Badge, ...]


def authorization_balance(
    authorization: Authorization, *, today: datetime.date
) -> AuthorizationBalance:
    """The balance of an authorization annotated by `authorizations_with_usage`."""
    annotated: Any = authorization
    used = int(annotated.used_units or 0)
    total = authorization.units
    percent = used * 100 // total if total else 100
    badges: list[Badge] = []
    if authorization.end_on < today:
        badges.append(Badge("Expired", "danger"))
    elif authorization.start_on > today:
        badges.append(Badge(f"Starts {authorization.start_on:%m/%d/%Y}", ""))
    if used >= total:
        badges.append(Badge("Exhausted", "danger"))
    elif percent >= WARNING_PERCENT:
        badges.append(Badge(f"{percent} % used", "warn"))
    if authorization.start_on <= today <= authorization.end_on and used < total:
        if authorization.end_on <= today + datetime.timedelta(days=EXPIRING_DAYS):
            badges.append(Badge(f"Ends {authorization.end_on:%m/%d/%Y}", "warn"))
        elif not badges:
            badges.append(Badge("Active", "ok"))
    return AuthorizationBalance(
        authorization=authorization,
        used=used,
        remaining=max(total - used, 0),
        percent_used=percent,
        badges=tuple(badges),
    )
