"""The demo's care coordination: a synthetic directory, releases in force and running out,
referrals whose packets are in the accounting of disclosures, and the same data every time."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db.models import F, Value
from django.db.models.functions import Concat

from casework.clients.demo import DemoResult, seed_demo
from casework.coordination.accounting import disclosure_accounting
from casework.coordination.models import (
    ChartComment,
    Communication,
    Consent,
    Coverage,
    Disclosure,
    Document,
    Mention,
    Organization,
    Person,
    PriorAuthRequest,
    Referral,
)
from casework.coordination.selectors_collaboration import releases_expiring
from casework.core.models import Agency, Program, User
from casework.worklist.selectors import my_day

pytestmark = pytest.mark.django_db

# A Monday, as the demo's "today" (test_demo_data pins the demo the same way).
DAY = datetime.date(2026, 11, 23)


def _demo(seed: int = 1) -> DemoResult:
    return seed_demo(clients=20, seed=seed, today=DAY)


def _login(agency: Agency, name: str) -> User:
    return User.objects.get(agency=agency, email__startswith=f"{name}@")


def _in_force(agency: Agency, day: datetime.date) -> list[Consent]:
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=agency.tzinfo)
    return [c for c in Consent.objects.filter(agency=agency) if c.is_active_at(noon, day)]


def test_the_directory_is_large_varied_and_synthetic() -> None:
    agency = _demo().agency
    organizations = list(Organization.objects.filter(agency=agency).prefetch_related("services"))
    people = list(Person.objects.filter(agency=agency))
    assert len(organizations) >= 25 and len(people) >= 15
    offered = {s.service_type for o in organizations for s in o.services.all()}
    assert {
        "psychiatry",
        "primary_care",
        "pharmacy",
        "sud_treatment",
        "crisis",
        "housing",
        "shelter",
        "food",
        "benefits",
        "legal",
        "transport",
        "nursing_facility",
        "insurer",
        "dental",
        "peer_support",
        "employment",
    } <= offered
    assert {o.accepting_referrals for o in organizations} == {True, False}
    assert all(o.hours and o.eligibility and o.languages for o in organizations)
    phones = [o.phone for o in organizations] + [o.fax for o in organizations if o.fax]
    phones += [p.phone for p in people]
    assert all("-555-01" in phone for phone in phones), phones
    emails = [o.email for o in organizations if o.email] + [p.email for p in people if p.email]
    assert emails and all(e.endswith(("example.org", ".example")) for e in emails), emails
    hosts = [urlsplit(o.website).hostname or "" for o in organizations if o.website]
    assert hosts and all(h.endswith(("example.org", ".example")) for h in hosts), hosts


def test_releases_are_in_force_two_run_out_within_30_days_and_one_was_revoked() -> None:
    agency = _demo().agency
    in_force = _in_force(agency, DAY)
    assert len(in_force) >= 10
    clients = list(agency.clients.values_list("pk", flat=True))
    expiring = releases_expiring(client_ids=clients, today=DAY)
    assert len(expiring) >= 2
    assert all(
        c.expires_on is not None and c.expires_on <= DAY + datetime.timedelta(30) for c in expiring
    )
    revoked = Consent.objects.filter(agency=agency, revoked_at__isnull=False)
    assert revoked.count() == 1
    assert revoked.get().revoked_at.date() < DAY  # type: ignore[union-attr]
    # The SUD program is a Part 2 program, and its clients have Part 2 consents.
    assert Program.objects.get(agency=agency, code="SUD").is_part2
    assert any(c.is_part2 for c in in_force)


def test_my_day_of_the_walkthrough_case_manager_shows_coordination() -> None:
    agency = _demo().agency
    casey = _login(agency, "casemanager")
    now = datetime.datetime.combine(DAY, datetime.time(12), tzinfo=agency.tzinfo)
    day = my_day(user=casey, now=now, everything=True, with_cover=True)
    kinds = {item.kind for item in day.items}
    assert {"release", "mention"} <= kinds
    assert [s.absent.email.split("@")[0] for s in day.covering] == ["taylor"]


def test_sent_referrals_are_in_the_accounting_of_disclosures() -> None:
    agency = _demo().agency
    referrals = list(Referral.objects.filter(agency=agency).select_related("client__agency"))
    assert {"sent", "scheduled", "completed", "declined", "draft"} <= {r.status for r in referrals}
    for referral in referrals:
        if referral.status == Referral.Status.DRAFT:
            assert referral.disclosure_id is None
            continue
        assert referral.disclosure is not None and referral.sent_at is not None
        assert referral.disclosure.made_at == referral.sent_at
        accounting = disclosure_accounting(client=referral.client, today=DAY)
        rows = [row for row in accounting.rows if row.disclosure.pk == referral.disclosure_id]
        assert rows and rows[0].consents[0].organization_id == referral.organization_id
        assert referral.events.count() >= 2
    open_ones = [r for r in referrals if r.is_open and r.follow_up_on is not None]
    assert open_ones and all(r.follow_up_task_id for r in open_ones)


def test_documents_communications_and_teamwork_are_there() -> None:
    agency = _demo().agency
    documents = list(Document.objects.filter(agency=agency))
    assert {"id_card", "signed_consent"} <= {d.kind for d in documents}
    for document in documents:
        with document.file.open("rb") as stored:
            assert len(stored.read()) == document.size
    assert Communication.objects.filter(agency=agency).count() >= 10
    assert PriorAuthRequest.objects.get(agency=agency).status == PriorAuthRequest.Status.SUBMITTED
    mentioned = Mention.objects.filter(agency=agency, read_at__isnull=True)
    assert mentioned.filter(user=_login(agency, "casemanager")).exists()
    coverage = Coverage.objects.get(agency=agency)
    assert coverage.starts_at.date() <= DAY < coverage.ends_at.date()


def _snapshot(agency: Agency) -> dict[str, Any]:
    """Everything the demo chose, without ids or clock times."""

    def rn(row: Any) -> str:
        return str(row.client.record_number)

    return {
        "directory": list(Organization.objects.filter(agency=agency).values_list("name", "phone")),
        "releases": [
            (
                rn(c),
                c.recipient_label,
                c.purpose,
                c.categories,
                c.starts_on,
                c.expires_on,
                c.revoked_at,
                c.signed_how,
            )
            for c in Consent.objects.filter(agency=agency)
            .select_related("client", "organization", "person")
            .order_by("client__record_number", "starts_on", "purpose", "organization__name")
        ],
        "documents": sorted(
            (rn(d), d.kind, d.title, d.dated_on, d.sha256)
            for d in Document.objects.filter(agency=agency).select_related("client")
        ),
        "referrals": sorted(
            (rn(r), r.organization.name, r.status, r.sent_at, r.reason, r.follow_up_on)
            for r in Referral.objects.filter(agency=agency).select_related("client", "organization")
        ),
        "disclosures": sorted(
            (rn(d), d.recipient_name, d.categories, d.made_at, d.part2)
            for d in Disclosure.objects.filter(agency=agency).select_related("client")
        ),
        "communications": sorted(
            (rn(c), c.occurred_at, c.who, c.summary, c.minutes)
            for c in Communication.objects.filter(agency=agency).select_related(
                "client", "organization", "person"
            )
        ),
        "comments": sorted(
            (rn(c), c.author.email.split("@")[0].removeprefix("first-"), c.body, c.created_at)
            for c in ChartComment.objects.filter(agency=agency).select_related("client", "author")
        ),
    }


def test_the_same_seed_gives_the_same_coordination_data() -> None:
    first = _snapshot(_demo(seed=7).agency)
    # Free the demo emails so a second demo agency fits in the same database.
    User.objects.update(email=Concat(Value("first-"), F("email")))
    second = _snapshot(_demo(seed=7).agency)
    assert first == second
    assert first["releases"] and first["referrals"] and first["communications"]
