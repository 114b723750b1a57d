"""Move on every running process whose timer is due (a 120-hour hold ending, 30 days after an
admission). Run it every few minutes, from cron on one machine:

    */5 * * * *  cd /srv/casework && .venv/bin/python manage.py run_process_timers

or through the task queue, so that a `manage.py db_worker` process does the work:

    manage.py run_process_timers --enqueue

Each process moves in its own transaction and is re-checked under a lock, so two runs at once
or a run killed half-way move each process once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casework.processes.tasks import advance_process_timers


class Command(BaseCommand):
    help = "Move on the guided processes whose timer is due (every few minutes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the run on the task queue for the db_worker instead of running it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = advance_process_timers.enqueue()
            self.stdout.write(f"Queued the process timers ({result.id}).")
            return
        moved = advance_process_timers.call()
        self.stdout.write(f"Processes moved on by a timer: {moved}.")
