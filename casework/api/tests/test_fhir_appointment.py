"""FHIR R4 Appointment: a client's appointments parsed back with the fhir.resources R4B model
(round-trip validation), each status mapped, participants and UTC times, nothing beyond the
kind in the description, the same scoping and audit as the other FHIR reads, constant queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from rest_framework.test import APIClient

from casework.clients.models import Client
from casework.core.models import AuditEvent, User
from casework.schedule.models import Appointment, AppointmentClient
from casework.testing.factories import ClientFactory, assign
from casework.testing.personas import Cast

ApiAs = Callable[[User | None], APIClient]
BASE = "/api/fhir/r4"
FHIR_JSON = "application/fhir+json"
SECRET_PURPOSE = "Methadone clinic intake"
SECRET_PLACE = "Harbor Detox, 12 Pier St"


def booked(
    cast: Cast,
    *clients: Client,
    staff: User | None = None,
    start: datetime.datetime | None = None,
    minutes: int = 90,
    **extra: Any,
) -> Appointment:
    staff = staff or cast.case_manager
    start = start or datetime.datetime(2026, 11, 16, 17, 30, tzinfo=datetime.UTC)
    appointment = Appointment.objects.create(
        agency=cast.agency,
        kind=extra.pop("kind", "transport"),
        staff=staff,
        start_at=start,
        end_at=start + datetime.timedelta(minutes=minutes),
        place_type="clinic",
        place=SECRET_PLACE,
        purpose=SECRET_PURPOSE,
        external_with="Dr. Lee, psychiatry",
        outcome_reason="Was in hospital",
        created_by=staff,
        **extra,
    )
    for client in clients or (cast.client,):
        AppointmentClient.objects.create(agency=cast.agency, appointment=appointment, client=client)
    return appointment


def fhir_get(http: APIClient, path: str, **params: Any) -> Any:
    response = http.get(f"{BASE}/{path}", params)
    assert response["Content-Type"] == FHIR_JSON, (path, response.status_code)
    return response


def read(http: APIClient, appointment: Appointment | int | str) -> FhirAppointment:
    pk = appointment.pk if isinstance(appointment, Appointment) else appointment
    response = fhir_get(http, f"Appointment/{pk}")
    assert response.status_code == 200, response.content
    return FhirAppointment.model_validate_json(response.content)


def search(http: APIClient, patient: Any) -> list[FhirAppointment]:
    response = fhir_get(http, "Appointment", patient=patient)
    assert response.status_code == 200, response.content
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.type == "searchset"
    assert bundle.total == len(bundle.entry or [])
    found = []
    for entry in bundle.entry or []:
        assert entry.fullUrl.endswith(f"/Appointment/{entry.resource.id}")
        found.append(FhirAppointment.model_validate(entry.resource.model_dump()))
    return found


def actors(resource: FhirAppointment) -> list[str]:
    return [p.actor.reference for p in resource.participant]


def chart_reads(user: User) -> list[tuple[int | None, str]]:
    return [
        (e.client_id, e.detail)
        for e in AuditEvent.objects.filter(actor_id=user.pk, action="view").order_by("seq")
    ]


# --- the resource ------------------------------------------------------------------------------


def test_an_appointment_reads_back_as_a_valid_r4b_appointment(cast: Cast, api_as: ApiAs) -> None:
    appointment = booked(cast)
    resource = read(api_as(cast.case_manager), appointment)
    assert resource.id == str(appointment.pk)
    assert resource.status == "booked"
    assert resource.start.isoformat() == "2026-11-16T17:30:00+00:00"
    assert resource.end.isoformat() == "2026-11-16T19:00:00+00:00"
    assert resource.minutesDuration == 90
    assert resource.appointmentType.text == "Transport to a medical appointment"
    assert [s.text for s in resource.serviceType] == ["Transport to a medical appointment"]
    assert resource.description == "Transport to a medical appointment"
    assert actors(resource) == [
        f"Patient/{cast.client.pk}",
        f"Practitioner/{cast.case_manager.pk}",
    ]
    assert all(p.status == "accepted" for p in resource.participant)
    assert resource.participant[1].actor.display == cast.case_manager.full_name
    assert resource.cancelationReason is None


def test_times_are_written_in_utc(cast: Cast, api_as: ApiAs) -> None:
    appointment = booked(cast)
    body = fhir_get(api_as(cast.case_manager), f"Appointment/{appointment.pk}").json()
    assert body["start"] == "2026-11-16T17:30:00Z"
    assert body["end"] == "2026-11-16T19:00:00Z"


def test_nothing_beyond_the_kind_is_published(cast: Cast, api_as: ApiAs) -> None:
    appointment = booked(cast, status="cancelled", cancelled_by="client")
    text = fhir_get(api_as(cast.case_manager), f"Appointment/{appointment.pk}").content.decode()
    for secret in (
        SECRET_PURPOSE,
        SECRET_PLACE,
        "Dr. Lee",
        "hospital",
        cast.client.legal_last_name,
    ):
        assert secret not in text


@pytest.mark.parametrize(
    ("status", "cancelled_by", "fhir_status", "reason"),
    [
        ("scheduled", "", "booked", None),
        ("attended", "", "fulfilled", None),
        ("no_show", "", "noshow", None),
        ("cancelled", "client", "cancelled", "Cancelled by the client"),
        ("cancelled", "staff", "cancelled", "Cancelled by the agency"),
    ],
)
def test_each_status_is_mapped(
    cast: Cast,
    api_as: ApiAs,
    status: str,
    cancelled_by: str,
    fhir_status: str,
    reason: str | None,
) -> None:
    appointment = booked(cast, status=status, cancelled_by=cancelled_by)
    resource = read(api_as(cast.case_manager), appointment)
    assert resource.status == fhir_status
    assert (resource.cancelationReason.text if resource.cancelationReason else None) == reason


def test_a_group_names_only_the_clients_the_reader_may_see(cast: Cast, api_as: ApiAs) -> None:
    mine = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    assign(mine, cast.case_manager)
    group = booked(cast, cast.client, mine, cast.other_client, kind="group")
    resource = read(api_as(cast.case_manager), group)
    assert actors(resource) == [
        f"Patient/{cast.client.pk}",
        f"Patient/{mine.pk}",
        f"Practitioner/{cast.case_manager.pk}",
    ]
    south = read(api_as(cast.other_team_cm), group)
    assert actors(south) == [
        f"Patient/{cast.other_client.pk}",
        f"Practitioner/{cast.case_manager.pk}",
    ]


# --- search ------------------------------------------------------------------------------------


def test_search_by_patient_answers_every_appointment_of_the_client_earliest_first(
    cast: Cast, api_as: ApiAs
) -> None:
    later = booked(cast, start=datetime.datetime(2026, 12, 1, 18, tzinfo=datetime.UTC))
    earlier = booked(cast, staff=cast.colleague)
    booked(cast, cast.other_client, staff=cast.other_team_cm)
    http = api_as(cast.case_manager)
    for patient in (cast.client.pk, f"Patient/{cast.client.pk}"):
        found = search(http, patient)
        assert [r.id for r in found] == [str(earlier.pk), str(later.pk)]
    assert f"Practitioner/{cast.colleague.pk}" in actors(search(http, cast.client.pk)[0])


def test_a_client_without_appointments_answers_an_empty_bundle(cast: Cast, api_as: ApiAs) -> None:
    assert search(api_as(cast.case_manager), cast.client.pk) == []


@pytest.mark.parametrize("patient", ["", "abc", "1.5", "Patient/"])
def test_search_needs_a_patient_id(cast: Cast, api_as: ApiAs, patient: str) -> None:
    response = fhir_get(api_as(cast.case_manager), "Appointment", patient=patient)
    assert response.status_code == 400
    assert OperationOutcome.model_validate_json(response.content).issue[0].code == "invalid"


# --- scoping -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["other_team_cm", "outsider_cm", "outsider_admin"])
def test_outsiders_find_nothing(cast: Cast, api_as: ApiAs, persona: str) -> None:
    appointment = booked(cast)
    http = api_as(getattr(cast, persona))
    assert fhir_get(http, f"Appointment/{appointment.pk}").status_code == 404
    response = fhir_get(http, "Appointment", patient=cast.client.pk)
    assert response.status_code == 404
    assert OperationOutcome.model_validate_json(response.content).issue[0].code == "not-found"
    assert chart_reads(getattr(cast, persona)) == []


def test_an_appointment_without_a_client_is_not_published(cast: Cast, api_as: ApiAs) -> None:
    meeting = Appointment.objects.create(
        agency=cast.agency,
        kind="provider_meeting",
        staff=cast.case_manager,
        start_at=datetime.datetime(2026, 11, 16, 17, tzinfo=datetime.UTC),
        end_at=datetime.datetime(2026, 11, 16, 18, tzinfo=datetime.UTC),
        place_type="office",
        created_by=cast.case_manager,
    )
    assert fhir_get(api_as(cast.case_manager), f"Appointment/{meeting.pk}").status_code == 404


@pytest.mark.parametrize("persona", ["auditor", "billing"])
def test_roles_without_clinical_records_get_403(cast: Cast, api_as: ApiAs, persona: str) -> None:
    appointment = booked(cast)
    http = api_as(getattr(cast, persona))
    assert fhir_get(http, f"Appointment/{appointment.pk}").status_code == 403
    assert fhir_get(http, "Appointment", patient=cast.client.pk).status_code == 403


def test_anonymous_gets_401(cast: Cast, api_as: ApiAs) -> None:
    appointment = booked(cast)
    assert fhir_get(api_as(None), f"Appointment/{appointment.pk}").status_code == 401


@pytest.mark.parametrize("pk", ["abc", "1.5", "99999999999999999999", "0"])
def test_a_malformed_or_unknown_id_is_a_404_outcome(cast: Cast, api_as: ApiAs, pk: str) -> None:
    response = fhir_get(api_as(cast.case_manager), f"Appointment/{pk}")
    assert response.status_code == 404


def test_an_admin_reads_any_appointment_of_the_agency(cast: Cast, api_as: ApiAs) -> None:
    appointment = booked(cast, cast.other_client, staff=cast.other_team_cm)
    assert read(api_as(cast.admin), appointment).status == "booked"


# --- audit and cost ----------------------------------------------------------------------------


def test_reads_are_recorded_as_chart_reads(cast: Cast, api_as: ApiAs) -> None:
    mine = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    assign(mine, cast.case_manager)
    group = booked(cast, cast.client, mine, kind="group")
    http = api_as(cast.case_manager)
    search(http, cast.client.pk)
    reads = chart_reads(cast.case_manager)
    assert [client_id for client_id, _ in reads] == [cast.client.pk, mine.pk]
    assert all("fhir Appointment" in detail for _, detail in reads)
    read(http, group)
    assert sorted(c for c, _ in chart_reads(cast.case_manager)[2:]) == sorted(
        [cast.client.pk, mine.pk]
    )


def test_a_search_costs_the_same_number_of_queries_for_many_appointments(
    cast: Cast, api_as: ApiAs
) -> None:
    http = api_as(cast.case_manager)
    booked(cast)
    search(http, cast.client.pk)  # warm up: the token's first use
    with CaptureQueriesContext(connection) as one:
        search(http, cast.client.pk)
    for day in range(2, 8):
        start = datetime.datetime(2026, 11, day, 18, tzinfo=datetime.UTC)
        booked(cast, staff=cast.colleague if day % 2 else cast.case_manager, start=start)
    with CaptureQueriesContext(connection) as seven:
        assert len(search(http, cast.client.pk)) == 7
    assert len(seven) == len(one)


def test_the_service_base_names_appointment(cast: Cast, api_as: ApiAs) -> None:
    response = fhir_get(api_as(cast.case_manager), "")
    assert "Appointment" in response.json()["issue"][0]["diagnostics"]
