"""Copy the SQLite database to a file while Casework keeps running (SQLite's online backup).

    .venv/bin/python manage.py backup_sqlite /var/backups/casework-$(date +%F).sqlite3

The copy is one consistent moment of the database, taken while requests and the worker go on
writing: every page is copied in one step of SQLite's backup API inside one read transaction,
which in WAL mode does not stop writers. The copy is written under a temporary name, checked
with `PRAGMA integrity_check`, switched to a single-file journal and only then renamed, so a
backup that is interrupted never leaves a file that looks finished. To restore: stop Casework,
put the copy in place of casework.sqlite3, run `manage.py audit_verify` (docs/RELIABILITY.md).
PostgreSQL is backed up with pg_dump instead.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


def sqlite_backup(*, source: sqlite3.Connection, dest: Path) -> int:
    """Copy the database behind `source` to a new file `dest`; returns the copy's size in bytes.

    Raises CommandError if the copy does not pass SQLite's integrity check (nothing is left at
    `dest` then).
    """
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    target = sqlite3.connect(partial)
    try:
        # pages=-1: all pages in one step, so the copy is one snapshot; a stepwise copy would
        # start again each time a writer committed, and might never finish on a busy database.
        source.backup(target, pages=-1)
        verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise CommandError(f"The copy failed SQLite's integrity check ({verdict}).")
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    except BaseException:
        target.close()
        partial.unlink(missing_ok=True)
        raise
    target.close()
    os.replace(partial, dest)
    return dest.stat().st_size


class Command(BaseCommand):
    help = (
        "Copy the SQLite database to a new file while Casework runs (online backup), "
        "checked for integrity. PostgreSQL: use pg_dump."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", help="The file to write, e.g. /var/backups/casework.sqlite3.")
        parser.add_argument(
            "--force", action="store_true", help="Replace the file if it exists already."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "sqlite":
            raise CommandError(
                f"This database is {connection.display_name}: back it up with "
                "`pg_dump -Fc` (see docs/RELIABILITY.md), not with this command."
            )
        dest = Path(options["dest"]).expanduser().resolve()
        if not dest.parent.is_dir():
            raise CommandError(f"The folder {dest.parent} does not exist.")
        if dest.exists() and not options["force"]:
            raise CommandError(f"{dest} exists already: choose a new name, or add --force.")
        if dest == Path(str(connection.settings_dict["NAME"])).resolve():
            raise CommandError("That is the database itself: choose another file.")
        connection.ensure_connection()
        size = sqlite_backup(source=connection.connection, dest=dest)
        self.stdout.write(
            self.style.SUCCESS(f"Backed up to {dest} ({size / 1_000_000:.1f} MB), integrity ok.")
        )
