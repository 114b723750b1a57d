"""Booking and changing appointments: checks, warnings, conflicts, series, scope of reads."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from django.http import Http404

from casework.clients.models import Client
from casework.core.audit import Action
from casework.core.models import AuditEvent, Role
from casework.schedule import outcomes, selectors, services
from casework.schedule.models import (
    Appointment,
    AppointmentClient,
    AppointmentKind,
    Holiday,
    Series,
    TravelLeg,
)
from casework.schedule.recurrence import HORIZON_DAYS, MAX_OCCURRENCES
from casework.schedule.services import ScheduleConflict, ScheduleError
from casework.schedule.tasks import extend_series
from casework.testing.factories import ClientFactory, UserFactory, assign
from casework.testing.schedule import (
    appointment_for,
    appointment_input,
    days_from_today,
    input_of,
    local,
    vehicle,
)

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def refused(cast, field: str | None = None, by=None, **changes) -> ScheduleError:
    data = appointment_input(cast, **changes)
    with pytest.raises(ScheduleError) as error:
        services.appointment_create(data=data, by=by or cast.case_manager)
    if field is not None:
        assert error.value.field == field, str(error.value)
    assert not Appointment.objects.exists()
    return error.value


# ---- Booking one appointment ---------------------------------------------------------------


def test_booking_saves_clients_legs_and_an_audit_entry_without_phi(cast):
    data = appointment_input(
        cast, purpose="  Pick up   groceries ", legs=[("to_client", "4.25"), ("return", 6)]
    )
    appointment = services.appointment_create(data=data, by=cast.case_manager)
    assert list(appointment.clients.all()) == [cast.client]
    assert appointment.purpose == "Pick up groceries"
    assert [(leg.purpose, leg.miles) for leg in appointment.legs.all()] == [
        ("to_client", Decimal("4.3")),
        ("return", Decimal("6.0")),
    ]
    event = AuditEvent.objects.get(object_type="schedule.appointment", action=Action.CREATE)
    assert event.client_id == cast.client.pk
    assert "Connor" not in event.detail and "Elm" not in event.detail
    assert json.loads(event.detail) == {"kind": "home_visit", "legs": 2}


def test_an_end_before_the_start_is_refused(cast):
    error = refused(cast, "end_at", minutes=-30)
    assert "end must be after the start" in str(error)
    refused(cast, "end_at", minutes=0)


def test_an_appointment_longer_than_24_hours_is_refused(cast):
    error = refused(cast, "end_at", minutes=24 * 60 + 1)
    assert "24 hours" in str(error)


def test_exactly_24_hours_is_allowed(cast):
    appointment_for(cast, minutes=24 * 60)


def test_the_clients_appointment_must_lie_inside_the_staff_block(cast):
    start = days_from_today(cast.agency, 1)
    refused(
        cast,
        "external_start_at",
        kind=AppointmentKind.TRANSPORT,
        external_start_at=start - HOUR,
        external_end_at=start,
    )
    refused(
        cast,
        "external_end_at",
        kind=AppointmentKind.TRANSPORT,
        minutes=120,
        external_start_at=start + HOUR,
        external_end_at=start + 3 * HOUR,
    )
    refused(
        cast,
        "external_end_at",
        kind=AppointmentKind.TRANSPORT,
        minutes=120,
        external_start_at=start + HOUR,
        external_end_at=start + HOUR,
    )
    refused(
        cast,
        "external_start_at",
        kind=AppointmentKind.TRANSPORT,
        external_end_at=start + HOUR,
    )


def test_a_drive_to_the_doctor_keeps_the_clients_own_appointment(cast):
    start = days_from_today(cast.agency, 1, "09:00")
    appointment = appointment_for(
        cast,
        start=start,
        minutes=180,
        kind=AppointmentKind.TRANSPORT,
        external_with="Dr. Lee, psychiatry",
        external_start_at=start + HOUR,
        external_end_at=start + 2 * HOUR,
    )
    assert appointment.external_start_at == start + HOUR


def test_naive_times_are_refused(cast):
    naive = datetime.datetime.combine(
        cast.agency.today() + datetime.timedelta(days=1), datetime.time(10)
    )
    refused(cast, "start_at", start=naive)


def test_a_far_year_is_refused(cast):
    refused(cast, "start_at", start=days_from_today(cast.agency, 3 * 365))
    refused(cast, "start_at", start=days_from_today(cast.agency, -400))


def test_a_client_of_another_agency_is_refused(cast):
    error = refused(cast, "clients", clients=[cast.outsider_client])
    assert "another agency" in str(error)


def test_staff_of_another_agency_is_refused(cast):
    refused(cast, "staff", staff=cast.outsider_cm)
    refused(cast, by=cast.outsider_admin)


def test_a_resource_of_another_agency_is_refused(cast):
    refused(cast, "resource", resource=vehicle(cast.outsider_agency))


def test_a_retired_resource_is_refused(cast):
    car = vehicle(cast.agency)
    car.is_active = False
    car.save()
    refused(cast, "resource", resource=car)


def test_a_client_outside_the_caseload_is_refused(cast):
    error = refused(cast, "clients", clients=[cast.other_client])
    assert "access" in str(error)


def test_inactive_staff_and_staff_without_client_work_are_refused(cast):
    cast.colleague.is_active = False
    cast.colleague.save()
    refused(cast, "staff", by=cast.admin, staff=cast.colleague)
    refused(cast, "staff", by=cast.admin, staff=cast.billing)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Client.Status.MERGED, "merged into another record"),
        (Client.Status.DISCHARGED, "discharged"),
        (Client.Status.DECEASED, "deceased"),
    ],
)
def test_a_merged_or_discharged_client_is_refused_with_a_message(cast, status, words):
    Client.objects.filter(pk=cast.client.pk).update(status=status)
    cast.client.refresh_from_db()
    error = refused(cast, "clients")
    assert words in str(error)
    assert cast.client.display_name in str(error)


def test_only_a_group_has_several_clients(cast):
    second = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    assign(second, cast.case_manager)
    refused(cast, "clients", clients=[cast.client, second])
    refused(cast, "clients", clients=[])
    refused(cast, "clients", clients=[cast.client, cast.client], kind=AppointmentKind.GROUP)
    group = appointment_for(cast, kind=AppointmentKind.GROUP, clients=[cast.client, second])
    assert group.clients.count() == 2


def test_a_meeting_with_a_provider_may_have_no_client(cast):
    meeting = appointment_for(cast, kind=AppointmentKind.PROVIDER_MEETING, clients=[])
    assert meeting.clients.count() == 0
    assert AuditEvent.objects.filter(object_id=str(meeting.pk), client_id=None).exists()


def test_texts_are_limited(cast):
    refused(cast, "place", place="x" * 301)
    refused(cast, "external_with", external_with="x" * 201)


def test_travel_legs_are_checked(cast):
    refused(cast, "legs", legs=[("to_client", Decimal("1000.1"))])
    refused(cast, "legs", legs=[("to_client", Decimal("-1"))])
    refused(cast, "legs", legs=[("to_client", "twelve")])
    refused(cast, "legs", legs=[("joyride", 3)])
    refused(cast, "legs", legs=[("errand", 1)] * 9)
    appointment = appointment_for(cast, legs=[("errand", 1)] * 8 + [])
    assert TravelLeg.objects.filter(appointment=appointment).count() == 8


def test_a_case_manager_books_for_themselves_a_supervisor_for_the_team(cast):
    refused(cast, "staff", staff=cast.colleague, clients=[cast.client])
    by_supervisor = appointment_for(cast, by=cast.supervisor, staff=cast.colleague)
    by_admin = appointment_for(
        cast, by=cast.admin, staff=cast.colleague, start=days_from_today(cast.agency, 2)
    )
    assert by_supervisor.staff == by_admin.staff == cast.colleague
    refused_billing = appointment_input(cast)
    with pytest.raises(ScheduleError, match="role"):
        services.appointment_create(data=refused_billing, by=cast.billing)


def test_the_same_submission_twice_books_once(cast):
    data = appointment_input(cast)
    first = services.appointment_create(data=data, by=cast.case_manager, submission_key="abc")
    again = services.appointment_create(data=data, by=cast.case_manager, submission_key="abc")
    assert first.pk == again.pk
    assert Appointment.objects.count() == 1


# ---- Warnings ------------------------------------------------------------------------------


def test_a_home_visit_for_a_client_without_an_address_warns_and_still_books(cast):
    data = appointment_input(cast, place="")
    warnings = services.appointment_warnings(data=data)
    assert any(
        "has no address on file: add it to the chart or type the place" in w for w in warnings
    )
    assert services.appointment_create(data=data, by=cast.case_manager).pk


def test_no_address_warning_when_a_place_is_typed_or_the_chart_has_one(cast):
    typed = appointment_input(cast, place="Shelter on 3rd")
    assert not any("address" in w for w in services.appointment_warnings(data=typed))
    Client.objects.filter(pk=cast.client.pk).update(address_line1="1 Main St")
    cast.client.refresh_from_db()
    blank = appointment_input(cast, place="")
    assert not any("address" in w for w in services.appointment_warnings(data=blank))


def test_a_start_on_a_holiday_warns(cast):
    day = cast.agency.today() + datetime.timedelta(days=3)
    Holiday.objects.create(agency=cast.agency, day=day, name="Founders' Day")
    data = appointment_input(cast, start=local(cast.agency, day))
    assert any("Founders' Day" in w for w in services.appointment_warnings(data=data))


# ---- Conflicts -----------------------------------------------------------------------------


def test_an_overlap_with_the_same_staff_member_is_a_question(cast):
    first = appointment_for(cast)
    clash = appointment_input(cast, start=first.start_at + datetime.timedelta(minutes=30))
    with pytest.raises(ScheduleConflict) as error:
        services.appointment_create(data=clash, by=cast.case_manager)
    assert [c.appointment for c in error.value.conflicts] == [first]
    assert error.value.conflicts[0].kind == "staff"
    assert Appointment.objects.count() == 1
    services.appointment_create(data=clash, by=cast.case_manager, confirm_conflicts=True)
    assert Appointment.objects.count() == 2


def test_an_overlap_on_the_same_car_is_a_question_even_for_someone_else(cast):
    car = vehicle(cast.agency)
    first = appointment_for(cast, resource=car)
    other = appointment_input(cast, staff=cast.supervisor, resource=car)
    conflicts = services.appointment_conflicts(data=other)
    assert [(c.appointment, c.kind) for c in conflicts] == [(first, "resource")]
    assert "Blue Corolla is booked" in conflicts[0].reason


def test_back_to_back_and_cancelled_appointments_do_not_conflict(cast):
    first = appointment_for(cast)
    after = appointment_input(cast, start=first.end_at)
    assert services.appointment_conflicts(data=after) == []
    Appointment.objects.filter(pk=first.pk).update(status=Appointment.Status.CANCELLED)
    same = appointment_input(cast, start=first.start_at)
    assert services.appointment_conflicts(data=same) == []


def test_conflicts_are_one_query(cast, django_assert_num_queries):
    car = vehicle(cast.agency)
    appointment_for(cast, resource=car)
    data = appointment_input(cast, resource=car)
    with django_assert_num_queries(1):
        conflicts = services.appointment_conflicts(data=data)
    assert {c.kind for c in conflicts} == {"staff", "resource"}


# ---- Series --------------------------------------------------------------------------------


def test_a_rule_with_no_end_is_bounded_by_the_horizon(cast):
    start = days_from_today(cast.agency, 1, "09:00")
    first = appointment_for(cast, start=start, rule="FREQ=DAILY", legs=[("to_client", 3)])
    series = Series.objects.get()
    rows = Appointment.objects.filter(series=series)
    horizon = cast.agency.today() + datetime.timedelta(days=HORIZON_DAYS)
    assert first == rows.order_by("start_at").first()
    assert 0 < rows.count() <= MAX_OCCURRENCES
    assert rows.count() == HORIZON_DAYS
    assert all(a.start_at.astimezone(cast.agency.tzinfo).date() <= horizon for a in rows)
    assert series.generated_until == horizon
    assert AppointmentClient.objects.filter(appointment__series=series).count() == rows.count()
    assert TravelLeg.objects.filter(appointment__series=series).count() == rows.count()
    # One audit entry for the series per client, not one per occurrence.
    assert AuditEvent.objects.filter(object_type="schedule.series").count() == 1


def test_a_series_skips_holidays_unless_told(cast):
    start = days_from_today(cast.agency, 1)
    holiday = start.date() + datetime.timedelta(days=7)
    Holiday.objects.create(agency=cast.agency, day=holiday, name="Closed")
    appointment_for(cast, start=start, rule="FREQ=WEEKLY;COUNT=3")
    days = [a.start_at.astimezone(cast.agency.tzinfo).date() for a in Appointment.objects.all()]
    assert holiday not in days and len(days) == 2


def test_a_later_occurrence_in_conflict_stops_the_whole_series(cast):
    start = days_from_today(cast.agency, 1)
    busy = appointment_for(cast, start=start + datetime.timedelta(days=14))
    data = appointment_input(cast, start=start)
    with pytest.raises(ScheduleConflict) as error:
        services.appointment_create(data=data, by=cast.case_manager, rule="FREQ=WEEKLY")
    assert [c.appointment for c in error.value.conflicts] == [busy]
    assert not Series.objects.exists()


def test_a_bad_rule_is_refused_on_the_rule_field(cast):
    data = appointment_input(cast)
    with pytest.raises(ScheduleError) as error:
        services.appointment_create(data=data, by=cast.case_manager, rule="FREQ=HOURLY")
    assert error.value.field == "rule"


def _next_dst_change(agency) -> datetime.date:
    tz = agency.tzinfo
    day = agency.today() + datetime.timedelta(days=21)
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=tz)
    while True:
        following = noon + datetime.timedelta(days=1)
        if following.utcoffset() != noon.utcoffset():
            return following.date()
        noon = following


def test_a_series_across_a_daylight_saving_change_keeps_the_local_time(cast):
    change = _next_dst_change(cast.agency)
    first_day = change - datetime.timedelta(days=21)
    first = appointment_for(cast, start=local(cast.agency, first_day), rule="FREQ=WEEKLY")
    series = first.series
    made = services.series_extend(series=series, through=change + datetime.timedelta(days=21))
    rows = list(Appointment.objects.filter(series=series).order_by("start_at"))
    assert made >= 0 and len(rows) >= 6
    tz = cast.agency.tzinfo
    assert {a.start_at.astimezone(tz).time() for a in rows} == {datetime.time(10)}
    assert {a.end_at.astimezone(tz).time() for a in rows} == {datetime.time(11)}
    assert len({a.start_at.utcoffset() for a in rows}) == 1  # stored in UTC
    assert len({a.start_at.astimezone(tz).utcoffset() for a in rows}) == 2


def test_extending_twice_makes_nothing_twice_and_the_nightly_task_extends(cast):
    first = appointment_for(cast, rule="FREQ=WEEKLY")
    series = first.series
    count = Appointment.objects.filter(series=series).count()
    assert services.series_extend(series=series, through=series.generated_until) == 0
    # Pretend the horizon was reached a month ago: the nightly task makes the missing weeks.
    cutoff = series.generated_until - datetime.timedelta(days=30)
    tz = cast.agency.tzinfo
    late = [
        a.pk
        for a in Appointment.objects.filter(series=series)
        if a.start_at.astimezone(tz).date() > cutoff
    ]
    Appointment.objects.filter(pk__in=late).delete()
    Series.objects.filter(pk=series.pk).update(generated_until=cutoff)
    assert extend_series.call() == len(late)
    assert extend_series.call() == 0
    assert Appointment.objects.filter(series=series).count() == count
    assert AppointmentClient.objects.filter(appointment__series=series).count() == count


def test_a_series_stops_extending_when_its_client_is_discharged(cast):
    first = appointment_for(cast, rule="FREQ=WEEKLY")
    Client.objects.filter(pk=cast.client.pk).update(status=Client.Status.DISCHARGED)
    through = first.series.generated_until + datetime.timedelta(days=30)
    assert services.series_extend(series=first.series, through=through) == 0


# ---- Changing ------------------------------------------------------------------------------


def test_moving_one_occurrence_marks_it_an_exception_and_leaves_the_others(cast):
    first = appointment_for(cast, rule="FREQ=WEEKLY;COUNT=4")
    second = Appointment.objects.filter(series=first.series).order_by("start_at")[1]
    data = input_of(second)
    data.start_at += HOUR
    data.end_at += HOUR
    moved = services.appointment_update(
        appointment=second, data=data, by=cast.case_manager, expected_version=second.version
    )
    assert moved.is_exception and moved.version == 2
    assert moved.start_at == second.start_at + HOUR
    others = Appointment.objects.filter(series=first.series).exclude(pk=moved.pk)
    assert not any(a.is_exception for a in others) and others.count() == 3


def test_a_stale_version_is_refused(cast):
    appointment = appointment_for(cast)
    data = input_of(appointment)
    data.purpose = "Changed"
    services.appointment_update(
        appointment=appointment, data=data, by=cast.case_manager, expected_version=1
    )
    data.purpose = "Changed again"
    with pytest.raises(ScheduleError, match="Someone else changed this appointment"):
        services.appointment_update(
            appointment=appointment, data=data, by=cast.case_manager, expected_version=1
        )


def test_an_appointment_with_an_outcome_cannot_be_moved_but_its_miles_can_be_added(cast):
    appointment = appointment_for(cast, start=days_from_today(cast.agency, -1))
    outcomes.appointment_outcome(appointment=appointment, by=cast.case_manager, status="attended")
    appointment.refresh_from_db()
    data = input_of(appointment)
    data.start_at += HOUR
    data.end_at += HOUR
    with pytest.raises(ScheduleError, match="cannot be moved"):
        services.appointment_update(
            appointment=appointment,
            data=data,
            by=cast.case_manager,
            expected_version=appointment.version,
        )
    data = input_of(appointment)
    data.legs = [("to_client", Decimal("7.5"))]
    updated = services.appointment_update(
        appointment=appointment,
        data=data,
        by=cast.case_manager,
        expected_version=appointment.version,
    )
    assert [leg.miles for leg in updated.legs.all()] == [Decimal("7.5")]


def test_moving_into_a_conflict_is_a_question(cast):
    first = appointment_for(cast)
    second = appointment_for(cast, start=first.start_at + 2 * HOUR)
    data = input_of(second)
    data.start_at, data.end_at = first.start_at, first.end_at
    with pytest.raises(ScheduleConflict):
        services.appointment_update(
            appointment=second, data=data, by=cast.case_manager, expected_version=1
        )
    services.appointment_update(
        appointment=second,
        data=data,
        by=cast.case_manager,
        expected_version=1,
        confirm_conflicts=True,
    )


def test_this_and_following_splits_the_series(cast):
    start = days_from_today(cast.agency, 1)
    first = appointment_for(cast, start=start, rule="FREQ=WEEKLY;COUNT=6")
    old = first.series
    rows = list(Appointment.objects.filter(series=old).order_by("start_at"))
    assert len(rows) == 6
    third, changed_alone = rows[2], rows[4]
    Appointment.objects.filter(pk=changed_alone.pk).update(is_exception=True, purpose="Own")
    data = input_of(third)
    data.start_at += datetime.timedelta(days=1, hours=2)  # next day, noon
    data.end_at += datetime.timedelta(days=1, hours=2)
    data.purpose = "New time"
    moved = services.appointment_update(
        appointment=third,
        data=data,
        by=cast.case_manager,
        expected_version=third.version,
        scope="following",
        confirm_conflicts=True,
    )
    old.refresh_from_db()
    tz = cast.agency.tzinfo
    assert old.ended_on == third.start_at.astimezone(tz).date() - datetime.timedelta(days=1)
    kept = set(Appointment.objects.filter(series=old).values_list("pk", flat=True))
    assert kept == {rows[0].pk, rows[1].pk, changed_alone.pk}
    new = moved.series
    assert new.pk != old.pk and moved.pk == third.pk
    assert new.rule == "FREQ=WEEKLY;COUNT=4"  # what was left of COUNT=6
    following = list(Appointment.objects.filter(series=new).order_by("start_at"))
    assert following[0] == moved
    assert len(following) == 4
    assert {a.start_at.astimezone(tz).time() for a in following} == {datetime.time(12)}
    assert {a.purpose for a in following} == {"New time"}
    assert all(a.clients.count() == 1 for a in following)
    audited = AuditEvent.objects.filter(object_type="schedule.series").values_list(
        "object_id", "action"
    )
    assert (str(old.pk), Action.UPDATE) in audited and (str(new.pk), Action.CREATE) in audited


# ---- Reads ---------------------------------------------------------------------------------


def test_a_calendar_is_scoped_to_whom_the_viewer_may_see(cast):
    mine = appointment_for(cast)
    colleague_client = ClientFactory(agency=cast.agency, created_by=cast.colleague)
    assign(colleague_client, cast.colleague)
    theirs = appointment_for(
        cast, by=cast.colleague, staff=cast.colleague, clients=[colleague_client]
    )
    day = mine.start_at.astimezone(cast.agency.tzinfo).date()
    both = [cast.case_manager.pk, cast.colleague.pk]

    def seen(user):
        return list(selectors.appointments_for_staff(user=user, staff_ids=both, start=day, end=day))

    assert seen(cast.case_manager) == [mine]
    assert seen(cast.supervisor) == [mine, theirs]
    assert seen(cast.admin) == [mine, theirs]
    assert seen(cast.other_team_cm) == []


def test_a_calendar_is_a_constant_number_of_queries(cast, django_assert_num_queries):
    start = days_from_today(cast.agency, 1)
    appointment_for(cast, start=start, rule="FREQ=DAILY;COUNT=5", legs=[("errand", 1)])
    day = start.date()
    with django_assert_num_queries(3):  # appointments, clients, legs
        rows = list(
            selectors.appointments_for_staff(
                user=cast.case_manager,
                staff_ids=[cast.case_manager.pk],
                start=day,
                end=day + datetime.timedelta(days=6),
            )
        )
        names = [c.display_name for a in rows for c in a.clients.all()]
        legs = [leg.miles for a in rows for leg in a.legs.all()]
    assert len(rows) == 5 and len(names) == 5 and len(legs) == 5


def test_one_appointment_is_visible_to_its_staff_their_supervisor_and_its_clients_team(cast):
    appointment = appointment_for(cast)
    for user in (cast.case_manager, cast.colleague, cast.supervisor, cast.admin, cast.billing):
        assert selectors.appointment_or_404(user, appointment.pk) == appointment
    for user in (cast.other_team_cm, cast.outsider_admin, cast.outsider_cm):
        with pytest.raises(Http404):
            selectors.appointment_or_404(user, appointment.pk)
    with pytest.raises(Http404):
        selectors.appointment_or_404(cast.case_manager, "nope")


def test_a_clients_appointments_need_access_to_the_client(cast):
    appointment = appointment_for(cast)
    day = appointment.start_at.astimezone(cast.agency.tzinfo).date()
    kwargs = {"client": cast.client, "start": day, "end": day}
    assert list(selectors.appointments_for_client(user=cast.colleague, **kwargs)) == [appointment]
    assert list(selectors.appointments_for_client(user=cast.other_team_cm, **kwargs)) == []
    assert list(selectors.appointments_for_client(user=cast.outsider_admin, **kwargs)) == []


def test_todays_appointments_are_mine_today_in_two_queries(cast, django_assert_num_queries):
    now = datetime.datetime.now(tz=cast.agency.tzinfo)
    start = now.replace(hour=0, minute=30, second=0, microsecond=0)
    today = appointment_for(cast, start=start)
    appointment_for(cast, start=start + datetime.timedelta(days=1))
    cast.case_manager.agency  # noqa: B018 (loaded, as the request's user has it)
    with django_assert_num_queries(2):
        rows = selectors.todays_appointments(user=cast.case_manager)
        [c.pk for a in rows for c in a.clients.all()]
    assert rows == [today]


def test_day_columns_group_by_local_date():
    tz = datetime.timezone(datetime.timedelta(hours=-8))
    monday = datetime.date(2026, 12, 7)

    def at(day_offset: int, hour: int) -> Appointment:
        start = datetime.datetime.combine(
            monday + datetime.timedelta(days=day_offset), datetime.time(hour), tzinfo=tz
        )
        return Appointment(start_at=start, end_at=start + HOUR)

    late_sunday = at(6, 23)  # 07:00 UTC on Monday the 14th, still Sunday here
    early, later = at(0, 9), at(0, 15)
    columns = selectors.day_columns([later, late_sunday, early], tz=tz, start=monday)  # type: ignore[arg-type]
    assert columns[0].day == monday and len(columns) == 7
    assert columns[0].appointments == [early, later]
    assert columns[6].appointments == [late_sunday]
    assert columns[3].is_empty
    assert selectors.week_start(datetime.date(2026, 12, 10)) == monday


def test_an_admin_may_book_for_anyone_in_the_agency_but_not_billing_staff(cast):
    newcomer = UserFactory(agency=cast.agency, roles=[Role.CASE_MANAGER])
    appointment = appointment_for(cast, by=cast.admin, staff=newcomer)
    assert appointment.staff == newcomer


def test_this_and_following_moved_to_another_weekday_moves_the_rule(cast):
    start = days_from_today(cast.agency, 1)
    codes = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    weekday = start.weekday()
    first = appointment_for(cast, start=start, rule=f"FREQ=WEEKLY;BYDAY={codes[weekday]}")
    second = Appointment.objects.filter(series=first.series).order_by("start_at")[1]
    data = input_of(second)
    data.start_at += datetime.timedelta(days=1)
    data.end_at += datetime.timedelta(days=1)
    moved = services.appointment_update(
        appointment=second,
        data=data,
        by=cast.case_manager,
        expected_version=second.version,
        scope="following",
    )
    assert moved.series.rule == f"FREQ=WEEKLY;BYDAY={codes[(weekday + 1) % 7]}"
    later = Appointment.objects.filter(series=moved.series)
    tz = cast.agency.tzinfo
    assert {a.start_at.astimezone(tz).weekday() for a in later} == {(weekday + 1) % 7}
    assert Appointment.objects.filter(series=first.series).count() == 1


def test_editing_a_group_keeps_the_clients_the_editor_cannot_see(cast: Any) -> None:
    group = appointment_for(
        cast, kind="group", clients=[cast.client, cast.other_client], by=cast.admin
    )
    data = input_of(group)
    data.clients = [cast.client]  # all the case manager's form could offer
    data.place = "Room 2"
    changed = services.appointment_update(
        appointment=group, data=data, by=cast.case_manager, expected_version=group.version
    )
    assert set(changed.clients.values_list("pk", flat=True)) == {
        cast.client.pk,
        cast.other_client.pk,
    }


def test_this_and_following_keeps_an_occurrence_whose_reminder_was_sent(cast, settings):
    import time_machine

    from casework.automation import reminders
    from casework.automation.models import ClientReminder
    from casework.automation.tests.helpers import texts

    settings.CASEWORK_SMS_BACKEND = "casework.automation.messaging.MemoryBackend"
    day = cast.agency.today() + datetime.timedelta(days=2)
    with time_machine.travel(local(cast.agency, day, "14:00"), tick=False):
        texts(cast)
        first = appointment_for(
            cast, start=local(cast.agency, day, "13:00"), rule="FREQ=DAILY;COUNT=4"
        )
        rows = list(Appointment.objects.filter(series=first.series).order_by("start_at"))
        assert reminders.send_client_reminders() == 1  # tomorrow's, 23 hours ahead
        reminded = ClientReminder.objects.get().appointment
        assert reminded == rows[1]
        data = input_of(rows[0])
        data.start_at += 3 * HOUR
        data.end_at += 3 * HOUR
        moved = services.appointment_update(
            appointment=rows[0],
            data=data,
            by=cast.case_manager,
            expected_version=rows[0].version,
            scope="following",
        )
    kept = Appointment.objects.get(pk=reminded.pk)  # the client was told of it: it stays
    assert kept.series == first.series and kept.status == "scheduled"
    assert ClientReminder.objects.get().appointment == kept
    assert not Appointment.objects.filter(pk__in=[rows[2].pk, rows[3].pk]).exists()
    assert moved.series != first.series
