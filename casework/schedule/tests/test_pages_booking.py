"""Booking pages: a new appointment, clashes, double submits, changes, outcomes."""

from __future__ import annotations

import datetime

import pytest

from casework.core.models import AuditEvent
from casework.schedule.models import Appointment, Resource, Series
from casework.schedule.tests._pages import at, book, form_data
from casework.worklist.models import Task

pytestmark = pytest.mark.django_db


def _next(weekday: int, today: datetime.date) -> datetime.date:
    """The next given weekday (0 = Monday) at least two days away: a working day in the future."""
    day = today + datetime.timedelta(days=2)
    return day + datetime.timedelta(days=(weekday - day.weekday()) % 7)


def test_the_new_appointment_form_starts_from_the_client_and_date(cast, http_as):
    page = http_as(cast.case_manager).get(f"/schedule/new/?client={cast.client.pk}&date=2027-01-12")
    body = page.content.decode()
    assert page.status_code == 200
    assert f'value="{cast.client.pk}"' in body and "checked" in body
    assert 'value="2027-01-12"' in body
    assert 'name="submission_key"' in body
    assert '<label for="id_start_time">' in body


def test_another_team_s_client_cannot_be_put_in_the_form(cast, http_as):
    page = http_as(cast.case_manager).get(f"/schedule/new/?client={cast.other_client.pk}")
    assert page.status_code == 404


def test_a_case_manager_books_a_visit_with_travel(cast, http_as):
    day = _next(1, cast.agency.today())
    http = http_as(cast.case_manager)
    response = http.post(
        "/schedule/new/",
        form_data(
            staff=cast.case_manager,
            clients=[cast.client],
            day=day,
            kind="transport",
            place_type="clinic",
            place="Harborview",
            start_time="09:00",
            end_time="12:00",
            external_with="Dr. Lee",
            external_start_time="10:00",
            external_end_time="10:30",
            leg1_purpose="to_client",
            leg1_miles="4.2",
            leg2_purpose="to_appointment",
            leg2_miles="6",
        ),
    )
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/schedule/{appointment.pk}/"
    assert appointment.start_at == at(cast.case_manager, day, "09:00")
    assert appointment.external_start_at == at(cast.case_manager, day, "10:00")
    assert list(appointment.clients.all()) == [cast.client]
    detail = http.get(response["Location"]).content.decode()
    assert "Dr. Lee at 10:00" in detail
    assert "<strong>10.2</strong>" in detail
    assert "Attended" in detail and "No-show" in detail and "Cancelled by client" in detail


