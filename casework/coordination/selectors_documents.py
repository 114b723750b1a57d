"""Reads of client documents, starting from the access layer: a chart the user may not open has
no documents as far as they can tell (404)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from casework.clients.models import Client
from casework.coordination.models import Category, Consent, Document, Organization, Person
from casework.core import access
from casework.core.models import User


def client_documents(*, user: User, client: Client) -> QuerySet[Document]:
    """The documents in the chart (not removed), newest first; `client` from client_or_404."""
    visible = access.visible_clients(user).filter(pk=client.pk)
    return Document.objects.filter(
        client__in=visible, agency_id=client.agency_id, removed_at__isnull=True
    ).order_by("-dated_on", "-id")


def document_or_404(*, user: User, client_id: int, document_id: int) -> Document:
    """A document in a chart the user may open, not removed; 404 for anything else."""
    client = access.client_or_404(user, client_id)
    try:
        document = Document.objects.select_related("uploaded_by").get(
            pk=document_id, client=client, agency_id=client.agency_id, removed_at__isnull=True
        )
    except Document.DoesNotExist:
        raise Http404("No such document.") from None
    document.client = client  # the one already fetched, with its agency checked
    return document


def directory_organizations(*, user: User) -> QuerySet[Organization]:
    """Organisations of the user's agency directory a document may be given to."""
    return Organization.objects.filter(agency_id=access.agency_id_of(user), is_active=True)


def directory_people(*, user: User) -> QuerySet[Person]:
    return Person.objects.filter(
        agency_id=access.agency_id_of(user), is_active=True
    ).select_related("organization")


def document_releases_in_force(*, client: Client) -> list[Consent]:
    """The client's releases in force that could let a document go out (documents, or Part 2
    records): shown as a hint beside the choice; the decision is disclosure_check's."""
    now, today = timezone.now(), client.agency.today()
    consents = Consent.objects.filter(client=client, revoked_at__isnull=True).select_related(
        "organization", "person"
    )
    return [
        consent
        for consent in consents
        if consent.is_active_at(now, today)
        and (Category.DOCUMENTS in consent.categories or consent.is_part2)
    ]
