"""The chart's appointments and early-warnings sections cost the same queries however many."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casework.schedule.outcomes import appointment_outcome
from casework.testing.personas import Cast
from casework.testing.schedule import appointment_for, days_from_today, past_appointment_for
from casework.worklist.models import ClientWarning, WarningKind

pytestmark = pytest.mark.django_db


def _chart_queries(http: Any, client_id: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(f"/clients/{client_id}/").status_code == 200
    return len(queries)


def _history(cast: Cast, n: int) -> None:
    for day in range(n):
        appointment_for(cast, start=days_from_today(cast.agency, day + 1, "09:00"))
        missed = past_appointment_for(cast, start=days_from_today(cast.agency, -day - 1, "15:00"))
        appointment_outcome(appointment=missed, by=cast.case_manager, status="no_show")
        ClientWarning.objects.create(
            agency=cast.agency,
            client=cast.client,
            kind=WarningKind.HOUSING_LOST,
            evidence="Lost housing",
            evidence_key=f"test:{cast.client.pk}:{day}:{n}",
        )


def test_the_chart_shows_upcoming_and_missed_appointments_and_open_warnings_in_constant_queries(
    cast: Cast, http_as: Any
) -> None:
    http = http_as(cast.case_manager)
    _history(cast, 1)
    _chart_queries(http, cast.client.pk)  # the first request of a session does more
    few = _chart_queries(http, cast.client.pk)
    _history(cast, 6)
    assert _chart_queries(http, cast.client.pk) == few
    body = http.get(f"/clients/{cast.client.pk}/").content.decode()
    assert "Last missed" in body and "Early warnings" in body and "Lost housing" in body
