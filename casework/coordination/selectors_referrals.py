"""Reads of referrals and prior-authorization requests, starting from the clients the user may see."""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet
from django.http import Http404

from casework.clients.models import CareTeamMember, Client
from casework.coordination.models import (
    OPEN_REFERRAL_STATUSES,
    PriorAuthRequest,
    Referral,
    ReferralEvent,
)
from casework.core import access
from casework.core.models import User

CASELOAD_FILTERS = {
    "mine": "My clients",
    "due": "Follow-ups due",
    "all": "Everyone I work with",
}


def referrals_visible(user: User) -> QuerySet[Referral]:
    """Referrals of the clients the user may see."""
    return Referral.objects.filter(
        agency_id=access.agency_id_of(user), client__in=access.visible_clients(user)
    )


def client_referrals(*, user: User, client: Client) -> QuerySet[Referral]:
    """The client's referrals, newest first (the client was already checked with client_or_404)."""
    return (
        Referral.objects.filter(agency_id=access.agency_id_of(user), client=client)
        .select_related("organization", "person")
        .order_by("-created_at", "-id")
    )


def referral_or_404(user: User, client: Client, referral_id: int | str) -> Referral:
    try:
        return (
            Referral.objects.filter(agency_id=access.agency_id_of(user), client=client)
            .select_related(
                "client__agency",
                "organization",
                "person",
                "created_by",
                "disclosure",
                "follow_up_task__assignee",
            )
            .get(pk=int(referral_id))
        )
    except (ValueError, TypeError, Referral.DoesNotExist):
        raise Http404("No such referral.") from None


def referral_events(referral: Referral) -> list[ReferralEvent]:
    return list(referral.events.select_related("by").order_by("at", "id"))


def open_referrals(*, user: User, show: str, today: datetime.date) -> QuerySet[Referral]:
    """Open referrals the user may see: of their own clients, with follow-ups due, or all."""
    found = referrals_visible(user).filter(status__in=OPEN_REFERRAL_STATUSES)
    if show == "mine":
        mine = CareTeamMember.objects.filter(
            CareTeamMember.active_on(today), staff=user, agency_id=access.agency_id_of(user)
        ).values("client_id")
        found = found.filter(Q(client_id__in=mine) | Q(created_by=user))
    elif show == "due":
        found = found.filter(follow_up_on__lte=today)
    return found.select_related("client", "organization", "person").order_by(
        F("follow_up_on").asc(nulls_last=True), "-created_at", "-id"
    )


# ---------------------------------------------------------------------------- prior auths


def client_prior_auths(*, user: User, client: Client) -> QuerySet[PriorAuthRequest]:
    return (
        PriorAuthRequest.objects.filter(agency_id=access.agency_id_of(user), client=client)
        .select_related("payer", "service_code", "authorization")
        .order_by("-created_at", "-id")
    )


def prior_auth_or_404(user: User, client: Client, prior_auth_id: int | str) -> PriorAuthRequest:
    try:
        return (
            PriorAuthRequest.objects.filter(agency_id=access.agency_id_of(user), client=client)
            .select_related(
                "client__agency", "payer", "service_code", "authorization", "created_by"
            )
            .get(pk=int(prior_auth_id))
        )
    except (ValueError, TypeError, PriorAuthRequest.DoesNotExist):
        raise Http404("No such prior-authorization request.") from None
