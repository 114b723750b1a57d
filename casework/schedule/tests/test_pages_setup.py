"""Set-up pages: cars and rooms, holidays (agency admins); the calendar feed for a phone."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient

from casework.core.models import AuditEvent
from casework.schedule.models import CalendarFeed, Holiday, Resource
from casework.schedule.tests._pages import book

pytestmark = pytest.mark.django_db


def test_an_admin_adds_renames_and_retires_a_car(cast, http_as):
    http = http_as(cast.admin)
    settings_page = http.get("/staff/agency/").content.decode()
    assert 'href="/schedule/resources/"' in settings_page
    assert 'href="/schedule/holidays/"' in settings_page
    assert (
        http.post("/schedule/resources/", {"kind": "vehicle", "name": "Blue Corolla"}).status_code
        == 302
    )
    car = Resource.objects.get(agency=cast.agency)
    assert "Blue Corolla" in http.get("/schedule/resources/").content.decode()
    saved = http.post(f"/schedule/resources/{car.pk}/", {"kind": "vehicle", "name": "Blue Prius"})
    assert saved.status_code == 302
    car.refresh_from_db()
    assert (car.name, car.is_active) == ("Blue Prius", False)


def test_a_duplicate_name_is_refused_and_the_form_keeps_it(cast, http_as):
    Resource.objects.create(agency=cast.agency, kind="room", name="Room 2")
    response = http_as(cast.admin).post("/schedule/resources/", {"kind": "room", "name": "room 2"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "already a car or room called" in body and 'value="room 2"' in body


def test_an_admin_adds_and_removes_a_holiday(cast, http_as):
    http = http_as(cast.admin)
    day = cast.agency.today() + datetime.timedelta(days=20)
    response = http.post("/schedule/holidays/", {"day": day.isoformat(), "name": "Founders' Day"})
    assert response.status_code == 302
    holiday = Holiday.objects.get(agency=cast.agency)
    assert "Founders&#x27; Day" in http.get("/schedule/holidays/").content.decode()
    assert http.post(f"/schedule/holidays/{holiday.pk}/delete/").status_code == 302
    assert not Holiday.objects.exists()


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "billing", "auditor"])
def test_only_admins_set_up_cars_rooms_and_holidays(cast, http_as, persona):
    http = http_as(getattr(cast, persona))
    assert http.get("/schedule/resources/").status_code == 403
    assert http.post("/schedule/holidays/", {"day": "2027-01-01", "name": "X"}).status_code == 403
    assert not Holiday.objects.exists()


def test_another_agency_s_admin_cannot_touch_our_car_or_holiday(cast, http_as):
    car = Resource.objects.create(agency=cast.agency, kind="vehicle", name="Van")
    holiday = Holiday.objects.create(agency=cast.agency, day=datetime.date(2027, 1, 1), name="NY")
    http = http_as(cast.outsider_admin)
    assert http.get(f"/schedule/resources/{car.pk}/").status_code == 404
    assert http.post(f"/schedule/holidays/{holiday.pk}/delete/").status_code == 404
    assert "Van" not in http.get("/schedule/resources/").content.decode()
    assert Holiday.objects.filter(pk=holiday.pk).exists()


# ---------------------------------------------------------------------------- feed


def _make_feed(http) -> str:
    page = http.post("/schedule/feed/", {"action": "make"}).content.decode()
    start = page.index('id="feed-address" readonly value="') + len(
        'id="feed-address" readonly value="'
    )
    return page[start : page.index('"', start)]


def test_the_feed_page_explains_and_makes_an_address_shown_once(cast, http_as):
    http = http_as(cast.case_manager)
    page = http.get("/schedule/feed/").content.decode()
    assert "Make my feed address" in page and "initials" in page
    address = _make_feed(http)
    assert address.startswith("http://testserver/schedule/feed/") and address.endswith(".ics")
    assert CalendarFeed.objects.filter(user=cast.case_manager, revoked_at__isnull=True).count() == 1
    again = http.get("/schedule/feed/").content.decode()
    assert address not in again
    assert "Turn off" in again


def test_the_feed_is_a_calendar_with_initials_and_no_surname_or_address(cast, http_as):
    cast.client.address_line1 = "12 Juniper Street"
    cast.client.save()
    book(
        staff=cast.case_manager,
        clients=[cast.client],
        day=cast.agency.today() + datetime.timedelta(days=1),
        place="12 Juniper Street",
    )
    address = _make_feed(http_as(cast.case_manager))
    path = address.removeprefix("http://testserver")
    before = AuditEvent.objects.count()
    response = HttpClient().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VCALENDAR" in body and "BEGIN:VEVENT" in body
    assert "Home visit \N{EN DASH} M.O." in body
    assert "O'Connor" not in body and "Núñez" not in body and "Juniper" not in body
    assert AuditEvent.objects.count() == before  # the feed writes nothing


def test_the_feed_stops_after_it_is_turned_off(cast, http_as):
    http = http_as(cast.case_manager)
    path = _make_feed(http).removeprefix("http://testserver")
    assert http.post("/schedule/feed/", {"action": "revoke"}).status_code == 302
    assert HttpClient().get(path).status_code == 404
    assert "You have no feed" in http.get("/schedule/feed/").content.decode()


def test_the_feed_stops_when_the_staff_member_leaves(cast, http_as):
    path = _make_feed(http_as(cast.case_manager)).removeprefix("http://testserver")
    cast.case_manager.is_active = False
    cast.case_manager.save()
    assert HttpClient().get(path).status_code == 404


def test_a_made_up_token_is_not_found(cast):
    assert HttpClient().get("/schedule/feed/not-a-real-token.ics").status_code == 404


def test_the_feed_page_says_when_the_agency_turned_feeds_off(cast, http_as):
    cast.agency.calendar_feeds_enabled = False
    cast.agency.save()
    http = http_as(cast.case_manager)
    assert "turned calendar feeds off" in http.get("/schedule/feed/").content.decode()
    http.post("/schedule/feed/", {"action": "make"})
    assert not CalendarFeed.objects.exists()


def test_a_post_without_an_action_changes_nothing(cast, http_as):
    http_as(cast.case_manager).post("/schedule/feed/")
    assert not CalendarFeed.objects.exists()
