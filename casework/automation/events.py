"""Events from records: what a signed note, a no-show, a signed assessment or a completed
process means for the rules, read afresh when the queue job runs (the record may have changed
since it was enqueued: a no-show corrected to attended fires nothing)."""

from __future__ import annotations

import datetime

from casework.assessments.instruments import instruments
from casework.assessments.models import Assessment
from casework.automation.engine import Event
from casework.automation.models import AutomationRun, Trigger
from casework.clients.models import Client
from casework.core.models import Agency
from casework.notes.models import NotableEvent, Note
from casework.schedule.models import Appointment, AppointmentClient

HOSPITAL_EVENTS = frozenset({NotableEvent.ER_VISIT, NotableEvent.HOSPITALIZED})


def _day(value: datetime.date) -> str:
    return f"{value.day} {value:%b}"


def _local_day(value: datetime.datetime, agency: Agency) -> datetime.date:
    return value.astimezone(agency.tzinfo).date()


def hospital_stay(note: Note, *, occurred_at: datetime.datetime | None = None) -> Event | None:
    """A hospital stay or ER visit a signed note records; none from a 42 CFR Part 2 program's
    note, whose content the rules' tasks and emails would carry outside the program."""
    if note.status != Note.Status.SIGNED or not HOSPITAL_EVENTS & set(note.events or []):
        return None
    if note.program is not None and note.program.is_part2:
        return None
    labels = " and ".join(
        str(NotableEvent(e).label).lower() for e in note.events if e in HOSPITAL_EVENTS
    )
    return Event(
        trigger=Trigger.HOSPITAL_STAY,
        agency_id=note.agency_id,
        client_id=note.client_id,
        key=f"note:{note.pk}",
        what=f"{labels} recorded in the note of {_day(note.service_date)}",
        occurred_at=occurred_at,
    )


def no_show(
    appointment: Appointment, client_id: int, *, occurred_at: datetime.datetime | None = None
) -> Event | None:
    if appointment.status != Appointment.Status.NO_SHOW:
        return None
    agency = Agency.objects.get(pk=appointment.agency_id)
    return Event(
        trigger=Trigger.NO_SHOW,
        agency_id=appointment.agency_id,
        client_id=client_id,
        key=f"noshow:{appointment.pk}",
        what=f"missed appointment on {_day(_local_day(appointment.start_at, agency))}",
        occurred_at=occurred_at,
    )


def assessment_flag(
    assessment: Assessment, *, occurred_at: datetime.datetime | None = None
) -> Event | None:
    if assessment.status != Assessment.Status.SIGNED or not assessment.flags:
        return None
    instrument = instruments().get(assessment.instrument)
    name = instrument.name if instrument is not None else assessment.instrument
    return Event(
        trigger=Trigger.ASSESSMENT_FLAG,
        agency_id=assessment.agency_id,
        client_id=assessment.client_id,
        key=f"assessment:{assessment.pk}",
        what=f"{name} of {_day(assessment.administered_on)} raised a flag",
        occurred_at=occurred_at,
    )


def process_completed(
    *, instance_id: int, client_id: int, process_key: str, depth: int
) -> Event | None:
    client = Client.objects.filter(pk=client_id).values_list("agency_id", flat=True).first()
    if client is None:
        return None
    cause = (
        AutomationRun.objects.filter(
            agency_id=client,
            client_id=client_id,
            object_type__startswith="processes.",
            object_id=str(instance_id),
        )
        .order_by("-pk")
        .values_list("pk", "depth")
        .first()
    )
    if cause is not None:  # a rule started it: the chain goes on from that run's depth
        depth = max(depth, cause[1])
    return Event(
        trigger=Trigger.PROCESS_COMPLETED,
        agency_id=client,
        client_id=client_id,
        key=f"process:{instance_id}",
        what=f"the guided process “{process_key}” was completed",
        depth=depth + 1,
        caused_by_id=cause[0] if cause is not None else None,
        process_key=process_key,
    )


def event_for(
    *, trigger: str, client_id: int, subject_id: int, process_key: str = "", depth: int = 0
) -> Event | None:
    """The event a queued job stands for, read from its record now; None if it no longer holds."""
    if trigger == Trigger.HOSPITAL_STAY:
        note = (
            Note.objects.filter(pk=subject_id, client_id=client_id)
            .select_related("program")
            .first()
        )
        return hospital_stay(note) if note is not None else None
    if trigger == Trigger.NO_SHOW:
        appointment = Appointment.objects.filter(pk=subject_id).first()
        if (
            appointment is None
            or not AppointmentClient.objects.filter(
                appointment=appointment, client_id=client_id
            ).exists()
        ):
            return None
        return no_show(appointment, client_id)
    if trigger == Trigger.ASSESSMENT_FLAG:
        assessment = Assessment.objects.filter(pk=subject_id, client_id=client_id).first()
        return assessment_flag(assessment) if assessment is not None else None
    if trigger == Trigger.PROCESS_COMPLETED:
        return process_completed(
            instance_id=subject_id, client_id=client_id, process_key=process_key, depth=depth
        )
    return None
