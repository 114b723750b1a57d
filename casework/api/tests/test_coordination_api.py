"""Care coordination through the API and FHIR: directory, releases, referrals, communications,
documents; each FHIR resource parsed back with the fhir.resources R4B models."""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.communication import Communication as FhirCommunication
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.servicerequest import ServiceRequest
from pypdf import PdfReader
from rest_framework.test import APIClient

from casework.api.services import api_token_create
from casework.coordination.models import (
    Category,
    Communication,
    Disclosure,
    Organization,
    Person,
    Referral,
    ServiceType,
)
from casework.core.models import User
from casework.testing.coordination import (
    TINY_PDF,
    OrganizationFactory,
    PersonFactory,
    document,
    offers,
    release,
)
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast

ApiAs = Callable[[User | None], APIClient]
FHIR = "/api/fhir/r4"


def _fhir(http: APIClient, path: str, **params: Any) -> Any:
    return http.get(f"{FHIR}/{path}", params, HTTP_ACCEPT="application/fhir+json")


@pytest.fixture
def clinic(cast: Cast) -> Organization:
    org = OrganizationFactory(agency=cast.agency, name="Riverside Psychiatry", fax="253-555-0199")
    offers(org, ServiceType.PSYCHIATRY, ServiceType.PHARMACY)
    return org


def _referral(cast: Cast, clinic: Organization, **fields: Any) -> Referral:
    values: dict[str, Any] = {
        "agency": cast.agency,
        "client": cast.client,
        "organization": clinic,
        "reason": "Medication review after discharge",
        "created_by": cast.case_manager,
        "status": Referral.Status.SENT,
        "sent_at": timezone.now(),
    }
    values.update(fields)
    return Referral.objects.create(**values)


def _call(cast: Cast, clinic: Organization, person: Person | None = None) -> Communication:
    return Communication.objects.create(
        agency=cast.agency,
        client=cast.client,
        organization=clinic,
        person=person,
        occurred_at=timezone.now() - datetime.timedelta(hours=1),
        channel=Communication.Channel.CALL,
        with_role=Person.Role.PSYCHIATRIST,
        summary="Asked about the new dose — “twice daily”.",
        outcome="Refill sent to the pharmacy",
        staff=cast.case_manager,
    )


def test_the_directory_is_searched_by_name_service_and_referrals_and_stays_in_the_agency(
    cast: Cast, clinic: Organization, api_as: ApiAs
) -> None:
    pantry = OrganizationFactory(
        agency=cast.agency, name="Hilltop Pantry", accepting_referrals=False
    )
    offers(pantry, ServiceType.FOOD)
    OrganizationFactory(agency=cast.outsider_agency, name="Riverside Elsewhere")
    http = api_as(cast.case_manager)
    names = lambda **q: [o["name"] for o in http.get("/api/v1/organizations/", q).json()["results"]]  # noqa: E731
    assert names(q="river") == ["Riverside Psychiatry"]
    assert names(service_type="food") == ["Hilltop Pantry"]
    assert names(accepting_referrals="true") == ["Riverside Psychiatry"]
    body = http.get(f"/api/v1/organizations/{clinic.pk}/").json()
    assert body["service_types"] == ["pharmacy", "psychiatry"]
    assert http.get("/api/v1/organizations/", {"accepting_referrals": ""}).status_code == 400


