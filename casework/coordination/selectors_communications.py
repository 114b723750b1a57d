"""Reads of the communications log and letters, already scoped: the caller got the client from
`access` (and checked `may_read_narratives`, since both hold what was said)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404

from casework.clients.models import Client
from casework.coordination.models import Communication, Letter, LetterTemplate
from casework.core import access
from casework.core.models import User

PAGE_SIZE = 50


def client_communications(*, client: Client, page: str | int = 1) -> Page[Communication]:
    """One page of the client's contacts, newest first (two queries whatever the page holds)."""
    contacts = Communication.objects.filter(
        client=client, agency_id=client.agency_id
    ).select_related("organization", "person", "staff", "note")
    return Paginator(contacts, PAGE_SIZE).get_page(page)


def communication_or_404(*, client: Client, communication_id: int) -> Communication:
    try:
        return Communication.objects.select_related("client", "organization", "person").get(
            pk=communication_id, client=client, agency_id=client.agency_id
        )
    except Communication.DoesNotExist:
        raise Http404("No such communication.") from None


def client_letters(*, client: Client) -> QuerySet[Letter]:
    return Letter.objects.filter(client=client, agency_id=client.agency_id).select_related(
        "organization", "person", "written_by", "template"
    )


def letter_or_404(*, client: Client, letter_id: int) -> Letter:
    try:
        return Letter.objects.select_related(
            "client",
            "client__agency",
            "organization",
            "person",
            "written_by",
            "template",
            "disclosure",
            "disclosure__consent",
        ).get(pk=letter_id, client=client, agency_id=client.agency_id)
    except Letter.DoesNotExist:
        raise Http404("No such letter.") from None


def letter_templates(*, user: User, active_only: bool = True) -> QuerySet[LetterTemplate]:
    """The user's agency's letter templates, by name."""
    templates = LetterTemplate.objects.filter(agency_id=access.agency_id_of(user))
    return templates.filter(is_active=True) if active_only else templates


def letter_template_or_404(*, user: User, template_id: int) -> LetterTemplate:
    try:
        return letter_templates(user=user, active_only=False).get(pk=template_id)
    except LetterTemplate.DoesNotExist:
        raise Http404("No such letter template.") from None
