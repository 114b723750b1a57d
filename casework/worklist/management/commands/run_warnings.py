"""The nightly early-warning run over every agency (or one).

Run it once a night, either from cron on one machine:

    15 2 * * *  cd /srv/casework && .venv/bin/python manage.py run_warnings

or through the task queue, so that a `manage.py db_worker` process does the work:

    manage.py run_warnings --enqueue

Warnings are raised once per piece of evidence, so running it twice does no harm.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casework.worklist import warnings
from casework.worklist.tasks import evaluate_all_warnings


class Command(BaseCommand):
    help = "Run the early-warning rules for every active client (nightly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agency", type=int, help="Only this agency (its id).")
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the run on the task queue for the db_worker instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = evaluate_all_warnings.enqueue()
            self.stdout.write(f"Queued the early-warning run ({result.id}).")
            return
        if options["agency"]:
            raised = warnings.evaluate_agency(agency_id=options["agency"])
        else:
            raised = evaluate_all_warnings.call()
        # A count only: the warnings themselves are PHI and stay in the database.
        self.stdout.write(f"Early warnings raised: {raised}.")
