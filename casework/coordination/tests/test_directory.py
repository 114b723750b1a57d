"""The directory as staff use it: search by name, service, language and whether a place takes
referrals; add organisations and people; supervisors and admins correct and retire entries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casework.coordination.models import Organization, OrganizationService, Person, ServiceType
from casework.core.models import AuditEvent, User
from casework.testing.coordination import OrganizationFactory, PersonFactory, offers
from casework.testing.personas import Cast

HttpAs = Callable[[User], HttpClient]

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [org.name for org in response.context["page"].object_list]


@pytest.fixture
def places(cast: Cast) -> dict[str, Organization]:
    pantry = OrganizationFactory(
        agency=cast.agency, name="Harbor Food Bank", languages="English, Spanish"
    )
    offers(pantry, ServiceType.FOOD)
    clinic = OrganizationFactory(
        agency=cast.agency,
        name="Riverside Psychiatry",
        languages="English, Vietnamese",
        accepting_referrals=False,
    )
    offers(clinic, ServiceType.PSYCHIATRY, ServiceType.SUD_TREATMENT)
    closed = OrganizationFactory(agency=cast.agency, name="Old Harbor Shelter", is_active=False)
    offers(closed, ServiceType.SHELTER)
    OrganizationFactory(agency=cast.outsider_agency, name="Harbor Clinic Elsewhere")
    return {"pantry": pantry, "clinic": clinic, "closed": closed}


def test_search_finds_by_name_service_language_and_referrals_within_the_agency(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    url = reverse("directory_search")
    assert _names(http.get(url, {"q": "harbor"})) == ["Harbor Food Bank"]
    assert _names(http.get(url, {"q": "harbor", "inactive": "on"})) == [
        "Harbor Food Bank",
        "Old Harbor Shelter",
    ]
    assert _names(http.get(url, {"service_type": "sud_treatment"})) == ["Riverside Psychiatry"]
    assert _names(http.get(url, {"language": "spanish"})) == ["Harbor Food Bank"]
    assert _names(http.get(url, {"accepting": "on"})) == ["Harbor Food Bank"]
    assert _names(http.get(url, {"language": "vietnamese", "accepting": "on"})) == []


def test_an_htmx_search_returns_only_the_results(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    response = http_as(cast.case_manager).get(
        reverse("directory_search"), {"q": "food"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "Harbor Food Bank" in body
    assert "<html" not in body
    assert "data-search-summary" in body


def test_people_are_found_by_name_with_their_organisation(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    PersonFactory(agency=cast.agency, name="Dr. Avery Lin", organization=places["clinic"])
    PersonFactory(agency=cast.outsider_agency, name="Dr. Avery Elsewhere")
    response = http_as(cast.case_manager).get(reverse("directory_search"), {"q": "avery"})
    assert [p.name for p in response.context["people"]] == ["Dr. Avery Lin"]
    assert "Riverside Psychiatry" in response.content.decode()


def _queries(http: HttpClient, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries.captured_queries)


def test_the_search_runs_the_same_number_of_queries_for_3_or_30_organisations(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    http.get(reverse("home"))  # the first request after sign-in also writes the session
    url = reverse("directory_search") + "?q=clinic&service_type=psychiatry&accepting=on"

    def add(count: int) -> None:
        for _ in range(count):
            org = OrganizationFactory(agency=cast.agency)
            offers(org, ServiceType.PSYCHIATRY, ServiceType.PHARMACY)
            PersonFactory(agency=cast.agency, organization=org, name="Clinic nurse")

    add(3)
    http.get(url)
    few = _queries(http, url)
    add(27)
    assert _queries(http, url) == few
    assert http.get(url).context["page"].paginator.count == 30


def test_a_case_manager_adds_an_organisation_with_its_services_once_however_often_sent(
    cast: Cast, http_as: HttpAs
) -> None:
    http = http_as(cast.case_manager)
    data = {
        "name": "  Tacoma   Housing Authority ",
        "service_types": ["housing", "benefits"],
        "address": "902 S L St, Tacoma",
        "website": "www.tacomahousing.example",
        "accepting_referrals": "on",
        "submission_key": "org-1",
    }
    first = http.post(reverse("directory_organization_new"), data)
    second = http.post(reverse("directory_organization_new"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    org = Organization.objects.get(agency=cast.agency)
    assert org.name == "Tacoma Housing Authority"
    assert org.website == "https://www.tacomahousing.example"
    assert sorted(org.services.values_list("service_type", flat=True)) == ["benefits", "housing"]
    assert AuditEvent.objects.filter(object_type="coordination.organization").count() == 1


def test_a_bad_organisation_form_keeps_what_was_typed_and_says_what_is_wrong(
    cast: Cast, http_as: HttpAs
) -> None:
    response = http_as(cast.case_manager).post(
        reverse("directory_organization_new"),
        {"name": "", "email": "not-an-email", "hours": "Mon-Fri", "service_types": ["food"]},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Give the organisation&#x27;s name." in body or "Give the organisation's name." in body
    assert "Enter an email address" in body
    assert 'value="Mon-Fri"' in body
    assert not Organization.objects.exists()


def test_the_same_name_and_address_is_not_added_twice(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    pantry = places["pantry"]
    response = http_as(cast.case_manager).post(
        reverse("directory_organization_new"),
        {"name": pantry.name.upper(), "address": pantry.address},
    )
    assert response.status_code == 200
    assert "already has" in response.content.decode()
    assert Organization.objects.filter(name__iexact=pantry.name).count() == 1


def test_a_case_manager_cannot_edit_deactivate_or_import_but_a_supervisor_can(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    pantry = places["pantry"]
    person = PersonFactory(agency=cast.agency, organization=pantry)
    urls = [
        reverse("directory_organization_edit", args=[pantry.pk]),
        reverse("directory_person_edit", args=[person.pk]),
        reverse("directory_import"),
        reverse("directory_import_sample"),
    ]
    http = http_as(cast.case_manager)
    for url in urls:
        assert http.get(url).status_code == 403, url
    assert http.post(reverse("directory_organization_active", args=[pantry.pk])).status_code == 403
    assert http.post(reverse("directory_person_active", args=[person.pk])).status_code == 403

    http = http_as(cast.supervisor)
    for url in urls:
        assert http.get(url).status_code == 200, url
    edit = http.get(urls[0])
    data = {**edit.context["form"].initial, "name": "Harbor Community Food Bank"}
    data["service_types"] = ["food", "transport"]
    data["accepting_referrals"] = "on"
    data = {k: v for k, v in data.items() if v not in (None, False)}
    assert http.post(urls[0], data).status_code == 302
    pantry.refresh_from_db()
    assert pantry.name == "Harbor Community Food Bank"
    assert set(pantry.services.values_list("service_type", flat=True)) == {"food", "transport"}
    http.post(reverse("directory_organization_active", args=[pantry.pk]), {"active": "0"})
    pantry.refresh_from_db()
    assert not pantry.is_active


def test_an_edit_made_on_a_stale_page_is_refused_and_what_was_typed_is_kept(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    pantry = places["pantry"]
    http = http_as(cast.supervisor)
    url = reverse("directory_organization_edit", args=[pantry.pk])
    opened = dict(http.get(url).context["form"].initial)
    Organization.objects.filter(pk=pantry.pk).update(hours="changed by someone")
    pantry.refresh_from_db()
    Organization.objects.get(pk=pantry.pk).save()  # moves updated_at on
    data = {**opened, "hours": "Mon-Sat", "service_types": ["food"], "accepting_referrals": "on"}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    response = http.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone changed this entry" in body
    assert 'value="Mon-Sat"' in body
    assert Organization.objects.get(pk=pantry.pk).hours == "changed by someone"


def test_a_person_is_added_at_an_organisation_and_listed_on_its_page(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    clinic = places["clinic"]
    http = http_as(cast.case_manager)
    response = http.post(
        reverse("directory_person_new"),
        {
            "name": "Dr. Mai Tran",
            "role": "psychiatrist",
            "organization": clinic.pk,
            "phone": "253-555-0190",
            "submission_key": "p-1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("directory_organization", args=[clinic.pk])
    page = http.get(response["Location"])
    assert [p.name for p in page.context["people"]] == ["Dr. Mai Tran"]
    assert Person.objects.get().agency_id == cast.agency.pk


def test_another_agencys_entries_are_404_and_other_roles_are_refused(
    cast: Cast, places: dict[str, Organization], http_as: HttpAs
) -> None:
    theirs = OrganizationFactory(agency=cast.outsider_agency)
    their_person = PersonFactory(agency=cast.outsider_agency)
    http = http_as(cast.case_manager)
    assert http.get(reverse("directory_organization", args=[theirs.pk])).status_code == 404
    http = http_as(cast.outsider_admin)
    assert (
        http.get(reverse("directory_organization", args=[places["pantry"].pk])).status_code == 404
    )
    assert (
        http.get(reverse("directory_organization_edit", args=[places["pantry"].pk])).status_code
        == 404
    )
    assert http.get(reverse("directory_person_edit", args=[their_person.pk])).status_code == 200
    assert http_as(cast.auditor).get(reverse("directory_search")).status_code == 403
    assert OrganizationService.objects.filter(organization=theirs).count() == 0
