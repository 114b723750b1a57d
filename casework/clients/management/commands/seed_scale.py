"""Bulk-load synthetic clients and years of history for benchmarks (bench/scale.py).

    DEBUG=1 .venv/bin/python manage.py seed_scale --clients 50000 --notes 2000000

Adds to the demo agency (made with `seed_demo --clients 0` if the database is empty) or to the
agency named by --agency-name. Runs once per agency: a second run refuses, because the
synthetic records (SC-…) are already there; use a fresh database to seed again.

Rows are bulk-inserted without the services, so no audit-log entries are written (the log is
hash-chained and written one entry at a time by the services) and no timeline events. Signed
notes are inserted already signed; the database triggers lock them against later changes.
Prints progress and the record number of the big chart; never a client's name.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework.clients.scale import ScaleError, seed_names, seed_scale
from casework.core.management.commands.db_maintain import refresh_statistics


class Command(BaseCommand):
    help = (
        "Bulk-load N synthetic clients and M notes (with visits, PHQ-9s, plans and ready "
        "charges in proportion) for benchmarks. Writes no audit entries. Refuses to run twice "
        "on the same agency."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=50_000, help="Default 50000.")
        parser.add_argument("--notes", type=int, default=2_000_000, help="Default 2000000.")
        parser.add_argument(
            "--agency-name", default="", help="An existing agency (default: the demo agency)."
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed for the names.")
        parser.add_argument(
            "--names-only",
            action="store_true",
            help="Only clients and their search keys, no history (--notes is ignored): "
            "for the search benchmark at 1,000,000 names.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["names_only"]:
                result = seed_names(
                    clients=options["clients"],
                    agency_name=options["agency_name"],
                    seed=options["seed"],
                    progress=self.stdout.write,
                )
            else:
                result = seed_scale(
                    clients=options["clients"],
                    notes=options["notes"],
                    agency_name=options["agency_name"],
                    seed=options["seed"],
                    progress=self.stdout.write,
                )
        except ScaleError as error:
            raise CommandError(str(error)) from error
        refresh_statistics()  # the planner needs statistics for the new rows
        rows = sum(result.made.values())
        self.stdout.write(", ".join(f"{count:,} {what}" for what, count in result.made.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {rows:,} rows in {result.seconds:.1f} s ({rows / result.seconds:,.0f} rows/s). "
                f"Big chart: record {result.big_record} ({result.big_notes:,} notes), "
                f"case manager {result.case_manager.email}."
            )
        )
