"""Calendar pages: my week and day, a team's week, a client's week; who sees them; what they cost."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.core.models import AuditEvent
from casework.schedule.tests._pages import at, book
from casework.testing.factories import ClientFactory, assign

pytestmark = pytest.mark.django_db


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def test_my_week_shows_each_appointment_in_local_time_with_what_a_visit_needs(cast, http_as):
    day = _monday(cast.agency.today()) + datetime.timedelta(days=2)
    book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=day,
        start="09:30",
        kind="transport",
        place_type="clinic",
        place="Harborview, 325 9th Ave",
        external_with="Dr. Lee",
        external_start_at=at(cast.case_manager, day, "10:00"),
    )
    page = http_as(cast.case_manager).get("/schedule/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "09:30" in body
    assert "Transport to a medical appointment" in body
    assert "María O&#x27;Connor-Núñez" in body
    assert "Clinic or hospital: Harborview, 325 9th Ave" in body
    assert "Dr. Lee at 10:00" in body
    assert re.search(r'class="cards\b', body)  # a card a day: one under the other on a phone
    assert body.count('class="card"') == 7


def test_day_view_and_the_links_to_move_through_the_calendar(cast, http_as):
    day = datetime.date(2026, 6, 10)
    book(staff=cast.case_manager, clients=[cast.client], day=day, start="14:00")
    book(staff=cast.case_manager, clients=[cast.client], day=day + datetime.timedelta(days=1))
    body = http_as(cast.case_manager).get("/schedule/?view=day&date=2026-06-10").content.decode()
    assert "14:00" in body and "10:00" not in body
    assert "?view=day&amp;date=2026-06-09" in body
    assert "?view=day&amp;date=2026-06-11" in body
    assert "Week view" in body
    week = http_as(cast.case_manager).get("/schedule/?view=week&date=2026-06-10").content.decode()
    assert "?view=week&amp;date=2026-06-01" in week and "?view=week&amp;date=2026-06-15" in week


def test_a_bad_date_shows_this_week_instead_of_failing(cast, http_as):
    assert http_as(cast.case_manager).get("/schedule/?date=2026-02-31").status_code == 200


def test_my_schedule_shows_only_my_appointments(cast, http_as):
    day = cast.agency.today()
    book(staff=cast.colleague, clients=[cast.client], day=day, start="08:15")
    body = http_as(cast.case_manager).get("/schedule/").content.decode()
    assert "08:15" not in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("case_manager", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("billing", 403),
        ("auditor", 403),
    ],
)
def test_who_keeps_a_schedule(cast, http_as, persona, status):
    assert http_as(getattr(cast, persona)).get("/schedule/").status_code == status


def test_the_week_view_audits_a_read_of_each_client_it_names(cast, http_as):
    day = cast.agency.today()
    second = ClientFactory(agency=cast.agency)
    assign(second, cast.case_manager)
    book(staff=cast.case_manager, clients=[cast.client, second], day=day, kind="group")
    http_as(cast.case_manager).get("/schedule/")
    reads = AuditEvent.objects.filter(
        actor_id=cast.case_manager.pk, action="view", detail__contains="schedule"
    )
    assert sorted(reads.values_list("client_id", flat=True)) == sorted([cast.client.pk, second.pk])


def test_a_group_names_only_the_clients_the_viewer_may_see(cast, http_as):
    day = cast.agency.today()
    book(staff=cast.case_manager, clients=[cast.client, cast.other_client], day=day, kind="group")
    body = http_as(cast.case_manager).get("/schedule/").content.decode()
    assert "O&#x27;Connor-Núñez" in body
    assert "Teamclient" not in body
    assert "and 1 other client" in body
    read = AuditEvent.objects.filter(actor_id=cast.case_manager.pk, action="view")
    assert cast.other_client.pk not in set(read.values_list("client_id", flat=True))


def _week_queries(http) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get("/schedule/?date=2026-06-10").status_code == 200
    return len(queries)


def test_the_week_takes_the_same_number_of_queries_for_one_or_fifteen_appointments(cast, http_as):
    monday = datetime.date(2026, 6, 8)
    book(staff=cast.case_manager, clients=[cast.client], day=monday)
    http = http_as(cast.case_manager)
    _week_queries(http)  # warm the session
    one = _week_queries(http)
    for n in range(14):
        client = ClientFactory(agency=cast.agency)
        assign(client, cast.case_manager)
        book(
            staff=cast.case_manager,
            clients=[client],
            day=monday + datetime.timedelta(days=n % 7),
            start=f"{8 + n // 7 * 3}:00",
            place="Somewhere",
        )
    assert _week_queries(http) == one


def test_the_team_week_takes_the_same_number_of_queries_for_one_or_fifteen(cast, http_as):
    monday = datetime.date(2026, 6, 8)
    book(staff=cast.case_manager, clients=[cast.client], day=monday)
    http = http_as(cast.supervisor)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(f"/schedule/team/{cast.team.pk}/?date=2026-06-08").status_code == 200
        return len(queries)

    count()
    one = count()
    for n in range(14):
        staff = cast.case_manager if n % 2 else cast.colleague
        book(staff=staff, clients=[cast.client], day=monday + datetime.timedelta(days=n % 7))
    assert count() == one


@pytest.mark.parametrize(
    ("sunday", "before", "after"),
    [
        (datetime.date(2026, 11, 1), datetime.date(2026, 10, 30), datetime.date(2026, 11, 1)),
        (datetime.date(2027, 3, 14), datetime.date(2027, 3, 12), datetime.date(2027, 3, 14)),
    ],
)
def test_a_daylight_saving_week_shows_ten_oclock_before_and_after_the_change(
    cast, http_as, sunday, before, after
):
    first = book(staff=cast.case_manager, clients=[cast.client], day=before)
    second = book(staff=cast.case_manager, clients=[cast.client], day=after)
    assert first.start_at.utcoffset() != second.start_at.utcoffset()
    body = http_as(cast.case_manager).get(f"/schedule/?date={sunday}").content.decode()
    assert body.count("</time>\N{EN DASH}11:00") == 2
    assert body.count(">10:00</time>") == 2
    assert "09:00" not in body and "11:00</time>" not in body


def test_a_supervisor_sees_the_team_a_row_for_each_member(cast, http_as):
    day = cast.agency.today()
    book(staff=cast.colleague, clients=[cast.client], day=day, start="13:45")
    body = http_as(cast.supervisor).get(f"/schedule/team/{cast.team.pk}/").content.decode()
    assert "responsive-table" in body
    for member in (cast.case_manager, cast.colleague, cast.supervisor):
        assert f'<th scope="row">{member.full_name}</th>' in body
    assert "13:45" in body and "O&#x27;Connor-Núñez" in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("supervisor", 200),
        ("admin", 200),
        ("case_manager", 403),
        ("colleague", 403),
        ("other_team_cm", 403),
        ("outsider_admin", 404),
        ("outsider_cm", 404),
        ("auditor", 403),
    ],
)
def test_who_sees_a_team_schedule(cast, http_as, persona, status):
    book(staff=cast.colleague, clients=[cast.client], day=cast.agency.today())
    response = http_as(getattr(cast, persona)).get(f"/schedule/team/{cast.team.pk}/")
    assert response.status_code == status
    assert "O&#x27;Connor-Núñez" not in response.content.decode() or status == 200


def test_a_supervisor_of_another_team_is_refused(cast, http_as):
    assert http_as(cast.supervisor).get(f"/schedule/team/{cast.other_team.pk}/").status_code == 403


def test_the_client_schedule_shows_everyone_s_appointments_with_the_client(cast, http_as):
    day = cast.agency.today()
    book(staff=cast.colleague, clients=[cast.client], day=day, start="15:10")
    book(staff=cast.case_manager, clients=[cast.other_client], day=day, start="16:20")
    page = http_as(cast.case_manager).get(f"/schedule/client/{cast.client.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "15:10" in body and f"With {cast.colleague.full_name}" in body
    assert "16:20" not in body
    assert f"/schedule/new/?client={cast.client.pk}" in body


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
def test_who_sees_a_client_schedule(cast, http_as, persona, status):
    book(staff=cast.case_manager, clients=[cast.client], day=cast.agency.today())
    response = http_as(getattr(cast, persona)).get(f"/schedule/client/{cast.client.pk}/")
    assert response.status_code == status
    if status != 200:
        assert "O&#x27;Connor-Núñez" not in response.content.decode()


def test_the_navigation_has_a_schedule_link_for_those_who_keep_one(cast, http_as):
    assert 'href="/schedule/"' in http_as(cast.case_manager).get("/").content.decode()
    assert 'href="/schedule/"' not in http_as(cast.auditor).get("/").content.decode()


def test_opening_the_client_schedule_is_a_chart_read_even_when_empty(cast, http_as):
    http_as(cast.colleague).get(f"/schedule/client/{cast.client.pk}/")
    reads = AuditEvent.objects.filter(
        actor_id=cast.colleague.pk, action="view", client_id=cast.client.pk
    )
    assert reads.count() == 1


def test_the_chart_card_lists_the_next_appointments_and_the_last_missed_one(cast):
    from django.template.loader import render_to_string
    from django.utils import timezone

    today = cast.agency.today()
    upcoming = book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=today + datetime.timedelta(days=1),
        start="09:00",
        minutes=180,
        kind="transport",
        external_with="Dr. Lee",
        external_start_at=at(cast.case_manager, today + datetime.timedelta(days=1), "10:15"),
    )
    missed = book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=today - datetime.timedelta(days=3),
        status="no_show",
    )
    with timezone.override(cast.agency.tzinfo):
        html = render_to_string(
            "schedule/_card.html",
            {
                "client": cast.client,
                "upcoming_appointments": [upcoming],
                "last_missed_appointment": missed,
                "may_write_notes": True,
            },
        )
    assert f'href="/schedule/{upcoming.pk}/"' in html and "09:00" in html
    assert "Dr. Lee at 10:15" in html
    assert f'href="/schedule/{missed.pk}/"' in html and "no-show" in html
    assert f'href="/schedule/new/?client={cast.client.pk}"' in html
    assert f'href="/schedule/client/{cast.client.pk}/"' in html
    empty = render_to_string(
        "schedule/_card.html",
        {"client": cast.client, "upcoming_appointments": [], "last_missed_appointment": None},
    )
    assert "No appointments booked." in empty and "New appointment" not in empty