def test_the_directory_list_runs_the_same_queries_for_2_and_12_organisations(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    http.get("/api/v1/organizations/")
    for _n in range(2):
        offers(OrganizationFactory(agency=cast.agency), ServiceType.HOUSING)
    with CaptureQueriesContext(connection) as few:
        http.get("/api/v1/organizations/")
    for _n in range(10):
        offers(OrganizationFactory(agency=cast.agency), ServiceType.HOUSING, ServiceType.FOOD)
    with CaptureQueriesContext(connection) as many:
        assert len(http.get("/api/v1/organizations/").json()["results"]) == 12
    assert len(many) == len(few)


def test_releases_referrals_communications_and_documents_of_a_visible_client_are_listed(
    cast: Cast, clinic: Organization, api_as: ApiAs
) -> None:
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    referral = _referral(cast, clinic)
    call = _call(cast, clinic)
    doc = document(client=cast.client, by=cast.case_manager, name="Überweisung \u2013 診断書.pdf")
    http = api_as(cast.case_manager)
    q = {"client": cast.client.pk}
    released = http.get("/api/v1/consents/", q).json()["results"]
    assert [(r["id"], r["in_force"], r["recipient"]) for r in released] == [
        (consent.pk, True, "Riverside Psychiatry")
    ]
    assert [r["id"] for r in http.get("/api/v1/referrals/", q).json()["results"]] == [referral.pk]
    assert http.get("/api/v1/communications/", q).json()["results"][0]["who"] == (
        "Riverside Psychiatry"
    )
    assert call.pk
    listed = http.get("/api/v1/documents/", q).json()["results"]
    assert listed[0]["name"] == "Überweisung \u2013 診断書.pdf"
    content = http.get(f"/api/v1/documents/{doc.pk}/content/")
    assert content.status_code == 200
    assert b"".join(content.streaming_content) == TINY_PDF
    assert "filename*=utf-8''%C3%9Cberweisung" in content["Content-Disposition"]
    assert content["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("who", ["outsider_cm", "other_team_cm", "outsider_admin"])
def test_people_who_may_not_see_the_client_get_404_on_each_record(
    cast: Cast, clinic: Organization, api_as: ApiAs, who: str
) -> None:
    consent = release(client=cast.client, by=cast.case_manager, organization=clinic)
    referral = _referral(cast, clinic)
    call = _call(cast, clinic)
    doc = document(client=cast.client, by=cast.case_manager)
    http = api_as(getattr(cast, who))
    for path in (
        f"/api/v1/consents/{consent.pk}/",
        f"/api/v1/referrals/{referral.pk}/",
        f"/api/v1/communications/{call.pk}/",
        f"/api/v1/documents/{doc.pk}/",
        f"/api/v1/documents/{doc.pk}/content/",
    ):
        assert http.get(path).status_code == 404, path
    assert http.get("/api/v1/consents/").json()["results"] == []
    for path in (
        f"Consent/{consent.pk}",
        f"ServiceRequest/{referral.pk}",
        f"Communication/{call.pk}",
    ):
        assert _fhir(http, path).status_code == 404, path
    assert _fhir(http, "Consent", patient=cast.client.pk).status_code == 404


def test_an_outside_system_gets_a_part2_document_only_under_a_part2_consent(
    cast: Cast, clinic: Organization
) -> None:
    doc = document(client=cast.client, by=cast.case_manager, part2=True)
    release(client=cast.client, by=cast.case_manager, organization=clinic)
    _, raw = api_token_create(user=cast.admin, name="Clinic EHR", organization=clinic)
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    refused = http.get(f"/api/v1/documents/{doc.pk}/content/")
    assert refused.status_code == 403
    assert "Part 2" in refused.json()["detail"]
    assert not Disclosure.objects.exists()
    release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        categories=(Category.SUBSTANCE_USE,),
    )
    content = http.get(f"/api/v1/documents/{doc.pk}/content/")
    assert content.status_code == 200
    assert Disclosure.objects.get().part2
    first_page = PdfReader(io.BytesIO(b"".join(content.streaming_content))).pages[0]
    assert "42 CFR part 2" in " ".join((first_page.extract_text() or "").split())


def test_fhir_consent_carries_recipient_purpose_categories_period_and_status(
    cast: Cast, clinic: Organization, api_as: ApiAs
) -> None:
    today = cast.agency.today()
    in_force = release(client=cast.client, by=cast.case_manager, organization=clinic)
    part2 = release(
        client=cast.client,
        by=cast.case_manager,
        organization=clinic,
        categories=(Category.SUBSTANCE_USE,),
        starts_on=today - datetime.timedelta(days=400),
        expires_on=today - datetime.timedelta(days=35),
    )
    http = api_as(cast.case_manager)
    resource = FhirConsent.model_validate(_fhir(http, f"Consent/{in_force.pk}").json())
    assert resource.status == "active"
    assert resource.patient.reference == f"Patient/{cast.client.pk}"
    provision = resource.provision
    assert provision.actor[0].reference.reference == f"Organization/{clinic.pk}"
    assert provision.purpose[0].code == "TREAT"
    assert {c.coding[0].code for c in provision.code} == set(in_force.categories)
    expired = FhirConsent.model_validate(_fhir(http, f"Consent/{part2.pk}").json())
    assert expired.status == "inactive"
    assert "part-2" in expired.policy[0].uri
    bundle = Bundle.model_validate(_fhir(http, "Consent", patient=cast.client.pk).json())
    assert bundle.total == 2


def test_fhir_service_request_communication_and_organization_validate(
    cast: Cast, clinic: Organization, api_as: ApiAs
) -> None:
    referral = _referral(
        cast,
        clinic,
        urgency=Referral.Urgency.URGENT,
        status=Referral.Status.DECLINED,
        outcome="Full",
    )
    doctor = PersonFactory(agency=cast.agency, organization=clinic, name="Dr. Avery Lin")
    call = _call(cast, clinic, person=doctor)
    http = api_as(cast.case_manager)
    request = ServiceRequest.model_validate(_fhir(http, f"ServiceRequest/{referral.pk}").json())
    assert (request.status, request.priority, request.intent) == ("revoked", "asap", "order")
    assert request.performer[0].reference == f"Organization/{clinic.pk}"
    assert request.note[0].text == "Full"
    message = FhirCommunication.model_validate(_fhir(http, f"Communication/{call.pk}").json())
    assert message.medium[0].coding[0].code == "PHONE"
    assert message.recipient[0].display == "Dr. Avery Lin, Riverside Psychiatry"
    assert message.payload[0].contentString == "Asked about the new dose — “twice daily”."
    org = FhirOrganization.model_validate(_fhir(http, f"Organization/{clinic.pk}").json())
    assert org.name == "Riverside Psychiatry"
    assert {t.value for t in org.telecom} == {"253-555-0100", "253-555-0199"}
    found = Bundle.model_validate(_fhir(http, "Organization", name="river").json())
    assert found.total == 1
    assert _fhir(http, "Organization/abc").status_code == 404
    assert _fhir(http, f"ServiceRequest/{referral.pk + 1000}").status_code == 404


def _call_body(cast: Cast, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": cast.client.pk,
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=20)).isoformat(),
        "channel": "call",
        "direction": "incoming",
        "with_name": "Rosa Díaz",
        "with_role": "family",
        "minutes": 12,
        "summary": "Her sister called: he has not picked up his medication since Friday.",
    }
    body.update(fields)
    return body


