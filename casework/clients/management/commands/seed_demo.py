"""Load a deterministic synthetic demo agency (no real people) and print the demo logins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework.clients.demo import DEMO_PASSWORD, seed_demo
from casework.core.management.commands.db_maintain import refresh_statistics
from casework.core.models import Agency


class Command(BaseCommand):
    help = "Create the demo agency: programs, teams, 12 staff across roles and N synthetic clients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients", type=int, default=200, help="How many clients (default 200)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed; the same seed gives the same data."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if an agency already exists."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clients"] < 0 or options["clients"] > 100_000:
            raise CommandError("--clients must be between 0 and 100000.")
        if Agency.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Demo data already loaded.")
                self._print_logins()
                return
            raise CommandError(
                "An agency already exists. Use a fresh database (delete casework.sqlite3) to reseed."
            )
        result = seed_demo(clients=options["clients"], seed=options["seed"])
        refresh_statistics()  # a fresh database has none, and the planner would guess
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.agency.name} with {result.clients} synthetic clients."
            )
        )
        self._print_logins()

    def _print_logins(self) -> None:
        from casework.core.models import User

        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        for user in (
            User.objects.filter(email__endswith="@demo.casework.example")
            .prefetch_related("role_rows")
            .order_by("pk")
        ):
            roles = ", ".join(r.get_role_display() for r in user.role_rows.all())
            login = user.email.split("@")[0]
            note = (
                f"  (two-factor code: .venv/bin/python manage.py demo_totp {login})"
                if user.needs_two_factor
                else ""
            )
            self.stdout.write(f"  {user.email:42} {roles}{note}")
