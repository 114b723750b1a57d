"""Whether the client's releases let us share something with someone, checked before it happens.

Every path that sends client information outside the agency (a referral packet, a document for
an outside party, a letter, an export, an API read by an outside system) asks
`disclosure_check` first and logs what it sent with `disclosure_record`, in the same
transaction. A refusal names what is missing, so the case manager knows which release to get.

Decisions:
- Every disclosure needs a release on file, treatment included: agencies here get one for each
  provider they coordinate with, and a missing one is safer to catch than to assume.
- A release to an organisation covers its people in the directory; a release to a person covers
  that person only, not their organisation. Everyone a disclosure names must be covered.
- Several releases in force may together cover what is shared (an ordinary release for the
  chart and a Part 2 consent for the substance-use records).
- Records of a client who has been in a Part 2 program are Part 2 when they are clinical
  (diagnoses, notes, assessments, plans, documents): sharing them needs a Part 2 consent.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from casework.clients.models import Client, Episode
from casework.coordination.models import (
    PART2_CATEGORIES,
    Category,
    Consent,
    Disclosure,
    Organization,
    Person,
)
from casework.core.audit import Action, audit_record
from casework.core.models import User

# Records that say something about the client's care (documents included: a discharge summary
# from a Part 2 program is as protected as a note).
CLINICAL_CATEGORIES = frozenset(
    {Category.DIAGNOSES, Category.NOTES, Category.ASSESSMENTS, Category.PLANS, Category.DOCUMENTS}
)
ACCOUNTING_YEARS = 3


class DisclosureRefused(Exception):
    """No release in force covers what someone is about to share; the message says what is missing."""


@cache
def part2_texts() -> dict[str, str]:
    path = Path(__file__).parent / "data" / "part2.json"
    texts: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return texts


@dataclass(frozen=True)
class Sharing:
    """What someone is about to share, with whom."""

    client: Client
    categories: frozenset[str]
    organization: Organization | None = None
    person: Person | None = None

    @property
    def recipient_name(self) -> str:
        if self.person is not None and self.organization is not None:
            return f"{self.person.name}, {self.organization.name}"
        if self.person is not None:
            return self.person.name
        return self.organization.name if self.organization is not None else ""

    @property
    def part2(self) -> bool:
        return bool(PART2_CATEGORIES & self.categories)


def client_has_part2_records(client: Client) -> bool:
    return Episode.objects.filter(client=client, program__is_part2=True).exists()


def categories_shared(
    *, client: Client, categories: Iterable[str], part2_documents: bool = False
) -> frozenset[str]:
    """The categories a disclosure really shares: Part 2 is added where the records are Part 2."""
    shared = set(categories)
    if part2_documents:
        shared.add(Category.SUBSTANCE_USE)
    if shared & CLINICAL_CATEGORIES and client_has_part2_records(client):
        shared.add(Category.SUBSTANCE_USE)
    return frozenset(shared)


def _addressed_to(consent: Consent, sharing: Sharing) -> bool:
    """Whether the release covers everyone the sharing names.

    A release to a person covers that person (at the organisation it names, if any), not
    their whole organisation; a release to an organisation covers it and the people the
    directory lists there, not someone else sent a copy alongside.
    """
    person, organization = sharing.person, sharing.organization
    if consent.person_id is not None:
        return (
            person is not None
            and person.pk == consent.person_id
            and (organization is None or organization.pk == consent.organization_id)
        )
    return (
        (person is not None or organization is not None)
        and (organization is None or organization.pk == consent.organization_id)
        and (person is None or person.organization_id == consent.organization_id)
    )


def _nobody_covered(sharing: Sharing, releases: list[Consent]) -> str:
    person, organization = sharing.person, sharing.organization
    if person is not None and organization is not None:
        if any(c.person_id == person.pk for c in releases):
            return (
                f"The release on file names {person.name} but not {organization.name}: send it "
                f"to {person.name} alone, or record a release that names them at "
                f"{organization.name} (or the organisation itself)."
            )
        if any(c.person_id is None and c.organization_id == organization.pk for c in releases):
            return (
                f"The release on file is for {organization.name}, and the directory does not list "
                f"{person.name} there: record a release for {person.name}, or send it to "
                f"{organization.name} alone."
            )
    return f"No release on file lets us share anything with {sharing.recipient_name}."


def _why_not_in_force(consent: Consent, now: datetime.datetime, today: datetime.date) -> str:
    if consent.revoked_at is not None and consent.revoked_at <= now:
        revoked_on = timezone.localdate(consent.revoked_at, now.tzinfo)
        return f"revoked on {revoked_on:%b %-d, %Y}"
    if today < consent.starts_on:
        return f"starts on {consent.starts_on:%b %-d, %Y}"
    if consent.expires_on is not None and today > consent.expires_on:
        return f"expired on {consent.expires_on:%b %-d, %Y}"
    return f"ended on {consent.ended_on:%b %-d, %Y} ({consent.expiry_event})"


def _category_names(codes: Iterable[str]) -> str:
    labels = dict(Category.choices)
    return "; ".join(str(labels.get(code, code)) for code in sorted(codes))


@dataclass(frozen=True)
class Verdict:
    consents: tuple[Consent, ...]
    refusal: str = ""

    @property
    def allowed(self) -> bool:
        return not self.refusal


def disclosure_check(*, sharing: Sharing, now: datetime.datetime | None = None) -> Verdict:
    """The releases that together cover `sharing` right now, or why none do."""
    now = now or timezone.now()
    # The agency's date, not the server's: an API request is not switched to the agency's zone.
    now = now.astimezone(sharing.client.agency.tzinfo)
    today = now.date()
    releases = list(
        Consent.objects.filter(client=sharing.client).select_related("organization", "person")
    )
    addressed = [consent for consent in releases if _addressed_to(consent, sharing)]
    who = sharing.recipient_name
    if not addressed:
        return Verdict((), _nobody_covered(sharing, releases))
    in_force = [c for c in addressed if c.is_active_at(now, today)]
    if not in_force:
        reasons = "; ".join(_why_not_in_force(c, now, today) for c in addressed[:3])
        return Verdict((), f"The release for {who} is not in force ({reasons}).")
    used: list[Consent] = []
    missing = set(sharing.categories)
    # Part 2 consents first, so a Part 2 disclosure names the consent it relies on.
    for consent in sorted(in_force, key=lambda c: (not c.is_part2, c.pk)):
        covers = missing & set(consent.categories)
        if covers:
            used.append(consent)
            missing -= covers
    if missing:
        advice = (
            " Record a 42 CFR Part 2 consent that names them." if missing & PART2_CATEGORIES else ""
        )
        return Verdict(
            (), f"No release in force lets us share {_category_names(missing)} with {who}.{advice}"
        )
    return Verdict(tuple(used))


@dataclass(frozen=True)
class Logged:
    channel: str
    description: str
    object_type: str = ""
    object_id: str = ""


def disclosure_record(
    *, sharing: Sharing, logged: Logged, by: User, at: datetime.datetime | None = None
) -> Disclosure:
    """Check `sharing` once more under lock and log it; raises DisclosureRefused instead.

    Call it inside the transaction that sends or produces what is shared, so nothing is
    logged as sent unless it was, and a release revoked a moment ago stops it. `at` is for
    history only (the demo's packets sent last month): checked and dated as of then.
    """
    at = at or timezone.now()
    with transaction.atomic():
        # Holding the client's releases stops a revocation from slipping in between.
        list(Consent.objects.select_for_update().filter(client=sharing.client).values("id"))
        verdict = disclosure_check(sharing=sharing, now=at)
        if not verdict.allowed:
            raise DisclosureRefused(verdict.refusal)
        disclosure = Disclosure.objects.create(
            agency_id=sharing.client.agency_id,
            client=sharing.client,
            organization=sharing.organization,
            person=sharing.person,
            consent=verdict.consents[0],
            also_under=[c.pk for c in verdict.consents[1:]],
            channel=logged.channel,
            categories=sorted(sharing.categories),
            part2=sharing.part2,
            recipient_name=sharing.recipient_name[:420],
            description=logged.description[:300],
            object_type=logged.object_type,
            object_id=logged.object_id,
            made_by=by,
            made_at=at,
        )
        audit_record(
            actor=by,
            action=Action.CREATE,
            obj=disclosure,
            client_id=sharing.client.pk,
            detail={"channel": logged.channel, "consents": [c.pk for c in verdict.consents]},
        )
    return disclosure


def accounting_since(today: datetime.date) -> datetime.date:
    """The first day of the accounting period a client may ask for (the prior 3 years)."""
    try:
        return today.replace(year=today.year - ACCOUNTING_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - ACCOUNTING_YEARS, day=28)


def still_covered(disclosure: Disclosure) -> str:
    """Why what went out under `disclosure` may not go out again now ("" if it may): a copy
    kept in the chart (a packet, a letter) is sent again only while its releases allow it."""
    sharing = Sharing(
        client=disclosure.client,
        categories=frozenset(disclosure.categories),
        organization=disclosure.organization,
        person=disclosure.person,
    )
    return disclosure_check(sharing=sharing).refusal
