"""An outside organisation's system reads only what the clients' releases let us share with it,
and every read is logged as a disclosure."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from casework.api.services import TokenError, api_token_create
from casework.coordination.models import Category, Disclosure, Organization
from casework.testing.coordination import OrganizationFactory, release
from casework.testing.personas import Cast


@pytest.fixture
def plan_platform(cast: Cast) -> Organization:
    return OrganizationFactory(agency=cast.agency, name="Cascade Health Plan")


def _outside(cast: Cast, organization: Organization) -> APIClient:
    _, raw = api_token_create(user=cast.admin, name="Plan platform", organization=organization)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return http


def test_only_an_admin_makes_a_token_for_an_outside_organisation(
    cast: Cast, plan_platform: Organization
) -> None:
    with pytest.raises(TokenError, match="admin"):
        api_token_create(user=cast.case_manager, name="x", organization=plan_platform)
    elsewhere = OrganizationFactory(agency=cast.outsider_agency)
    with pytest.raises(TokenError, match="directory"):
        api_token_create(user=cast.admin, name="x", organization=elsewhere)


def test_without_a_release_the_client_is_not_found_and_nothing_is_logged(
    cast: Cast, plan_platform: Organization
) -> None:
    http = _outside(cast, plan_platform)
    assert http.get(f"/api/v1/clients/{cast.client.pk}/").status_code == 404
    assert http.get("/api/v1/clients/", {"q": cast.client.legal_last_name}).json()["results"] == []
    fhir = http.get(f"/api/fhir/r4/Consent?patient={cast.client.pk}")
    assert fhir.status_code == 404
    assert not Disclosure.objects.exists()


def test_it_sees_only_the_released_clients_and_only_the_releases_made_out_to_it(
    cast: Cast, plan_platform: Organization
) -> None:
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=plan_platform,
        categories=(Category.DEMOGRAPHICS,),
    )
    treatment = OrganizationFactory(agency=cast.agency, name="Hope Recovery Center")
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=treatment,
        categories=(Category.SUBSTANCE_USE,),
    )
    http = _outside(cast, plan_platform)
    listed = http.get("/api/v1/clients/").json()["results"]
    assert [c["id"] for c in listed] == [cast.client.pk]
    releases = http.get("/api/v1/consents/", {"client": cast.client.pk}).json()["results"]
    assert [r["recipient"] for r in releases] == ["Cascade Health Plan"]
    bundle = http.get(f"/api/fhir/r4/Consent?patient={cast.client.pk}").json()
    assert bundle["total"] == 1
    assert "Hope" not in str(bundle)


def test_with_a_release_the_read_answers_and_is_logged_for_the_clients_accounting(
    cast: Cast, plan_platform: Organization
) -> None:
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=plan_platform,
        categories=(Category.DEMOGRAPHICS,),
    )
    http = _outside(cast, plan_platform)
    response = http.get(f"/api/v1/clients/{cast.client.pk}/")
    assert response.status_code == 200
    disclosure = Disclosure.objects.get()
    assert disclosure.client == cast.client
    assert disclosure.channel == Disclosure.Channel.API
    assert disclosure.organization == plan_platform
    assert disclosure.categories == [Category.DEMOGRAPHICS]


def test_a_release_for_demographics_does_not_open_the_notes(
    cast: Cast, plan_platform: Organization
) -> None:
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=plan_platform,
        categories=(Category.DEMOGRAPHICS,),
    )
    http = _outside(cast, plan_platform)
    response = http.get(f"/api/fhir/r4/CarePlan?patient={cast.client.pk}")
    assert response.status_code == 403
    assert "Service plans" in response.json()["issue"][0]["diagnostics"]


def test_a_revoked_release_stops_the_next_read(cast: Cast, plan_platform: Organization) -> None:
    consent = release(
        client=cast.client,
        by=cast.case_manager,
        organization=plan_platform,
        categories=(Category.DEMOGRAPHICS,),
    )
    http = _outside(cast, plan_platform)
    assert http.get(f"/api/v1/clients/{cast.client.pk}/").status_code == 200
    consent.revoked_at = timezone.now()
    consent.save(update_fields=["revoked_at"])
    assert http.get(f"/api/v1/clients/{cast.client.pk}/").status_code == 404
    assert Disclosure.objects.count() == 1


def test_an_outside_system_cannot_write_nor_read_what_declares_no_categories(
    cast: Cast, plan_platform: Organization
) -> None:
    release(client=cast.client, by=cast.case_manager, organization=plan_platform)
    http = _outside(cast, plan_platform)
    assert http.get("/api/v1/tasks/").status_code == 403
    assert http.get("/api/v1/staff/").status_code == 403
    created = http.post(
        "/api/v1/clients/",
        {"first_name": "Ana", "last_name": "Ruiz", "date_of_birth": "1980-01-02"},
        format="json",
    )
    assert created.status_code == 403
    assert http.get("/api/fhir/r4/Questionnaire").status_code == 200


def test_staff_tokens_read_as_before_without_logging_disclosures(cast: Cast) -> None:
    _, raw = api_token_create(user=cast.case_manager, name="My script")
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert http.get(f"/api/v1/clients/{cast.client.pk}/").status_code == 200
    assert not Disclosure.objects.exists()
