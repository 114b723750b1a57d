"""The hourly automation run: rules that fire on time, and the sweep for lost events.

From cron on one machine:

    10 * * * *  cd /srv/casework && .venv/bin/python manage.py run_automation

or through the task queue, so that a `manage.py db_worker` process does the work:

    manage.py run_automation --enqueue

Every action is done once per event, so running it twice does no harm.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casework.automation import timers
from casework.automation.tasks import run_time_triggers


class Command(BaseCommand):
    help = "Run the automation rules that fire on time, and catch up on missed events (hourly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", type=int, help="Only this agency (its id).")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the run on the task queue for the db_worker instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = run_time_triggers.enqueue()
            self.stdout.write(f"Queued the automation run ({result.id}).")
            return
        runs = timers.run_time_triggers(agency_id=options["agency"])
        # A count only: what the rules did concerns clients and stays in the database.
        self.stdout.write(f"Automation runs logged: {runs}.")