def test_a_mistake_keeps_what_was_typed(cast, http_as):
    day = _next(1, cast.agency.today())
    response = http_as(cast.case_manager).post(
        "/schedule/new/",
        form_data(
            staff=cast.case_manager,
            clients=[cast.client],
            day=day,
            start_time="11:00",
            end_time="10:00",
            purpose="Bring the lease papers",
            leg1_purpose="errand",
            leg1_miles="3.5",
        ),
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "The end time must be after the start time." in body
    assert 'value="Bring the lease papers"' in body
    assert 'value="3.5"' in body
    assert not Appointment.objects.exists()


def test_a_clash_is_listed_and_the_form_keeps_its_input_until_saved_anyway(cast, http_as):
    day = _next(2, cast.agency.today())
    book(staff=cast.case_manager, clients=[cast.client], day=day, start="10:30")
    http = http_as(cast.case_manager)
    data = form_data(
        staff=cast.case_manager, clients=[cast.client], day=day, purpose="Pharmacy run"
    )
    response = http.post("/schedule/new/", data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "clashes with 1 other appointment" in body
    assert "already has a home visit" in body
    assert 'value="Pharmacy run"' in body
    assert 'name="confirm_conflicts"' in body and "Save anyway" in body
    assert Appointment.objects.count() == 1
    saved = http.post("/schedule/new/", data | {"confirm_conflicts": "on"})
    assert saved.status_code == 302
    assert Appointment.objects.count() == 2


def test_a_double_submit_makes_one_appointment(cast, http_as):
    http = http_as(cast.case_manager)
    data = form_data(
        staff=cast.case_manager, clients=[cast.client], day=_next(3, cast.agency.today())
    )
    first = http.post("/schedule/new/", data)
    second = http.post("/schedule/new/", data)
    assert Appointment.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_warnings_are_shown_but_do_not_stop_the_booking(cast, http_as):
    day = _next(3, cast.agency.today())
    cast.client.address_line1 = ""
    cast.client.address_notes = ""
    cast.client.save()
    response = http_as(cast.case_manager).post(
        "/schedule/new/",
        form_data(staff=cast.case_manager, clients=[cast.client], day=day),
        follow=True,
    )
    body = response.content.decode()
    assert Appointment.objects.count() == 1
    assert "has no address on file" in body
    assert "Worth checking" in body  # on the appointment page, too


def test_a_weekly_visit_makes_a_series(cast, http_as):
    day = _next(1, cast.agency.today())
    response = http_as(cast.case_manager).post(
        "/schedule/new/",
        form_data(
            staff=cast.case_manager,
            clients=[cast.client],
            day=day,
            repeat="weekly",
            ends="count",
            count="4",
        ),
    )
    assert response.status_code == 302
    series = Series.objects.get()
    assert "FREQ=WEEKLY" in series.rule and "COUNT=4" in series.rule
    starts = [a.start_at for a in Appointment.objects.order_by("start_at")]
    assert len(starts) == 4
    assert all(s.astimezone(cast.agency.tzinfo).hour == 10 for s in starts)
    detail = http_as(cast.case_manager).get(response["Location"]).content.decode()
    assert "Part of a series" in detail


def test_a_repeat_that_ends_on_a_date_needs_the_date(cast, http_as):
    response = http_as(cast.case_manager).post(
        "/schedule/new/",
        form_data(
            staff=cast.case_manager,
            clients=[cast.client],
            day=_next(1, cast.agency.today()),
            repeat="biweekly",
            ends="until",
        ),
    )
    assert response.status_code == 400
    assert "Give the date of the last one." in response.content.decode()


def test_a_case_manager_cannot_book_for_a_colleague_but_a_supervisor_can(cast, http_as):
    day = _next(4, cast.agency.today())
    data = form_data(staff=cast.colleague, clients=[cast.client], day=day)
    refused = http_as(cast.case_manager).post("/schedule/new/", data)
    assert refused.status_code == 400
    assert not Appointment.objects.exists()
    booked = http_as(cast.supervisor).post("/schedule/new/", data | {"submission_key": "sup"})
    assert booked.status_code == 302
    assert Appointment.objects.get().staff == cast.colleague


def test_a_booked_car_cannot_be_booked_twice_without_saying_so(cast, http_as):
    car = Resource.objects.create(agency=cast.agency, kind="vehicle", name="Blue Corolla")
    day = _next(2, cast.agency.today())
    book(staff=cast.colleague, clients=[cast.client], day=day, resource=car)
    response = http_as(cast.case_manager).post(
        "/schedule/new/",
        form_data(staff=cast.case_manager, clients=[cast.client], day=day, resource=car.pk),
    )
    assert response.status_code == 400
    assert "Blue Corolla is booked" in response.content.decode()


# ---------------------------------------------------------------------------- one appointment


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("case_manager", 200),
        ("colleague", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("other_team_cm", 404),
        ("outsider_admin", 404),
        ("outsider_cm", 404),
        ("billing", 403),
        ("auditor", 403),
    ],
)
def test_who_sees_an_appointment(cast, http_as, persona, status):
    appointment = book(staff=cast.case_manager, clients=[cast.client], day=cast.agency.today())
    response = http_as(getattr(cast, persona)).get(f"/schedule/{appointment.pk}/")
    assert response.status_code == status
    if status != 200:
        assert "O&#x27;Connor-Núñez" not in response.content.decode()


def test_opening_an_appointment_is_a_chart_read(cast, http_as):
    appointment = book(staff=cast.case_manager, clients=[cast.client], day=cast.agency.today())
    http_as(cast.supervisor).get(f"/schedule/{appointment.pk}/")
    assert AuditEvent.objects.filter(
        actor_id=cast.supervisor.pk, action="view", client_id=cast.client.pk
    ).exists()


def test_attended_leads_to_writing_the_note(cast, http_as):
    appointment = book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=cast.agency.today() - datetime.timedelta(days=1),
    )
    http = http_as(cast.case_manager)
    response = http.post(f"/schedule/{appointment.pk}/outcome/", {"status": "attended"})
    assert response.status_code == 302
    body = http.get(response["Location"]).content.decode()
    assert f'href="/notes/new/{cast.client.pk}/?appointment={appointment.pk}"' in body
    assert "Write the note" in body
    appointment.refresh_from_db()
    assert appointment.status == "attended"


def test_a_no_show_makes_one_follow_up_task_and_shows_it(cast, http_as):
    appointment = book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=cast.agency.today() - datetime.timedelta(days=1),
    )
    http = http_as(cast.case_manager)
    http.post(f"/schedule/{appointment.pk}/outcome/", {"status": "no_show"})
    http.post(f"/schedule/{appointment.pk}/outcome/", {"status": "no_show"})
    task = Task.objects.get(appointment=appointment)
    assert task.kind == "follow_up" and task.assignee == cast.case_manager
    body = http.get(f"/schedule/{appointment.pk}/").content.decode()
    assert task.title in body.replace("&#x27;", "'")
    assert "Note made" in body


