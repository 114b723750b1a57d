"""Reads of a client's releases, already scoped: the caller got the client from `access`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from casework.clients.models import Client
from casework.coordination.disclosure import part2_texts
from casework.coordination.models import (
    Consent,
    Disclosure,
    Document,
    Organization,
    Person,
    Purpose,
)
from casework.core import access
from casework.core.models import User

EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class ReleaseRow:
    """A release as the list shows it: whether it is in force, and why not if not."""

    consent: Consent
    in_force: bool
    state: str
    expires_in_days: int | None = None  # only when it ends within EXPIRY_WARNING_DAYS


def release_state(consent: Consent, *, now: datetime.datetime, today: datetime.date) -> ReleaseRow:
    if consent.revoked_at is not None and consent.revoked_at <= now:
        return ReleaseRow(consent, False, "Revoked")
    if consent.expires_on is not None and today > consent.expires_on:
        return ReleaseRow(consent, False, f"Expired {consent.expires_on:%m/%d/%Y}")
    if consent.ended_on is not None and today >= consent.ended_on:
        return ReleaseRow(consent, False, f"Ended {consent.ended_on:%m/%d/%Y}")
    if today < consent.starts_on:
        return ReleaseRow(consent, True, f"Starts {consent.starts_on:%m/%d/%Y}")
    days = (consent.expires_on - today).days if consent.expires_on is not None else None
    soon = days if days is not None and days <= EXPIRY_WARNING_DAYS else None
    return ReleaseRow(consent, True, "In force", soon)


def client_releases(
    *, client: Client, now: datetime.datetime, today: datetime.date
) -> tuple[list[ReleaseRow], list[ReleaseRow]]:
    """The client's releases split into (in force or about to start, ended), newest first."""
    consents = Consent.objects.filter(client=client, agency_id=client.agency_id).select_related(
        "organization", "person"
    )
    rows = [release_state(c, now=now, today=today) for c in consents]
    return [r for r in rows if r.in_force], [r for r in rows if not r.in_force]


def release_or_404(*, client: Client, consent_id: int) -> Consent:
    try:
        return Consent.objects.select_related(
            "organization", "person", "signed_copy", "recorded_by", "revoked_by", "client"
        ).get(pk=consent_id, client=client, agency_id=client.agency_id)
    except Consent.DoesNotExist:
        raise Http404("No such release.") from None


def release_disclosures(*, consent: Consent) -> list[Disclosure]:
    """What was shared under the release, alone or together with others, newest first.

    `also_under` is a JSON list, which SQLite cannot search inside, so the client's
    disclosures (a few per month) are read and filtered here."""
    disclosures = Disclosure.objects.filter(client_id=consent.client_id).select_related("made_by")
    return [d for d in disclosures if d.consent_id == consent.pk or consent.pk in d.also_under]


def release_statements(consent_purpose: str, *, part2: bool) -> list[str]:
    """The statements a 42 CFR Part 2 consent must show (2.31 as amended in 2024)."""
    if not part2:
        return []
    texts = part2_texts()
    statements = []
    if consent_purpose == Purpose.TPO:
        statements.append(texts["tpo_consent_redisclosure_statement"])
    statements.append(texts["revocation_statement"])
    return statements


def directory_organizations(*, user: User) -> QuerySet[Organization]:
    """Active organisations of the user's directory, for a recipient select."""
    return Organization.objects.filter(agency_id=access.agency_id_of(user), is_active=True)


def directory_people(*, user: User) -> QuerySet[Person]:
    """Active people of the user's directory (with their organisation, which their label shows)."""
    return Person.objects.filter(
        agency_id=access.agency_id_of(user), is_active=True
    ).select_related("organization")


def signed_consent_documents(*, client: Client) -> QuerySet[Document]:
    """The client's scanned signed forms a paper release can point at."""
    return Document.objects.filter(
        client=client,
        agency_id=client.agency_id,
        kind=Document.Kind.SIGNED_CONSENT,
        removed_at__isnull=True,
    )
