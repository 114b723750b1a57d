"""Background work for guided processes (django-tasks; the worker is `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task

from casework.processes import services


@task()
def advance_process_timers() -> int:
    """Every few minutes: move on the processes whose timer is due; returns how many moved."""
    return services.timers_advance()
