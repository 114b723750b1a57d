"""Where other apps tell automation that something happened. Each call only enqueues.

Called inside the writing transaction (as `evaluate_client_warnings` is), so the job becomes
visible to the worker only once the change commits; a change that rolls back fires nothing.
Nothing is queued when the agency has no active rule for the trigger. The job itself reads the
record again (`events.event_for`), and the hourly sweep (`timers`) finds any event whose job was
lost, so every event is acted on at least once, and (see `engine`) at most once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from casework.automation.models import AutomationRule, Trigger
from casework.clients.models import Client

if TYPE_CHECKING:
    from casework.assessments.models import Assessment
    from casework.notes.models import Note
    from casework.schedule.models import Appointment

HOSPITAL_EVENT_VALUES = frozenset({"er_visit", "hospitalized"})


def _has_rules(agency_id: int, trigger: str) -> bool:
    return AutomationRule.objects.filter(
        agency_id=agency_id, trigger=trigger, is_active=True
    ).exists()


def _enqueue(
    trigger: str,
    *,
    agency_id: int,
    client_id: int,
    subject_id: int,
    process_key: str = "",
    depth: int = 0,
) -> None:
    if not _has_rules(agency_id, trigger):
        return
    from casework.automation.tasks import run_event_trigger

    run_event_trigger.enqueue(
        trigger=trigger,
        client_id=client_id,
        subject_id=subject_id,
        process_key=process_key,
        depth=depth,
    )


def note_signed(*, note: Note) -> None:
    """A signed note that records an ER visit or a hospital stay."""
    if HOSPITAL_EVENT_VALUES & set(note.events or []):
        _enqueue(
            Trigger.HOSPITAL_STAY,
            agency_id=note.agency_id,
            client_id=note.client_id,
            subject_id=note.pk,
        )


def appointment_missed(*, appointment: Appointment, client_ids: Iterable[int]) -> None:
    """An appointment's outcome was recorded as a no-show (one event per client)."""
    if appointment.status != "no_show":
        return
    for client_id in client_ids:
        _enqueue(
            Trigger.NO_SHOW,
            agency_id=appointment.agency_id,
            client_id=client_id,
            subject_id=appointment.pk,
        )


def assessment_signed(*, assessment: Assessment) -> None:
    """A signed assessment that raised at least one flag."""
    if assessment.flags:
        _enqueue(
            Trigger.ASSESSMENT_FLAG,
            agency_id=assessment.agency_id,
            client_id=assessment.client_id,
            subject_id=assessment.pk,
        )


def process_completed(*, instance_id: int, client_id: int, process_key: str, depth: int) -> None:
    """A guided process finished (called by `casework.processes`).

    `depth` is the chain depth the process was started at (0 when a person started it; a rule
    passes its run's depth to `process_start`); the run it triggers is one deeper.
    """
    agency_id = Client.objects.filter(pk=client_id).values_list("agency_id", flat=True).first()
    if agency_id is None:
        return
    _enqueue(
        Trigger.PROCESS_COMPLETED,
        agency_id=agency_id,
        client_id=client_id,
        subject_id=instance_id,
        process_key=process_key,
        depth=depth,
    )
