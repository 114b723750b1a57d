"""Background work for the schedule (django-tasks; run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task

from casework.schedule.models import Series
from casework.schedule.services import horizon, series_extend


@task()
def extend_series() -> int:
    """Nightly: make every open series' occurrences up to the horizon. Safe to run again."""
    made = 0
    open_series = Series.objects.filter(ended_on__isnull=True).select_related("agency")
    for series in list(open_series.order_by("id")):
        through = horizon(series.agency)
        if series.generated_until < through:
            made += series_extend(series=series, through=through)
    return made
