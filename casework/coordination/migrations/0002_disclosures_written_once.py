"""A disclosure, once logged, never changes: the client's accounting of disclosures reads it.

UPDATE is refused on both databases; DELETE too on PostgreSQL (SQLite's test flush deletes
rows one by one, as with signed notes).
"""

from django.db import migrations

MESSAGE = "a logged disclosure never changes"

SQLITE_FORWARD = [
    "CREATE TRIGGER coordination_disclosure_locked BEFORE UPDATE ON coordination_disclosure "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS coordination_disclosure_locked;"]

POSTGRES_FORWARD = [
    f"""
    CREATE FUNCTION coordination_disclosure_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}';
    END;
    $$;
    """,
    "CREATE TRIGGER coordination_disclosure_locked BEFORE UPDATE OR DELETE "
    "ON coordination_disclosure FOR EACH ROW EXECUTE FUNCTION coordination_disclosure_refuse();",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS coordination_disclosure_locked ON coordination_disclosure;",
    "DROP FUNCTION IF EXISTS coordination_disclosure_refuse();",
]


def forward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_FORWARD if postgres else SQLITE_FORWARD:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_BACKWARD if postgres else SQLITE_BACKWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("coordination", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
