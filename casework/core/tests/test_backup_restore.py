"""Backups restore to the same data: SQLite's online backup (`manage.py backup_sqlite`) taken
while a writer commits, and PostgreSQL's `pg_dump -Fc` restored with `pg_restore` into a fresh
database. Each copy is compared table by table, signed notes by a checksum of their content,
and its audit chain is verified with `manage.py audit_verify` run against the copy, as an
operator restoring it would (docs/RELIABILITY.md)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from casework.core.management.commands.backup_sqlite import sqlite_backup
from casework.core.models import AuditEvent
from casework.notes.models import Note
from casework.notes.services import note_sign
from casework.testing.billing import billable_world, draft_note
from casework.testing.personas import Cast

ROOT = Path(__file__).resolve().parents[3]
NOTES = Note._meta.db_table
SESSIONS = "django_session"


def _signed_notes(cast: Cast) -> list[int]:
    """Two signed billable notes (with their charges and audit entries) and a draft."""
    billable = billable_world(cast)
    day = cast.agency.today()
    ids = []
    for hour in (1, 2, 3):
        note = draft_note(
            author=cast.case_manager,
            client=cast.client,
            code=billable.t1016,
            day=day,
            start=(hour, 0),
            minutes=20,
        )
        if hour < 3:
            note_sign(note=note, by=cast.case_manager, attest=True)
        ids.append(note.pk)
    return ids


def _on_live_database(sql: str) -> Any:
    """The first row of `sql` on the test database itself (the original of a backup)."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


def _row_counts(execute: Callable[[str], Any], tables: list[str]) -> dict[str, int]:
    return {table: int(execute(f'SELECT count(*) FROM "{table}"')[0]) for table in tables}  # noqa: S608 - table names from the schema


SIGNED_CHECKSUM = (
    f"SELECT count(*), coalesce(md5(string_agg("  # noqa: S608 - the model's table
    "id || '|' || sections::text || '|' || signed_at::text || '|' || minutes || '|' || attestation, "
    f"',' ORDER BY id)), '') FROM {NOTES} WHERE status = 'signed'"
)


def _audit_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    """`manage.py audit_verify` against the restored copy, as the operator would run it."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO", "CASEWORK", "PYTEST", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env={**env, "DEBUG": "1", "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_only() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's online backup: the test run is on PostgreSQL.")


def _sqlite_tables(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [name for (name,) in rows]


def _sqlite_signed_checksum(db: sqlite3.Connection) -> tuple[int, str]:
    rows = db.execute(
        f"SELECT id, sections, signed_at, minutes, attestation FROM {NOTES} "  # noqa: S608
        "WHERE status = 'signed' ORDER BY id"
    ).fetchall()
    return len(rows), repr(rows)


@pytest.mark.django_db(transaction=True)
def test_sqlite_online_backup_taken_while_a_writer_commits_restores_every_row(
    cast: Cast, tmp_path: Path
) -> None:
    _sqlite_only()
    _signed_notes(cast)
    # The "running" database: a WAL file with the test's data, as casework.sqlite3 is.
    live_path, copy_path = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    live = sqlite3.connect(live_path)
    connection.connection.backup(live)
    live.execute("PRAGMA journal_mode=WAL")
    live.close()

    committed = [0]
    stop, started = threading.Event(), threading.Event()

    def writer() -> None:
        """Another process's requests: sessions written one transaction at a time."""
        db = sqlite3.connect(live_path, timeout=10)
        while not stop.is_set():
            db.execute(
                f"INSERT INTO {SESSIONS} (session_key, session_data, expire_date) "  # noqa: S608
                "VALUES (?, 'x', '2099-01-01 00:00:00')",
                (f"writer{committed[0]:06d}",),
            )
            db.commit()
            committed[0] += 1
            if committed[0] == 20:
                started.set()
        db.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(10), "the writer never got going"
        reader = sqlite3.connect(live_path)
        tables = _sqlite_tables(reader)
        before = _row_counts(lambda sql: reader.execute(sql).fetchone(), tables)
        signed_before = _sqlite_signed_checksum(reader)
        sessions_before = committed[0]
        sqlite_backup(source=sqlite3.connect(live_path), dest=copy_path)
        sessions_after = committed[0]
    finally:
        stop.set()
        thread.join(timeout=10)

    copy = sqlite3.connect(copy_path)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    after = _row_counts(lambda sql: copy.execute(sql).fetchone(), tables)
    assert {t: n for t, n in after.items() if t != SESSIONS} == {
        t: n for t, n in before.items() if t != SESSIONS
    }
    # The copy is one moment of a database being written to: some of the writer's sessions.
    base_sessions = before[SESSIONS] - sessions_before
    assert base_sessions + sessions_before <= after[SESSIONS] <= base_sessions + sessions_after
    assert _sqlite_signed_checksum(copy) == signed_before
    assert signed_before[0] == 2
    copy.close()

    verified = _audit_verify(f"sqlite:///{copy_path}")
    assert verified.returncode == 0, verified.stderr
    assert f"{before[AuditEvent._meta.db_table]} entries verified" in verified.stdout


