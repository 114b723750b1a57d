"""Signed means locked (ARCHITECTURE rule 4): a signed assessment and its addenda never change.

As for notes: SQLite refuses UPDATE (Django empties SQLite tables with DELETE); PostgreSQL
refuses UPDATE and DELETE.
"""

from django.db import migrations

LOCKED = [
    "agency_id", "client_id", "author_id", "instrument", "instrument_version", "administered_on",
    "mode", "answers", "status", "total", "band", "flags", "signed_at", "created_at",
]
MESSAGE = "signed assessment is locked: add an addendum instead"
SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LOCKED)
SQLITE_FORWARD = [
    "CREATE TRIGGER assessments_signed_locked BEFORE UPDATE ON assessments_assessment "
    f"WHEN OLD.signed_at IS NOT NULL AND ({SQLITE_CHANGED}) "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    "CREATE TRIGGER assessments_addendum_no_update BEFORE UPDATE ON assessments_assessmentaddendum "
    "BEGIN SELECT RAISE(ABORT, 'addenda are permanent'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS assessments_signed_locked;",
    "DROP TRIGGER IF EXISTS assessments_addendum_no_update;",
]
PG_OLD = ", ".join(f"OLD.{c}" for c in LOCKED)
PG_NEW = ", ".join(f"NEW.{c}" for c in LOCKED)
POSTGRES_FORWARD = [
    f"""
    CREATE FUNCTION assessments_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.signed_at IS NOT NULL AND (TG_OP = 'DELETE'
           OR ROW({PG_OLD}) IS DISTINCT FROM ROW({PG_NEW})) THEN
            RAISE EXCEPTION '{MESSAGE}';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    "CREATE TRIGGER assessments_signed_locked BEFORE UPDATE OR DELETE ON assessments_assessment "
    "FOR EACH ROW EXECUTE FUNCTION assessments_lock();",
    """
    CREATE FUNCTION assessments_addendum_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'addenda are permanent: % refused', TG_OP;
    END;
    $$;
    """,
    "CREATE TRIGGER assessments_addendum_permanent BEFORE UPDATE OR DELETE "
    "ON assessments_assessmentaddendum FOR EACH ROW EXECUTE FUNCTION assessments_addendum_refuse();",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS assessments_signed_locked ON assessments_assessment;",
    "DROP FUNCTION IF EXISTS assessments_lock();",
    "DROP TRIGGER IF EXISTS assessments_addendum_permanent ON assessments_assessmentaddendum;",
    "DROP FUNCTION IF EXISTS assessments_addendum_refuse();",
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
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
