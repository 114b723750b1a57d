"""Refresh the database's planner statistics, so queries keep using the right indexes.

SQLite never gathers them by itself; run this nightly from cron:

    20 2 * * *  cd /srv/casework && .venv/bin/python manage.py db_maintain

PostgreSQL gathers them through autovacuum (keep it on); running this there does no harm.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection


def refresh_statistics() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")


class Command(BaseCommand):
    help = "Refresh the planner statistics of every table (nightly on SQLite)."

    def handle(self, *args: Any, **options: Any) -> None:
        refresh_statistics()
        self.stdout.write("Planner statistics refreshed.")
