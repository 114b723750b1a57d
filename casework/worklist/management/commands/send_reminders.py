"""Hourly reminder emails: a daily digest inside each person's working hours, urgent items at once.

From cron:  5 * * * *  cd /srv/casework && .venv/bin/python manage.py send_reminders
or `manage.py send_reminders --enqueue` for the db_worker. Each reminder is sent once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from casework.worklist.reminders import send_reminders
from casework.worklist.tasks import send_reminders_task


class Command(BaseCommand):
    help = "Send the reminder emails that are due (run hourly)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Put the work on the task queue for the db_worker instead of doing it here.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = send_reminders_task.enqueue()
            self.stdout.write(f"Queued the reminders ({result.id}).")
            return
        self.stdout.write(f"Reminders sent: {send_reminders()}.")