@pytest.mark.django_db(transaction=True)
def test_backup_sqlite_command_copies_the_running_database(cast: Cast, tmp_path: Path) -> None:
    _sqlite_only()
    _signed_notes(cast)
    dest = tmp_path / "backup.sqlite3"
    out = StringIO()
    call_command("backup_sqlite", str(dest), stdout=out)
    assert "integrity ok" in out.getvalue()
    assert not dest.with_name(dest.name + ".partial").exists()
    tables = connection.introspection.table_names()
    expected = _row_counts(_on_live_database, tables)
    copy = sqlite3.connect(dest)
    assert _row_counts(lambda sql: copy.execute(sql).fetchone(), tables) == expected
    assert expected[AuditEvent._meta.db_table] > 0 and expected[NOTES] == 3


@pytest.mark.django_db
def test_backup_sqlite_refuses_to_overwrite_a_file_or_write_into_a_missing_folder(
    tmp_path: Path,
) -> None:
    _sqlite_only()
    taken = tmp_path / "taken.sqlite3"
    taken.write_bytes(b"an older backup")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup_sqlite", str(taken))
    assert taken.read_bytes() == b"an older backup"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup_sqlite", str(tmp_path / "no-such-folder" / "x.sqlite3"))


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_tools() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump/pg_restore: the test run is on SQLite.")
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (Debian: postgresql-client).")


def _pg_args(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["-h", str(db["HOST"] or "127.0.0.1"), "-p", str(db["PORT"] or 5432)]
    if db["USER"]:
        args += ["-U", str(db["USER"])]
    env = {**os.environ, "PGPASSWORD": str(db["PASSWORD"] or "")}
    return args, env


def _url(db: dict[str, Any], name: str) -> str:
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )


@pytest.mark.django_db(transaction=True)
def test_backup_sqlite_on_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("The refusal is for PostgreSQL databases.")
    with pytest.raises(CommandError, match="pg_dump"):
        call_command("backup_sqlite", str(tmp_path / "x.sqlite3"))


@pytest.mark.django_db(transaction=True)
def test_pg_dump_restored_into_a_fresh_database_is_the_same(cast: Cast, tmp_path: Path) -> None:
    _pg_tools()
    import psycopg

    _signed_notes(cast)
    db = connection.settings_dict
    args, env = _pg_args(db)
    dump = tmp_path / "casework.dump"
    subprocess.run(  # noqa: S603
        ["pg_dump", *args, "-Fc", "-f", str(dump), str(db["NAME"])],  # noqa: S607
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    restored = f"{db['NAME']}_restored"[:63]  # our own test database's name, made here
    admin_url = _url(db, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        result = subprocess.run(  # noqa: S603
            ["pg_restore", *args, "--exit-on-error", "--no-owner", "-d", restored, str(dump)],  # noqa: S607
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        tables = connection.introspection.table_names()
        expected = _row_counts(_on_live_database, tables)
        signed = _on_live_database(SIGNED_CHECKSUM)
        with psycopg.connect(_url(db, restored), autocommit=True) as copy:
            got = _row_counts(lambda sql: copy.execute(sql).fetchone(), tables)  # type: ignore[arg-type]
            assert got == expected
            assert copy.execute(SIGNED_CHECKSUM).fetchone() == signed  # type: ignore[arg-type]
            assert signed[0] == 2
            # The database's own guards came back too: the audit log refuses changes.
            with pytest.raises(psycopg.Error):
                copy.execute(f"UPDATE {AuditEvent._meta.db_table} SET detail = 'changed'")  # noqa: S608
        verified = _audit_verify(_url(db, restored))
        assert verified.returncode == 0, verified.stderr
        assert f"{expected[AuditEvent._meta.db_table]} entries verified" in verified.stdout
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
