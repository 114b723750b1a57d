"""Reads of the agency's directory, always within the user's own agency."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from casework.coordination.models import Organization, OrganizationService, Person, ServiceType
from casework.core import access
from casework.core.models import User


@dataclass(frozen=True)
class DirectorySearch:
    """What someone looks for: words of the name, a service, a language, open to referrals."""

    text: str = ""
    service_type: str = ""
    language: str = ""
    accepting_only: bool = False
    include_inactive: bool = False

    @property
    def is_blank(self) -> bool:
        return not (self.text or self.service_type or self.language or self.accepting_only)


def organizations_in_agency(user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(agency_id=access.agency_id_of(user))


def people_in_agency(user: User) -> QuerySet[Person]:
    return Person.objects.filter(agency_id=access.agency_id_of(user))


def organization_search(*, user: User, search: DirectorySearch) -> QuerySet[Organization]:
    """Organisations matching every part of the search, with their services (two queries a page)."""
    found = organizations_in_agency(user)
    if not search.include_inactive:
        found = found.filter(is_active=True)
    for word in search.text.split()[:8]:
        found = found.filter(Q(name__icontains=word) | Q(address__icontains=word))
    if search.service_type in ServiceType.values:
        found = found.filter(
            Exists(
                OrganizationService.objects.filter(
                    organization=OuterRef("pk"), service_type=search.service_type
                )
            )
        )
    if search.language:
        found = found.filter(languages__icontains=search.language)
    if search.accepting_only:
        found = found.filter(accepting_referrals=True)
    return found.prefetch_related("services").order_by("name", "id")


def people_search(*, user: User, text: str, limit: int = 20) -> list[Person]:
    """People (active) whose name has every word typed, with their organisation."""
    words = text.split()[:8]
    if not words:
        return []
    found = people_in_agency(user).filter(is_active=True)
    for word in words:
        found = found.filter(name__icontains=word)
    return list(found.select_related("organization").order_by("name", "id")[:limit])


def organization_or_404(user: User, organization_id: int | str) -> Organization:
    try:
        return organizations_in_agency(user).get(pk=int(organization_id))
    except (ValueError, TypeError, Organization.DoesNotExist):
        raise Http404("No such organisation in the directory.") from None


def organization_with_people(user: User, organization_id: int | str) -> Organization:
    """The organisation with its services and people (active first), in three queries."""
    try:
        return (
            organizations_in_agency(user)
            .prefetch_related(
                "services",
                Prefetch("people", queryset=Person.objects.order_by("-is_active", "name", "id")),
            )
            .get(pk=int(organization_id))
        )
    except (ValueError, TypeError, Organization.DoesNotExist):
        raise Http404("No such organisation in the directory.") from None


def person_or_404(user: User, person_id: int | str) -> Person:
    try:
        return people_in_agency(user).select_related("organization").get(pk=int(person_id))
    except (ValueError, TypeError, Person.DoesNotExist):
        raise Http404("No such person in the directory.") from None


def organizations_to_pick(user: User, keep: Organization | None = None) -> QuerySet[Organization]:
    """Active organisations for a picker, plus the one already chosen."""
    keep_q = Q(pk=keep.pk) if keep is not None else Q(pk__in=[])
    return organizations_in_agency(user).filter(Q(is_active=True) | keep_q).order_by("name", "id")


def people_to_pick(user: User, keep: Person | None = None) -> QuerySet[Person]:
    """Active people for a picker (with their organisation), plus the one already chosen."""
    keep_q = Q(pk=keep.pk) if keep is not None else Q(pk__in=[])
    return (
        people_in_agency(user)
        .filter(Q(is_active=True) | keep_q)
        .select_related("organization")
        .order_by("name", "id")
    )
