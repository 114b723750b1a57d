"""Reads of assessments, always starting from the clients the user may see."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet
from django.http import Http404

from casework.assessments.instruments import instruments
from casework.assessments.models import Assessment
from casework.core import access
from casework.core.models import User


def assessments_visible(user: User) -> QuerySet[Assessment]:
    """Assessments of clients the user may see; drafts only to their author."""
    return Assessment.objects.filter(
        agency_id=access.agency_id_of(user), client__in=access.visible_clients(user)
    ).filter(~Q(status=Assessment.Status.DRAFT) | Q(author=user))


def assessment_or_404(user: User, assessment_id: int | str) -> Assessment:
    try:
        return (
            assessments_visible(user)
            .select_related("client", "author", "agency")
            .prefetch_related("addenda__author")
            .get(pk=int(assessment_id))
        )
    except (ValueError, TypeError, Assessment.DoesNotExist):
        raise Http404("No such assessment.") from None


def client_assessments(*, user: User, client_id: int, limit: int = 20) -> list[Assessment]:
    return list(
        assessments_visible(user)
        .filter(client_id=client_id)
        .select_related("author")
        .order_by("-administered_on", "-id")[:limit]
    )


def signed_scores(*, user: User, client_id: int, instrument: str) -> list[Assessment]:
    """Signed assessments with a total, oldest first, for the trend."""
    return list(
        assessments_visible(user)
        .filter(
            client_id=client_id,
            instrument=instrument,
            status=Assessment.Status.SIGNED,
            total__isnull=False,
        )
        .select_related("author")
        .order_by("administered_on", "id")
    )


@dataclass(frozen=True)
class Due:
    """When an instrument is next due for a client: its repeat interval after the last signed."""

    instrument: str
    name: str
    last_on: datetime.date
    due_on: datetime.date

    def overdue(self, today: datetime.date) -> bool:
        return self.due_on < today


def assessments_due(*, user: User, client_id: int) -> list[Due]:
    """Each instrument the client has had, with its next due date, soonest first (one query)."""
    last_signed = (
        assessments_visible(user)
        .filter(client_id=client_id, status=Assessment.Status.SIGNED)
        .values("instrument")
        .annotate(last_on=Max("administered_on"))
    )
    due = []
    for row in last_signed:
        instrument = instruments().get(row["instrument"])
        every = instrument.raw.get("repeat_every_days") if instrument else None
        if instrument is not None and every:
            due_on = row["last_on"] + datetime.timedelta(days=every)
            due.append(Due(instrument.key, instrument.name, row["last_on"], due_on))
    return sorted(due, key=lambda d: d.due_on)
