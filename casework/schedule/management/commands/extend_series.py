"""The nightly extension of repeating appointments up to the horizon (about six months ahead).

From cron on one machine:

    10 2 * * *  cd /srv/casework && .venv/bin/python manage.py extend_series

or `manage.py extend_series --enqueue` to leave the work to a `manage.py db_worker` process.
Occurrences are unique per series and start, so running it twice does no harm.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casework.schedule.tasks import extend_series


class Command(BaseCommand):
    help = "Make the next occurrences of every repeating appointment (nightly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the work on the task queue for the db_worker instead of doing it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = extend_series.enqueue()
            self.stdout.write(f"Queued the series extension ({result.id}).")
            return
        self.stdout.write(f"Occurrences made: {extend_series.call()}.")
