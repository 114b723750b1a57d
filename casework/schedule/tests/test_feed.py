"""The phone calendar feed: minimal details, a token that can be revoked, nothing after leaving."""

from __future__ import annotations

import datetime

import pytest
from icalendar import Calendar

from casework.core.models import AuditEvent
from casework.schedule import outcomes, services_setup
from casework.schedule.feeds import feed_calendar, initials
from casework.schedule.models import Appointment, CalendarFeed
from casework.schedule.services import ScheduleError
from casework.testing.schedule import appointment_for, days_from_today

pytestmark = pytest.mark.django_db


def events(body: bytes | None) -> list:
    assert body is not None
    return list(Calendar.from_ical(body).walk("VEVENT"))


def test_the_token_is_shown_once_and_only_its_hash_is_kept(cast):
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    feed = CalendarFeed.objects.get()
    assert feed.token_hash == services_setup.token_hash(token) and token not in feed.token_hash
    assert len(feed.token_hash) == 64
    assert token not in AuditEvent.objects.get(object_type="schedule.calendarfeed").detail


def test_a_new_token_revokes_the_old_one(cast):
    old = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    new = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    assert feed_calendar(token=old) is None
    assert feed_calendar(token=new) is not None
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 1


def test_a_revoked_or_unknown_token_gives_nothing(cast):
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    assert services_setup.feed_revoke(user=cast.case_manager, by=cast.case_manager) == 1
    assert feed_calendar(token=token) is None
    assert feed_calendar(token="not-a-token") is None
    assert feed_calendar(token="") is None


def test_the_feed_of_a_deactivated_staff_member_stops_working(cast):
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    appointment_for(cast)
    assert feed_calendar(token=token) is not None
    cast.case_manager.is_active = False
    cast.case_manager.save(update_fields=["is_active"])
    assert feed_calendar(token=token) is None


def test_the_feed_stops_when_the_agency_turns_feeds_off(cast):
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    cast.agency.calendar_feeds_enabled = False
    cast.agency.save(update_fields=["calendar_feeds_enabled"])
    assert feed_calendar(token=token) is None
    with pytest.raises(ScheduleError, match="turned calendar feeds off"):
        services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)


def test_the_feed_shows_initials_and_the_kind_of_place_never_names_or_addresses(cast):
    appointment = appointment_for(cast, place="12 Elm St", purpose="Talk about the eviction")
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    body = feed_calendar(token=token)
    [event] = events(body)
    assert str(event["SUMMARY"]) == "Home visit \u2013 M.O."
    assert str(event["LOCATION"]) == "Client's home"
    assert "DESCRIPTION" not in event
    assert event["UID"] == f"appointment-{appointment.pk}-{cast.agency.pk}@casework"
    assert event.decoded("DTSTART") == appointment.start_at
    assert event.decoded("DTSTART").utcoffset() == datetime.timedelta(0)
    text = body.decode()
    for secret in ("María", "Connor", "Elm", "eviction"):
        assert secret not in text
    assert "DTSTART:" in text and "Z\r\n" in text  # UTC times
    assert events(feed_calendar(token=token))[0]["UID"] == event["UID"]  # stable


def test_a_cancelled_appointment_is_cancelled_in_the_feed(cast):
    appointment = appointment_for(cast)
    outcomes.appointment_outcome(
        appointment=appointment, by=cast.case_manager, status="cancelled", cancelled_by="staff"
    )
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    [event] = events(feed_calendar(token=token))
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_feed_is_only_the_owners_appointments_from_30_days_back(cast):
    mine = appointment_for(cast)
    old = appointment_for(cast, start=days_from_today(cast.agency, -40))
    appointment_for(cast, by=cast.supervisor, staff=cast.colleague)
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    uids = {str(e["UID"]) for e in events(feed_calendar(token=token))}
    assert uids == {f"appointment-{mine.pk}-{cast.agency.pk}@casework"}
    assert Appointment.objects.filter(pk=old.pk).exists()


def test_a_feed_is_made_by_its_owner_or_an_admin_only(cast):
    with pytest.raises(ScheduleError):
        services_setup.feed_create(user=cast.case_manager, by=cast.colleague)
    with pytest.raises(ScheduleError):
        services_setup.feed_create(user=cast.case_manager, by=cast.outsider_admin)
    with pytest.raises(ScheduleError):
        services_setup.feed_revoke(user=cast.case_manager, by=cast.supervisor)
    assert services_setup.feed_create(user=cast.case_manager, by=cast.admin)


def test_the_feed_is_a_constant_number_of_queries(cast, django_assert_num_queries):
    start = days_from_today(cast.agency, 1)
    appointment_for(cast, start=start, rule="FREQ=DAILY;COUNT=10")
    token = services_setup.feed_create(user=cast.case_manager, by=cast.case_manager)
    with django_assert_num_queries(3):  # feed with user and agency, appointments, clients
        assert len(events(feed_calendar(token=token))) == 10


def test_initials_use_the_name_people_use(cast):
    cast.client.preferred_name = "jo"
    assert initials(cast.client) == "J.O."
