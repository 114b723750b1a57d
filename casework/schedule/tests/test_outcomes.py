"""Outcomes: attended, no-show, cancelled; the follow-up task and the note they make, once."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from casework.billing.models import Charge
from casework.core.models import AuditEvent
from casework.notes.models import ContactType, Note
from casework.notes.services import note_void
from casework.schedule import outcomes, services
from casework.schedule.models import Appointment, AppointmentKind
from casework.schedule.services import ScheduleError
from casework.testing.factories import ClientFactory, assign
from casework.testing.schedule import (
    appointment_for,
    days_from_today,
    input_of,
    past_appointment_for,
)
from casework.worklist.models import Task

pytestmark = pytest.mark.django_db


def outcome(appointment, by, status, **kwargs):
    return outcomes.appointment_outcome(appointment=appointment, by=by, status=status, **kwargs)


def test_a_no_show_makes_a_follow_up_task_and_a_signed_non_billable_note(cast):
    appointment = past_appointment_for(cast)
    result = outcome(appointment, cast.case_manager, "no_show", reason="Not home")
    task = result.task
    assert task is not None
    assert task.kind == Task.Kind.FOLLOW_UP and task.appointment == appointment
    assert task.assignee == cast.case_manager and task.client == cast.client
    assert task.title == f"Follow up with {cast.client.display_name} after the missed home visit"
    assert task.reason.startswith("No-show at the home visit on ")
    assert task.reason.endswith(": Not home")
    assert task.due_on == outcomes.next_working_day(cast.case_manager, cast.agency.today())
    [note] = result.notes
    assert note.status == Note.Status.SIGNED
    assert note.contact_type == ContactType.NO_SHOW and note.appointment == appointment
    assert (note.start_at, note.end_at) == (appointment.start_at, appointment.end_at)
    first_section = next(iter(note.sections))
    assert "was not there for the home visit" in note.sections[first_section]
    assert not Charge.objects.filter(note=note).exists()
    appointment.refresh_from_db()
    assert appointment.status == "no_show" and appointment.outcome_by == cast.case_manager


def test_the_same_outcome_twice_makes_one_task_and_one_note(cast):
    appointment = past_appointment_for(cast)
    first = outcome(appointment, cast.case_manager, "no_show")
    version = Appointment.objects.get(pk=appointment.pk).version
    audits = AuditEvent.objects.count()
    again = outcome(appointment, cast.case_manager, "no_show")
    assert again.task == first.task and again.notes == first.notes
    assert Task.objects.count() == 1 and Note.objects.count() == 1
    assert Appointment.objects.get(pk=appointment.pk).version == version
    assert AuditEvent.objects.count() == audits


def test_a_cancellation_by_the_client_is_followed_up_one_by_us_is_not(cast):
    by_client = past_appointment_for(cast)
    result = outcome(by_client, cast.case_manager, "cancelled", cancelled_by="client")
    assert result.task is not None and "cancelled the home visit" in result.task.reason
    assert [n.contact_type for n in result.notes] == [ContactType.CANCELLATION]
    by_us = appointment_for(cast, start=days_from_today(cast.agency, 2))
    ours = outcome(by_us, cast.case_manager, "cancelled", cancelled_by="staff")
    assert ours.task is None and ours.notes == []
    with pytest.raises(ScheduleError) as error:
        outcome(by_us, cast.case_manager, "cancelled")
    assert error.value.field == "cancelled_by"


def test_a_cancellation_ahead_of_time_is_documented_today_and_signed(cast):
    ahead = appointment_for(cast, start=days_from_today(cast.agency, 3))
    result = outcome(ahead, cast.case_manager, "cancelled", cancelled_by="client")
    [note] = result.notes
    assert note.service_date == cast.agency.today() and note.start_at is None
    assert note.status == Note.Status.SIGNED


def test_attended_makes_nothing(cast):
    result = outcome(past_appointment_for(cast), cast.case_manager, "attended")
    assert result.task is None and result.notes == []
    assert not Task.objects.exists() and not Note.objects.exists()


def test_attended_or_no_show_before_the_start_is_refused(cast):
    future = appointment_for(cast, start=days_from_today(cast.agency, 1))
    for status in ("attended", "no_show"):
        with pytest.raises(ScheduleError, match="has not started yet"):
            outcome(future, cast.case_manager, status)
    assert Appointment.objects.get(pk=future.pk).status == "scheduled"


def test_attended_can_become_no_show_while_no_note_is_signed(cast):
    appointment = past_appointment_for(cast)
    outcome(appointment, cast.case_manager, "attended")
    result = outcome(appointment, cast.case_manager, "no_show")
    assert result.task is not None and len(result.notes) == 1


def test_a_signed_no_show_note_keeps_the_outcome_until_it_is_voided(cast):
    appointment = past_appointment_for(cast)
    first = outcome(appointment, cast.case_manager, "no_show")
    with pytest.raises(ScheduleError, match="signed note"):
        outcome(appointment, cast.case_manager, "attended")
    note_void(note=first.notes[0], by=cast.case_manager, reason="She was there after all")
    outcome(appointment, cast.case_manager, "attended")
    assert Task.objects.get().status == Task.Status.DONE
    # Marked a no-show again: the same follow-up comes back, with a new note.
    again = outcome(appointment, cast.case_manager, "no_show")
    assert again.task == first.task and again.task.status == Task.Status.OPEN
    assert again.notes[0].pk != first.notes[0].pk


def test_a_cancelled_appointment_cannot_be_marked_attended(cast):
    appointment = past_appointment_for(cast)
    outcome(appointment, cast.case_manager, "cancelled", cancelled_by="staff")
    with pytest.raises(ScheduleError, match="already marked cancelled"):
        outcome(appointment, cast.case_manager, "attended")
    with pytest.raises(ScheduleError, match="already marked cancelled"):
        outcome(appointment, cast.case_manager, "cancelled", cancelled_by="client")


def test_a_late_no_show_note_stays_a_draft_and_the_outcome_still_counts(cast):
    appointment = past_appointment_for(cast, start=days_from_today(cast.agency, -10))
    result = outcome(appointment, cast.case_manager, "no_show")
    [note] = result.notes
    assert note.status == Note.Status.DRAFT  # a late entry needs its author's reason
    assert note.appointment == appointment
    assert Appointment.objects.get(pk=appointment.pk).status == "no_show"


def test_a_group_no_show_documents_each_client_and_makes_one_follow_up(cast):
    second = ClientFactory(agency=cast.agency, created_by=cast.case_manager)
    assign(second, cast.case_manager)
    group = past_appointment_for(cast, kind=AppointmentKind.GROUP, clients=[cast.client, second])
    result = outcome(group, cast.case_manager, "no_show")
    assert {n.client_id for n in result.notes} == {cast.client.pk, second.pk}
    assert Task.objects.count() == 1


def test_the_outcome_is_recorded_by_the_staff_their_supervisor_or_an_admin(cast):
    appointment = past_appointment_for(cast)
    for outsider in (cast.colleague, cast.other_team_cm, cast.outsider_admin, cast.billing):
        with pytest.raises(ScheduleError):
            outcome(appointment, outsider, "attended")
    result = outcome(appointment, cast.supervisor, "no_show")
    assert result.task.assignee == cast.case_manager  # the follow-up is the staff member's
    assert result.notes[0].author == cast.supervisor


def test_the_outcome_audit_holds_no_names(cast):
    appointment = past_appointment_for(cast)
    outcome(appointment, cast.case_manager, "no_show", reason="Was in hospital")
    event = AuditEvent.objects.filter(object_type="schedule.appointment").latest("seq")
    assert event.client_id == cast.client.pk
    assert "hospital" not in event.detail and "Connor" not in event.detail


def test_an_outcome_runs_the_early_warning_rules_for_its_clients(cast):
    from casework.worklist.models import ClientWarning, WarningKind

    for hours_ago in (50, 26):
        start = timezone.now() - datetime.timedelta(hours=hours_ago)
        outcome(past_appointment_for(cast, start=start), cast.case_manager, "no_show")
    # The task queue ran the rules inside the outcome: two no-shows in a row raise a warning.
    assert ClientWarning.objects.filter(
        client=cast.client, kind=WarningKind.MISSED_IN_A_ROW
    ).exists()


def test_the_follow_up_is_due_on_the_next_working_day():
    class Staff:
        work_days = "MO,TU,WE,TH,FR"

    friday = datetime.date(2026, 12, 4)
    assert outcomes.next_working_day(Staff(), friday) == datetime.date(2026, 12, 7)  # type: ignore[arg-type]
    Staff.work_days = "SA"
    assert outcomes.next_working_day(Staff(), friday) == datetime.date(2026, 12, 5)  # type: ignore[arg-type]
    Staff.work_days = ""
    assert outcomes.next_working_day(Staff(), friday) == datetime.date(2026, 12, 5)  # type: ignore[arg-type]


def test_an_outcome_leaves_the_appointment_unmovable(cast):
    appointment = past_appointment_for(cast)
    outcome(appointment, cast.case_manager, "no_show")
    appointment.refresh_from_db()
    data = input_of(appointment)
    data.staff = cast.case_manager
    data.start_at -= datetime.timedelta(hours=1)
    with pytest.raises(ScheduleError, match="cannot be moved"):
        services.appointment_update(
            appointment=appointment,
            data=data,
            by=cast.case_manager,
            expected_version=appointment.version,
        )
