"""The nightly command makes the next occurrences of an open series, once."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from casework.schedule.models import Appointment, Series
from casework.testing.personas import Cast
from casework.testing.schedule import appointment_for, days_from_today

pytestmark = pytest.mark.django_db


def test_extend_series_makes_the_next_occurrences_and_is_safe_to_run_twice(cast: Cast) -> None:
    first = appointment_for(cast, start=days_from_today(cast.agency, 1), rule="FREQ=WEEKLY")
    series = Series.objects.get(pk=first.series_id)
    made = Appointment.objects.filter(series=series).count()
    Series.objects.filter(pk=series.pk).update(
        generated_until=series.generated_until - datetime.timedelta(days=30)
    )
    Appointment.objects.filter(
        series=series, start_at__date__gt=series.generated_until - datetime.timedelta(days=30)
    ).delete()
    fewer = Appointment.objects.filter(series=series).count()
    assert fewer < made
    out = StringIO()
    call_command("extend_series", stdout=out)
    assert Appointment.objects.filter(series=series).count() == made
    call_command("extend_series", stdout=StringIO())
    assert Appointment.objects.filter(series=series).count() == made
    assert "Occurrences made:" in out.getvalue()