def test_a_contact_is_logged_through_the_api_once_per_idempotency_key(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    first = http.post(
        "/api/v1/communications/", _call_body(cast), format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert first.status_code == 201, first.json()
    again = http.post(
        "/api/v1/communications/", _call_body(cast), format="json", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    logged = Communication.objects.get()
    assert (logged.who, logged.with_role, logged.minutes) == ("Rosa Díaz", "family", 12)
    colleague_client = ClientFactory(agency=cast.agency)
    assign(colleague_client, cast.case_manager)
    reused = http.post(
        "/api/v1/communications/",
        _call_body(cast, client_id=colleague_client.pk),
        format="json",
        HTTP_IDEMPOTENCY_KEY="c-1",
    )
    assert reused.status_code == 409
    assert reused.json()["field"] == "Idempotency-Key"
    assert logged.staff == cast.case_manager


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"with_name": "", "with_role": "other"}, "with_name"),
        ({"summary": "   "}, "summary"),
        ({"occurred_at": "2099-01-01T10:00:00-08:00"}, "occurred_at"),
        ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
        ({"channel": "pigeon"}, "channel"),
        ({"minutes": 0}, "minutes"),
    ],
)
def test_a_contact_the_rules_refuse_names_the_field_and_logs_nothing(
    cast: Cast, api_as: ApiAs, fields: dict[str, Any], field: str
) -> None:
    response = api_as(cast.case_manager).post(
        "/api/v1/communications/", _call_body(cast, **fields), format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body.get("field") == field or field in body, body
    assert not Communication.objects.exists()


def test_a_contact_about_someone_elses_client_or_another_agencys_directory_is_refused(
    cast: Cast, api_as: ApiAs
) -> None:
    elsewhere = OrganizationFactory(agency=cast.outsider_agency)
    http = api_as(cast.case_manager)
    other = http.post(
        "/api/v1/communications/",
        _call_body(cast, client_id=cast.outsider_client.pk),
        format="json",
    )
    assert "client_id" in other.json()
    foreign = http.post(
        "/api/v1/communications/",
        _call_body(cast, organization_id=elsewhere.pk, with_name=""),
        format="json",
    )
    assert "organization_id" in foreign.json()
    assert (
        api_as(cast.billing)
        .post("/api/v1/communications/", _call_body(cast), format="json")
        .status_code
        == 403
    )
    assert not Communication.objects.exists()
