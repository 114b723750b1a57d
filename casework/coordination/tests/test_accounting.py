"""The client's accounting of disclosures: the prior 3 years, newest first, as a page and a PDF."""

from __future__ import annotations

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from casework.coordination.disclosure import Logged, Sharing, accounting_since, disclosure_record
from casework.coordination.models import Category, Consent, Disclosure
from casework.core.models import AuditEvent
from casework.testing.coordination import OrganizationFactory, PersonFactory, release

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(cast):  # type: ignore[no-untyped-def]
    return OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry")


def _disclosed(
    cast, consent: Consent, *, description: str, days_ago: float, part2: bool = False
) -> Disclosure:  # type: ignore[no-untyped-def]
    """A disclosure made `days_ago` (rows are written once, so `made_at` is set at creation)."""
    return Disclosure.objects.create(
        agency=cast.agency,
        client=cast.client,
        organization=consent.organization,
        person=consent.person,
        consent=consent,
        channel=Disclosure.Channel.REFERRAL_PACKET,
        categories=[Category.NOTES, Category.SUBSTANCE_USE] if part2 else [Category.NOTES],
        part2=part2,
        recipient_name=consent.recipient_label,
        description=description,
        made_by=cast.case_manager,
        made_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def _pdf_text(content: bytes) -> str:
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join((page.extract_text() or "").split()) for page in pages)


def test_the_accounting_lists_the_disclosures_of_the_last_3_years_newest_first_and_not_older_ones(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    consent = release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        starts_on=cast.agency.today() - datetime.timedelta(days=5 * 365),
        expires_on=cast.agency.today() + datetime.timedelta(days=30),
    )
    _disclosed(cast, consent, description="Packet from four years ago", days_ago=4 * 365)
    _disclosed(cast, consent, description="Packet from two years ago", days_ago=2 * 365)
    _disclosed(cast, consent, description="Packet from last week", days_ago=7, part2=True)

    response = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/disclosures/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Packet from four years ago" not in page
    assert page.index("Packet from last week") < page.index("Packet from two years ago")
    assert "Riverside Psychiatry" in page and "(42 CFR Part 2)" in page
    assert cast.case_manager.full_name in page
    since = accounting_since(cast.agency.today())
    assert f"{since:%m/%d/%Y}" in page
    assert AuditEvent.objects.filter(
        action="view", client_id=cast.client.pk, detail__contains="accounting of disclosures"
    ).exists()


def test_a_disclosure_under_two_releases_names_both(cast, http_as, clinic) -> None:  # type: ignore[no-untyped-def]
    ordinary = release(client=cast.client, by=cast.case_manager, organization=clinic)
    part2 = release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        categories=(Category.SUBSTANCE_USE,),
    )
    sharing = Sharing(
        client=cast.client,
        categories=frozenset({Category.NOTES, Category.SUBSTANCE_USE}),
        organization=clinic,
    )
    disclosure_record(
        sharing=sharing,
        logged=Logged(channel=Disclosure.Channel.EXPORT, description="Chart export"),
        by=cast.case_manager,
    )
    page = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/disclosures/")
    text = page.content.decode()
    assert f"Release {part2.pk}" in text and f"Release {ordinary.pk}" in text
    assert "Export" in text


def test_the_accounting_pdf_is_for_the_client_and_its_export_is_audited(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    _disclosed(cast, consent, description="Discharge summary sent", days_ago=3, part2=True)

    response = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/disclosures.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "Home Agency" in text
    assert "María O'Connor-Núñez" in text
    assert f"{cast.client.date_of_birth:%m/%d/%Y}" in text
    assert f"{accounting_since(cast.agency.today()):%m/%d/%Y}" in text
    assert "Discharge summary sent" in text and "Riverside Psychiatry" in text
    assert "42 CFR Part 2" in text
    assert "Generated" in text
    assert AuditEvent.objects.filter(action="export", client_id=cast.client.pk).exists()


def test_an_empty_accounting_says_nothing_was_shared(cast, http_as) -> None:  # type: ignore[no-untyped-def]
    page = http_as(cast.case_manager).get(f"/clients/{cast.client.pk}/disclosures/")
    assert "Nothing was shared outside the agency" in page.content.decode()


def _queries(http, url: str) -> int:  # type: ignore[no-untyped-def]
    http.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_the_accounting_takes_the_same_queries_for_one_disclosure_or_many(
    cast, http_as, clinic
) -> None:  # type: ignore[no-untyped-def]
    http = http_as(cast.case_manager)
    url = f"/clients/{cast.client.pk}/disclosures/"

    def disclose_to_a_new_doctor(n: int) -> None:
        """A disclosure under two releases (an ordinary one and a Part 2 consent)."""
        doctor = PersonFactory(agency=cast.agency, organization=clinic)
        release(client=cast.client, by=cast.case_manager, person=doctor)
        release(
            client=cast.client,
            by=cast.case_manager,
            person=doctor,
            categories=(Category.SUBSTANCE_USE,),
        )
        disclosure_record(
            sharing=Sharing(
                client=cast.client,
                categories=frozenset({Category.NOTES, Category.SUBSTANCE_USE}),
                person=doctor,
            ),
            logged=Logged(channel=Disclosure.Channel.API, description=f"Read {n}"),
            by=cast.case_manager,
        )

    disclose_to_a_new_doctor(0)
    one = _queries(http, url)
    for n in range(1, 6):
        disclose_to_a_new_doctor(n)
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    _disclosed(cast, consent, description="Packet", days_ago=1)
    assert Disclosure.objects.count() == 7
    assert _queries(http, url) == one
