"""What the chart shows of a client's care coordination, in one query whatever its size."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from casework.clients.models import Client
from casework.coordination.models import (
    OPEN_REFERRAL_STATUSES,
    ChartComment,
    Communication,
    Consent,
    Document,
    Referral,
)
from casework.core import access
from casework.core.models import User

EXPIRING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class CoordinationCard:
    releases_in_force: int
    releases_expiring: int
    documents: int
    open_referrals: int
    communications: int
    comments: int


def _count(rows: QuerySet[Any]) -> Coalesce:
    counted = rows.filter(client=OuterRef("pk")).order_by().values("client").annotate(n=Count("pk"))
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def releases_in_force_on(today: datetime.date) -> Q:
    """Releases started, not revoked, not expired and not ended by their event."""
    return (
        Q(revoked_at__isnull=True, starts_on__lte=today)
        & (Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        & (Q(ended_on__isnull=True) | Q(ended_on__gt=today))
    )


def coordination_card(*, user: User, client: Client) -> CoordinationCard | None:
    """Counts for the chart's care coordination card; None for those who may not read it."""
    if not access.may_read_narratives(user):
        return None
    today = client.agency.today()
    soon = today + datetime.timedelta(days=EXPIRING_WITHIN_DAYS)
    releases = Consent.objects.filter(releases_in_force_on(today))
    row = (
        Client.objects.filter(pk=client.pk)
        .annotate(
            n_releases_in_force=_count(releases),
            n_releases_expiring=_count(releases.filter(expires_on__lte=soon)),
            n_documents=_count(Document.objects.filter(removed_at__isnull=True)),
            n_open_referrals=_count(Referral.objects.filter(status__in=OPEN_REFERRAL_STATUSES)),
            n_communications=_count(Communication.objects.all()),
            n_comments=_count(ChartComment.objects.all()),
        )
        .values(
            "n_releases_in_force",
            "n_releases_expiring",
            "n_documents",
            "n_open_referrals",
            "n_communications",
            "n_comments",
        )
        .get()
    )
    return CoordinationCard(**{name.removeprefix("n_"): count for name, count in row.items()})
