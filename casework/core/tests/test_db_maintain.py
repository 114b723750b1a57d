"""The nightly maintenance command refreshes planner statistics on either database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from casework.testing.personas import Cast


@pytest.mark.django_db
def test_db_maintain_gathers_statistics(cast: Cast) -> None:
    out = StringIO()
    call_command("db_maintain", stdout=out)
    assert "refreshed" in out.getvalue()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_stat1")
            assert cursor.fetchone()[0] > 0
