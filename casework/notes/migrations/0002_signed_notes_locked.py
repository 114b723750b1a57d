"""Signed means locked (ARCHITECTURE rule 4), enforced by the database and not only the forms.

Once a note has `signed_at`, its content columns can never change and the row cannot be
deleted; only co-signature and void fields may still be filled in. Addenda are never changed
or deleted. The same rule holds for raw SQL, the Django admin and any future code path.

On SQLite only UPDATE is refused: Django empties SQLite tables with DELETE (test flushes, and
the development reset), and a row-level DELETE trigger would make that impossible. PostgreSQL
empties tables with TRUNCATE, which row triggers do not see, so there DELETE is refused too.
"""

from django.db import migrations

LOCKED_COLUMNS = [
    "agency_id",
    "client_id",
    "author_id",
    "group_id",
    "service_date",
    "start_at",
    "end_at",
    "contact_type",
    "place_of_service",
    "service_code_id",
    "present",
    "template",
    "sections",
    "shared_text",
    "goals_addressed",
    "mileage",
    "travel_minutes",
    "interpreter_used",
    "interpreter_language",
    "signed_at",
    "minutes",
    "attestation",
    "late_reason",
    "cosign_required",
]
MESSAGE = "signed note is locked: write an addendum instead"

SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LOCKED_COLUMNS)
SQLITE_FORWARD = [
    "CREATE TRIGGER notes_note_signed_locked BEFORE UPDATE ON notes_note "
    f"WHEN OLD.signed_at IS NOT NULL AND ({SQLITE_CHANGED} OR NEW.status = 'draft') "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    "CREATE TRIGGER notes_addendum_no_update BEFORE UPDATE ON notes_addendum "
    "BEGIN SELECT RAISE(ABORT, 'addenda are permanent'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS notes_note_signed_locked;",
    "DROP TRIGGER IF EXISTS notes_addendum_no_update;",
]

POSTGRES_OLD = ", ".join(f"OLD.{c}" for c in LOCKED_COLUMNS)
POSTGRES_NEW = ", ".join(f"NEW.{c}" for c in LOCKED_COLUMNS)
POSTGRES_FORWARD = [
    f"""
    CREATE FUNCTION notes_note_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.signed_at IS NOT NULL THEN
            IF TG_OP = 'DELETE'
               OR ROW({POSTGRES_OLD}) IS DISTINCT FROM ROW({POSTGRES_NEW})
               OR NEW.status = 'draft' THEN
                RAISE EXCEPTION '{MESSAGE}';
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    "CREATE TRIGGER notes_note_signed_locked BEFORE UPDATE OR DELETE ON notes_note "
    "FOR EACH ROW EXECUTE FUNCTION notes_note_lock();",
    """
    CREATE FUNCTION notes_addendum_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'addenda are permanent: % refused', TG_OP;
    END;
    $$;
    """,
    "CREATE TRIGGER notes_addendum_permanent BEFORE UPDATE OR DELETE ON notes_addendum "
    "FOR EACH ROW EXECUTE FUNCTION notes_addendum_refuse();",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS notes_note_signed_locked ON notes_note;",
    "DROP FUNCTION IF EXISTS notes_note_lock();",
    "DROP TRIGGER IF EXISTS notes_addendum_permanent ON notes_addendum;",
    "DROP FUNCTION IF EXISTS notes_addendum_refuse();",
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
    dependencies = [("notes", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
