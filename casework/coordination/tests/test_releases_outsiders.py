"""Every page of releases, disclosures, communications and letters is a 404 to outsiders: staff
of another agency, and staff of another team who do not have the client on their caseload."""

from __future__ import annotations

import pytest
from django.utils import timezone

from casework.coordination.letters import letter_start, letter_templates_seed
from casework.coordination.models import Communication, Consent, Disclosure, Letter, LetterTemplate
from casework.coordination.services_communications import NewCommunication, communication_log
from casework.testing.coordination import OrganizationFactory, release

pytestmark = pytest.mark.django_db


def _urls(cast) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    clinic = OrganizationFactory(agency=cast.agency)
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    contact = communication_log(
        client=cast.client,
        by=cast.case_manager,
        entry=NewCommunication(
            occurred_at=timezone.now(),
            channel=Communication.Channel.CALL,
            summary="Private",
            organization=clinic,
        ),
    )
    letter_templates_seed(agency=cast.agency, by=cast.admin)
    letter = letter_start(
        client=cast.client,
        by=cast.case_manager,
        template=LetterTemplate.objects.filter(agency=cast.agency).first(),  # type: ignore[arg-type]
        organization=clinic,
        person=None,
    )
    base = f"/clients/{cast.client.pk}"
    return [
        ("get", f"{base}/releases/"),
        ("get", f"{base}/releases/new/"),
        ("post", f"{base}/releases/new/"),
        ("get", f"{base}/releases/{consent.pk}/"),
        ("post", f"{base}/releases/{consent.pk}/revoke/"),
        ("post", f"{base}/releases/{consent.pk}/ended/"),
        ("get", f"{base}/releases/{consent.pk}/release.pdf"),
        ("get", f"{base}/disclosures/"),
        ("get", f"{base}/disclosures.pdf"),
        ("get", f"{base}/communications/"),
        ("get", f"{base}/communications/new/"),
        ("post", f"{base}/communications/new/"),
        ("post", f"{base}/communications/{contact.pk}/note/"),
        ("get", f"{base}/letters/"),
        ("get", f"{base}/letters/new/"),
        ("post", f"{base}/letters/new/"),
        ("get", f"{base}/letters/{letter.pk}/"),
        ("post", f"{base}/letters/{letter.pk}/"),
        ("post", f"{base}/letters/{letter.pk}/issue/"),
        ("get", f"{base}/letters/{letter.pk}/letter.pdf"),
    ]


@pytest.mark.parametrize("who", ["outsider_cm", "other_team_cm"])
def test_outsiders_get_404_on_every_page_and_change_nothing(cast, http_as, who) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(cast)
    http = http_as(getattr(cast, who))
    for method, url in urls:
        data = {"note": "x", "ended_on": "2020-01-01", "summary": "x", "body": "x", "subject": "x"}
        response = http.get(url) if method == "get" else http.post(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    consent = Consent.objects.get()
    assert consent.revoked_at is None and consent.ended_on is None
    assert Communication.objects.count() == 1 and Letter.objects.get().issued_at is None
    assert not Disclosure.objects.exists()


def test_the_client_s_own_team_reaches_every_page(cast, http_as) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(cast)
    http = http_as(cast.colleague)
    for method, url in urls:
        if method == "get" and not url.endswith("letter.pdf"):  # a draft has no PDF
            assert http.get(url).status_code == 200, url
