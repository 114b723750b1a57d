"""Every locked table still carries its triggers after all migrations.

SQLite rebuilds a table for many schema changes, and a rebuilt table silently loses its
triggers (it happened to signed notes once); this catches the next time.
"""

from __future__ import annotations

import pytest
from django.db import connection

LOCKED_TABLES = [
    "core_auditevent",
    "notes_note",
    "notes_addendum",
    "assessments_assessment",
    "plans_serviceplan",
    "plans_plangoal",
    "billing_charge",
    "billing_claimbatch",
    "billing_claimline",
    "coordination_disclosure",
]


def _trigger_tables() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal"
            )
        else:
            cursor.execute("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_every_locked_table_has_its_triggers() -> None:
    missing = set(LOCKED_TABLES) - _trigger_tables()
    assert not missing, f"lock triggers lost on: {sorted(missing)}"
