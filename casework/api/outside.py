"""Reads by an outside organisation's system: each one is a disclosure, checked and logged.

A token made for an outside organisation (a health plan's platform, a hospital's system) reads
through the same endpoints as staff, but only endpoints that say which categories of the
chart they reveal (`disclosure_categories` on the view) answer it, and only with GET. It sees
only clients with a release to that organisation in force (casework.core.access narrows every
client query for it): anyone else is a 404, so it cannot learn who else is a client. Before a
response leaves, every client it names is checked against that client's releases; if a
release does not cover what the read reveals (a plan under a demographics-only release), the
whole response is refused (403, with what is missing) and nothing is logged; otherwise each
client gets a Disclosure (channel "api", naming the token), which their accounting lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from casework.clients.models import Client
from casework.coordination.disclosure import (
    DisclosureRefused,
    Logged,
    Sharing,
    categories_shared,
    disclosure_record,
)
from casework.coordination.models import Consent, Disclosure, Organization
from casework.core import access
from casework.core.models import ApiToken, User

# A refusal lists at most this many clients; the rest are counted.
REFUSALS_NAMED = 5


def outside_organization(request: Request) -> Organization | None:
    token = getattr(request, "auth", None)
    if isinstance(token, ApiToken) and token.organization_id is not None:
        return token.organization
    return None


class OutsideSystemsReadReleasedRecordsOnly(BasePermission):
    """An outside organisation's token may only GET endpoints that declare what they reveal
    (or that they hold no client data: `outside_may_read`)."""

    message = (
        "This token belongs to an outside organisation's system: it may only read, and only "
        "clients' records whose releases cover that organisation."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        if outside_organization(request) is None:
            return True
        declared = bool(getattr(view, "disclosure_categories", ())) or getattr(
            view, "outside_may_read", False
        )
        return request.method in SAFE_METHODS and declared


def disclose_to_outside(
    request: Request, *, client_ids: Iterable[int], categories: Iterable[str], section: str
) -> None:
    """For an outside system's read: check every client named and log each disclosure, or
    refuse the whole response (PermissionDenied) when a release is missing. Staff reads pass."""
    organization = outside_organization(request)
    ids = sorted(set(client_ids))
    if organization is None or not ids:
        return
    user: User = request.user  # type: ignore[assignment]
    token: ApiToken = request.auth  # type: ignore[assignment]
    description = f"Read through the API by {organization.name}'s system (token cw_{token.prefix}…)"
    refused: list[str] = []
    with transaction.atomic():
        # Every client's releases at once, in one order, before any disclosure is written: a
        # revocation waiting on one of them cannot then deadlock against this read.
        list(
            Consent.objects.select_for_update()
            .filter(client_id__in=ids)
            .order_by("client_id", "id")
            .values_list("id", flat=True)
        )
        for client in Client.objects.filter(pk__in=ids, agency_id=organization.agency_id):
            sharing = Sharing(
                client=client,
                categories=categories_shared(client=client, categories=categories),
                organization=organization,
            )
            try:
                disclosure_record(
                    sharing=sharing,
                    logged=Logged(
                        channel=Disclosure.Channel.API,
                        description=f"{description}: {section}",
                    ),
                    by=user,
                )
            except DisclosureRefused as refusal:
                refused.append(f"client {client.pk}: {refusal}")
        if refused:
            shown = "; ".join(refused[:REFUSALS_NAMED])
            more = len(refused) - REFUSALS_NAMED
            suffix = f" (and {more} more)" if more > 0 else ""
            # Raised inside the transaction, so the disclosures logged for the others go too.
            raise exceptions.PermissionDenied(f"Not shared: {shown}{suffix}")


def addressed_to_the_reader(releases: QuerySet[Consent]) -> QuerySet[Consent]:
    """An outside system sees only the releases made out to its organisation: the others (to a
    substance-use program, say) would tell it what the client has not agreed to share."""
    organization_id = access.outside_reader.get()
    if organization_id is None:
        return releases
    return releases.filter(organization_id=organization_id, person__isnull=True)
