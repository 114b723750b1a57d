"""Hourly appointment reminders to clients who asked for them (text or email), each sent once.

From cron:  20 * * * *  cd /srv/casework && .venv/bin/python manage.py send_client_reminders
or `manage.py send_client_reminders --enqueue` for the db_worker.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casework.automation import reminders, tasks


class Command(BaseCommand):
    help = "Send the client appointment reminders that are due (run hourly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the work on the task queue for the db_worker instead of doing it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = tasks.send_client_reminders.enqueue()
            self.stdout.write(f"Queued the client reminders ({result.id}).")
            return
        self.stdout.write(f"Client reminders sent: {reminders.send_client_reminders()}.")
