"""A note started from an appointment: its day, block of time, contact, place and miles."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from casework.notes.models import Note
from casework.notes.services import NoteError, NoteStart, note_create, note_start_from_appointment
from casework.schedule.models import Appointment, AppointmentClient, TravelLeg
from casework.testing.billing import local
from casework.testing.factories import ClientFactory, assign

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 16)


def appointment(
    cast,
    *,
    kind: str = "home_visit",
    place: str = "client_home",
    status: str = "attended",
    client=None,
    legs: tuple[str, ...] = (),
) -> Appointment:
    start = local(DAY, 9, 30, agency=cast.agency)
    made = Appointment.objects.create(
        agency=cast.agency,
        kind=kind,
        staff=cast.case_manager,
        start_at=start,
        end_at=start + datetime.timedelta(minutes=75),
        place_type=place,
        status=status,
        created_by=cast.case_manager,
    )
    client = client or cast.client
    AppointmentClient.objects.create(agency=client.agency, appointment=made, client=client)
    for position, miles in enumerate(legs):
        TravelLeg.objects.create(
            agency=cast.agency,
            appointment=made,
            position=position,
            purpose="to_client",
            miles=Decimal(miles),
        )
    return made


def test_the_start_has_the_appointments_day_time_place_and_miles(cast):
    visit = appointment(cast, legs=("12.5", "3.0"))
    start = note_start_from_appointment(
        appointment=visit, client=cast.client, author=cast.case_manager
    )
    assert start.service_date == DAY
    assert (start.start_at, start.end_at) == (visit.start_at, visit.end_at)
    assert (start.contact_type, start.place_of_service, start.present) == (
        "face_to_face",
        "12",
        "Client",
    )
    assert start.mileage == Decimal("15.5")
    assert start.appointment_id == visit.pk


@pytest.mark.parametrize(
    ("kind", "place", "contact", "pos"),
    [
        ("phone_video", "remote", "phone", ""),
        ("office", "office", "face_to_face", "11"),
        ("transport", "clinic", "face_to_face", "22"),
        ("errand", "community", "face_to_face", "99"),
    ],
)
def test_contact_and_place_follow_the_appointment(cast, kind, place, contact, pos):
    start = note_start_from_appointment(
        appointment=appointment(cast, kind=kind, place=place),
        client=cast.client,
        author=cast.case_manager,
    )
    assert (start.contact_type, start.place_of_service) == (contact, pos)
    assert start.mileage is None  # no travel legs recorded


def test_a_no_show_starts_a_no_show_note(cast):
    start = note_start_from_appointment(
        appointment=appointment(cast, status="no_show"),
        client=cast.client,
        author=cast.case_manager,
    )
    assert start.contact_type == "no_show"


def test_the_page_link_shows_a_button_and_creates_nothing(cast, http_as):
    visit = appointment(cast)
    response = http_as(cast.case_manager).get(
        f"/notes/new/{cast.client.pk}/?appointment={visit.pk}"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Write the note" in body and f'name="appointment" value="{visit.pk}"' in body
    assert "Mon 11/16/2026, 09:30 to 10:45" in body
    assert not Note.objects.exists()


def test_a_get_without_an_appointment_is_not_allowed(cast, http_as):
    response = http_as(cast.case_manager).get(f"/notes/new/{cast.client.pk}/")
    assert response.status_code == 405
    assert not Note.objects.exists()


@pytest.mark.parametrize("where", ["body", "query"])
def test_posting_makes_a_draft_from_the_appointment(cast, http_as, where):
    visit = appointment(cast, legs=("7.2",))
    url = f"/notes/new/{cast.client.pk}/"
    http = http_as(cast.case_manager)
    if where == "body":
        response = http.post(url, {"appointment": visit.pk})
    else:
        response = http.post(f"{url}?appointment={visit.pk}")
    note = Note.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/notes/{note.pk}/edit/"
    assert note.appointment == visit and note.mileage == Decimal("7.2")
    assert (note.service_date, note.start_at, note.end_at) == (DAY, visit.start_at, visit.end_at)
    assert note.place_of_service == "12" and note.present == "Client"


def test_a_second_note_for_the_same_appointment_opens_the_first(cast, http_as):
    visit = appointment(cast)
    http = http_as(cast.case_manager)
    url = f"/notes/new/{cast.client.pk}/"
    first = http.post(url, {"appointment": visit.pk, "submission_key": "a"})
    second = http.post(url, {"appointment": visit.pk, "submission_key": "b"})
    assert first["Location"] == second["Location"]
    assert Note.objects.count() == 1


def test_each_client_of_a_group_gets_their_own_note(cast, http_as):
    visit = appointment(cast, kind="group", place="office")
    second = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    AppointmentClient.objects.create(agency=cast.agency, appointment=visit, client=second)
    assign(second, cast.case_manager)
    http = http_as(cast.case_manager)
    http.post(f"/notes/new/{cast.client.pk}/", {"appointment": visit.pk})
    http.post(f"/notes/new/{second.pk}/", {"appointment": visit.pk})
    assert sorted(Note.objects.values_list("client_id", flat=True)) == sorted(
        [cast.client.pk, second.pk]
    )


def test_an_appointment_without_the_client_is_a_404(cast, http_as):
    other = appointment(cast, client=cast.other_client)
    http = http_as(cast.case_manager)
    url = f"/notes/new/{cast.client.pk}/?appointment={other.pk}"
    assert http.get(url).status_code == 404
    assert http.post(url).status_code == 404
    assert not Note.objects.exists()


@pytest.mark.parametrize("value", ["abc", "99999999", "-1", "1.0"])
def test_a_bad_appointment_id_is_a_404(cast, http_as, value):
    response = http_as(cast.case_manager).post(
        f"/notes/new/{cast.client.pk}/", {"appointment": value}
    )
    assert response.status_code == 404
    assert not Note.objects.exists()


@pytest.mark.parametrize("who", ["other_team_cm", "outsider_cm"])
def test_someone_who_may_not_see_the_client_gets_a_404(cast, http_as, who):
    visit = appointment(cast)
    http = http_as(getattr(cast, who))
    url = f"/notes/new/{cast.client.pk}/?appointment={visit.pk}"
    assert http.get(url).status_code == 404
    assert http.post(url).status_code == 404
    assert not Note.objects.exists()


def test_billing_may_not_start_notes(cast, http_as):
    visit = appointment(cast)
    url = f"/notes/new/{cast.client.pk}/?appointment={visit.pk}"
    assert http_as(cast.billing).get(url).status_code == 403


def test_the_service_refuses_an_appointment_the_client_was_not_at(cast):
    other = appointment(cast, client=cast.other_client)
    with pytest.raises(NoteError):
        note_create(
            client=cast.client,
            author=cast.case_manager,
            start=NoteStart(service_date=DAY, appointment_id=other.pk),
        )
    assert not Note.objects.exists()
