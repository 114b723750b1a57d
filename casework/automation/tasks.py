"""Background work for automation (django-tasks; the worker is `manage.py db_worker`).

`run_event_trigger` is enqueued by `casework.automation.triggers` inside the transaction of the
change (a signed note, a no-show, a signed assessment, a completed process). The hourly
`run_time_triggers` fires the rules that wait on time and sweeps up events whose job was lost;
the hourly `send_client_reminders` sends appointment reminders. Each may run more than once:
what they do is done once.
"""

from __future__ import annotations

from django_tasks import task

from casework.automation import engine, events, reminders, timers


@task()
def run_event_trigger(
    trigger: str, client_id: int, subject_id: int, process_key: str = "", depth: int = 0
) -> int:
    """Run the rules for one event; returns how many runs were logged."""
    event = events.event_for(
        trigger=trigger,
        client_id=client_id,
        subject_id=subject_id,
        process_key=process_key,
        depth=depth,
    )
    return len(engine.fire(event)) if event is not None else 0


@task()
def run_time_triggers() -> int:
    """Hourly: the time rules of every agency, and the sweep for lost events."""
    return timers.run_time_triggers()


@task()
def send_client_reminders() -> int:
    """Hourly: appointment reminders owed in the next 24 hours; returns how many were sent."""
    return reminders.send_client_reminders()
