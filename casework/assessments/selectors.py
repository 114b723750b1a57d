"""Reads of assessments, always starting from the clients the user may see."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from casework.assessments.models import Assessment
from casework.core import access
from casework.core.models import User


def assessments_visible(user: User) -> QuerySet[Assessment]:
    """Assessments of clients the user may see; drafts only to their author."""
    from django.db.models import Q

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
