"""Registering a client: the duplicate check, double submits, and the ugly inputs."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from casework.clients.models import CareTeamMember, Client, Identifier, TimelineEvent
from casework.core.models import AuditEvent, User
from casework.testing.factories import ClientFactory
from casework.testing.personas import Cast

SignIn = Callable[[User], HttpClient]


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "legal_first_name": "Thandiwe",
        "legal_last_name": "Okonjo",
        "date_of_birth": "1981-04-09",
        "sex_for_billing": "F",
        "primary_language": "English",
        "submission_key": "key-" + str(overrides.pop("key", "1")),
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_case_manager_registers_a_client_and_becomes_primary(cast: Cast, http_as: SignIn) -> None:
    http = http_as(cast.case_manager)
    response = http.post("/clients/new/", form_data(providerone_id="123456789wa"))
    client = Client.objects.get(legal_last_name="Okonjo")
    assert response.status_code == 302 and response["Location"] == f"/clients/{client.pk}/"
    assert client.record_number.startswith("C-")
    assert client.identifiers.get().value == "123456789WA"
    assert CareTeamMember.objects.get(client=client).staff == cast.case_manager
    assert TimelineEvent.objects.filter(client=client, kind="registered").exists()
    assert AuditEvent.objects.filter(client_id=client.pk, action="create").exists()


@pytest.mark.django_db
def test_double_submitted_form_creates_one_client(cast: Cast, http_as: SignIn) -> None:
    http = http_as(cast.case_manager)
    first = http.post("/clients/new/", form_data(key="same"))
    second = http.post("/clients/new/", form_data(key="same"))
    assert Client.objects.filter(legal_last_name="Okonjo").count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.django_db
def test_possible_duplicate_is_shown_before_saving(cast: Cast, http_as: SignIn) -> None:
    ClientFactory(
        agency=cast.agency,
        legal_first_name="Thandiwe",
        legal_last_name="Okonjo",
        date_of_birth=datetime.date(1981, 4, 9),
    )
    http = http_as(cast.case_manager)
    response = http.post(
        "/clients/new/", form_data(legal_first_name="Thandiwe", legal_last_name="Okonjoo")
    )
    assert response.status_code == 200
    assert "may already have a record" in response.content.decode()
    assert Client.objects.filter(legal_first_name="Thandiwe").count() == 1
    confirmed = http.post(
        "/clients/new/", form_data(legal_last_name="Okonjoo", confirm_not_duplicate="on")
    )
    assert confirmed.status_code == 302
    assert Client.objects.filter(legal_first_name="Thandiwe").count() == 2


@pytest.mark.django_db
def test_duplicate_check_catches_swapped_first_and_last_name(cast: Cast, http_as: SignIn) -> None:
    ClientFactory(
        agency=cast.agency,
        legal_first_name="Thandiwe",
        legal_last_name="Okonjo",
        date_of_birth=datetime.date(1981, 4, 9),
    )
    response = http_as(cast.case_manager).post(
        "/clients/new/", form_data(legal_first_name="Okonjo", legal_last_name="Thandiwe")
    )
    assert "may already have a record" in response.content.decode()


@pytest.mark.django_db
def test_same_medicaid_id_is_a_duplicate_whatever_the_name(cast: Cast, http_as: SignIn) -> None:
    existing = ClientFactory(agency=cast.agency)
    Identifier.objects.create(
        agency=cast.agency, client=existing, kind="providerone", value="987654321WA"
    )
    response = http_as(cast.case_manager).post(
        "/clients/new/", form_data(providerone_id="987654321WA")
    )
    assert existing.record_number in response.content.decode()
    confirmed = http_as(cast.case_manager).post(
        "/clients/new/", form_data(providerone_id="987654321WA", confirm_not_duplicate="on")
    )
    assert "already belongs to record" in confirmed.content.decode()
    assert not Client.objects.filter(legal_last_name="Okonjo").exists()


@pytest.mark.django_db
def test_duplicates_in_another_agency_are_not_shown(cast: Cast, http_as: SignIn) -> None:
    ClientFactory(
        agency=cast.outsider_agency,
        legal_first_name="Thandiwe",
        legal_last_name="Okonjo",
        date_of_birth=datetime.date(1981, 4, 9),
    )
    response = http_as(cast.case_manager).post("/clients/new/", form_data())
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "2999-01-01", "date of birth is in the future"),
        ("date_of_birth", "1890-01-01", "more than 120 years ago"),
        ("date_of_birth", "31/31/1980", "Enter a valid date"),
        ("providerone_id", "12345678WA", "9 digits followed by WA"),
        ("providerone_id", "123456789OR", "9 digits followed by WA"),
        ("medicare_mbi", "1EG4-TE5-MK7", "11 characters"),
        ("legal_last_name", "x" * 101, "at most 100 characters"),
        ("legal_first_name", "", "This field is required"),
        ("state", "Washington", "at most 2 characters"),
    ],
)
def test_bad_input_gets_a_specific_message_and_keeps_what_was_typed(
    cast: Cast, http_as: SignIn, field: str, value: str, message: str
) -> None:
    response = http_as(cast.case_manager).post(
        "/clients/new/", form_data(**{field: value}, address_notes="kept text")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert "kept text" in body
    assert not Client.objects.filter(legal_last_name="Okonjo").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("Renée", "O'Brien"),
        ("Ana-María", "Núñez-García"),
        ("秀英", "王"),
        ("Лев", "Толстой"),
        ("D'Andre", "St. James"),
    ],
)
def test_names_with_apostrophes_accents_and_other_scripts_are_kept_and_searchable(
    cast: Cast, http_as: SignIn, first: str, last: str
) -> None:
    http = http_as(cast.case_manager)
    http.post("/clients/new/", form_data(legal_first_name=first, legal_last_name=last))
    client = Client.objects.get(legal_first_name=first)
    assert client.legal_last_name == last
    found = http.get("/clients/", {"q": last})
    assert f"/clients/{client.pk}/" in found.content.decode()


@pytest.mark.django_db
def test_html_and_sql_in_fields_are_stored_verbatim_and_shown_escaped(
    cast: Cast, http_as: SignIn
) -> None:
    http = http_as(cast.case_manager)
    nasty = "<script>alert(1)</script>"
    http.post(
        "/clients/new/",
        form_data(preferred_name=nasty, address_notes="'; DROP TABLE clients_client; --"),
    )
    client = Client.objects.get(preferred_name=nasty)
    assert client.address_notes == "'; DROP TABLE clients_client; --"
    chart = http.get(f"/clients/{client.pk}/").content.decode()
    assert nasty not in chart
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chart


@pytest.mark.django_db
def test_billing_and_auditors_cannot_register_clients(cast: Cast, http_as: SignIn) -> None:
    for user in (cast.billing, cast.auditor):
        assert http_as(user).post("/clients/new/", form_data()).status_code == 403
    assert not Client.objects.filter(legal_last_name="Okonjo").exists()


@pytest.mark.django_db
def test_record_numbers_are_sequential_per_agency(cast: Cast, http_as: SignIn) -> None:
    http = http_as(cast.case_manager)
    http.post("/clients/new/", form_data(key="a", legal_last_name="Alpha"))
    http.post("/clients/new/", form_data(key="b", legal_last_name="Beta"))
    numbers = list(
        Client.objects.filter(legal_last_name__in=["Alpha", "Beta"])
        .order_by("pk")
        .values_list("record_number", flat=True)
    )
    assert numbers == ["C-000001", "C-000002"]


@pytest.mark.django_db
def test_registration_is_audited_without_personal_details(cast: Cast, http_as: SignIn) -> None:
    http_as(cast.case_manager).post("/clients/new/", form_data())
    client = Client.objects.get(legal_last_name="Okonjo")
    event = AuditEvent.objects.get(
        client_id=client.pk, action="create", object_type="clients.client"
    )
    assert "Okonjo" not in event.detail and event.actor_id == cast.case_manager.pk
    assert event.occurred_at <= timezone.now()


@pytest.mark.django_db
def test_a_supervisor_must_name_the_primary_case_manager(cast: Cast, http_as: SignIn) -> None:
    http = http_as(cast.supervisor)
    refused = http.post("/clients/new/", form_data())
    assert "Choose the primary case manager" in refused.content.decode()
    assert not Client.objects.filter(legal_last_name="Okonjo").exists()
    done = http.post("/clients/new/", form_data(primary_case_manager=cast.case_manager.pk))
    client = Client.objects.get(legal_last_name="Okonjo")
    assert done["Location"] == f"/clients/{client.pk}/"


@pytest.mark.django_db
def test_a_client_registered_onto_another_teams_caseload_leads_back_to_the_list(
    cast: Cast, http_as: SignIn
) -> None:
    response = http_as(cast.case_manager).post(
        "/clients/new/", form_data(primary_case_manager=cast.other_team_cm.pk)
    )
    assert response["Location"] == "/clients/"
    assert Client.objects.get(legal_last_name="Okonjo").care_team.get().staff == cast.other_team_cm