def test_cancelled_by_the_client_keeps_the_reason(cast, http_as):
    appointment = book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=cast.agency.today() + datetime.timedelta(days=2),
    )
    http = http_as(cast.case_manager)
    http.post(
        f"/schedule/{appointment.pk}/outcome/",
        {"status": "cancelled", "cancelled_by": "client", "reason": "Feeling unwell"},
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by) == ("cancelled", "client")
    body = http.get(f"/schedule/{appointment.pk}/").content.decode()
    assert "Cancelled by the client" in body and "Feeling unwell" in body


def test_an_outcome_without_saying_what_is_refused_kindly(cast, http_as):
    appointment = book(staff=cast.case_manager, clients=[cast.client], day=cast.agency.today())
    response = http_as(cast.case_manager).post(
        f"/schedule/{appointment.pk}/outcome/", {"status": "cancelled"}, follow=True
    )
    assert "Choose what happened" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"


def test_another_team_cannot_record_an_outcome(cast, http_as):
    appointment = book(staff=cast.case_manager, clients=[cast.client], day=cast.agency.today())
    response = http_as(cast.other_team_cm).post(
        f"/schedule/{appointment.pk}/outcome/", {"status": "no_show"}
    )
    assert response.status_code == 404
    assert not Task.objects.exists()


def _edit_data(appointment: Appointment, cast, **overrides):
    day = appointment.start_at.astimezone(cast.agency.tzinfo).date()
    data = form_data(staff=appointment.staff, clients=list(appointment.clients.all()), day=day)
    del data["submission_key"]
    return data | {"version": appointment.version} | overrides


def test_changing_an_appointment(cast, http_as):
    appointment = book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=_next(1, cast.agency.today()),
        purpose="Check in",
    )
    http = http_as(cast.case_manager)
    page = http.get(f"/schedule/{appointment.pk}/edit/").content.decode()
    assert 'value="10:00"' in page and 'value="Check in"' in page
    assert 'name="scope"' not in page  # not part of a series
    response = http.post(
        f"/schedule/{appointment.pk}/edit/",
        _edit_data(appointment, cast, start_time="13:00", end_time="14:00"),
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start_at.astimezone(cast.agency.tzinfo).hour == 13


def test_a_stale_change_says_so_and_keeps_what_was_typed(cast, http_as):
    appointment = book(
        staff=cast.case_manager, clients=[cast.client], day=_next(1, cast.agency.today())
    )
    data = _edit_data(appointment, cast, purpose="My words", start_time="15:00", end_time="16:00")
    Appointment.objects.filter(pk=appointment.pk).update(version=appointment.version + 1)
    http = http_as(cast.case_manager)
    response = http.post(f"/schedule/{appointment.pk}/edit/", data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Someone changed this appointment after you opened it" in body
    assert 'value="My words"' in body and 'value="15:00"' in body
    assert f'name="version" value="{appointment.version + 1}"' in body
    again = http.post(
        f"/schedule/{appointment.pk}/edit/", data | {"version": appointment.version + 1}
    )
    assert again.status_code == 302


def test_this_and_following_changes_the_rest_of_a_series(cast, http_as):
    http = http_as(cast.case_manager)
    day = _next(1, cast.agency.today())
    http.post(
        "/schedule/new/",
        form_data(
            staff=cast.case_manager,
            clients=[cast.client],
            day=day,
            repeat="weekly",
            ends="count",
            count="4",
        ),
    )
    third = Appointment.objects.order_by("start_at")[2]
    page = http.get(f"/schedule/{third.pk}/edit/").content.decode()
    assert 'name="scope"' in page
    response = http.post(
        f"/schedule/{third.pk}/edit/",
        _edit_data(third, cast, start_time="14:00", end_time="15:00", scope="following"),
    )
    assert response.status_code == 302
    hours = [
        a.start_at.astimezone(cast.agency.tzinfo).hour
        for a in Appointment.objects.filter(status="scheduled").order_by("start_at")
    ]
    assert hours == [10, 10, 14, 14]


def test_another_team_cannot_open_the_change_form(cast, http_as):
    appointment = book(staff=cast.case_manager, clients=[cast.client], day=cast.agency.today())
    response = http_as(cast.other_team_cm).get(f"/schedule/{appointment.pk}/edit/")
    assert response.status_code == 404
