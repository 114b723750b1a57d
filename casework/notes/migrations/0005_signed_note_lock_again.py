"""Put the signed-note lock back on SQLite, and extend it to the fields 0004 added.

On SQLite, 0004 added NOT NULL columns with defaults, which Django does by rebuilding the
table, and a rebuilt table loses its triggers: signed notes were no longer locked there.
This recreates the trigger of 0003 with the appointment, medication and event columns locked
too; on PostgreSQL (where the trigger survived) it replaces the function with the longer list.
A later migration that rebuilds `notes_note` on SQLite must do the same.
"""

from django.db import migrations

LOCKED_COLUMNS = [
    "agency_id", "client_id", "author_id", "group_id", "service_date", "start_at", "end_at",
    "contact_type", "place_of_service", "service_code_id", "present", "template", "sections",
    "shared_text", "goals_addressed", "mileage", "travel_minutes", "interpreter_used",
    "interpreter_language", "signed_at", "minutes", "attestation", "late_reason",
    "cosign_required", "created_at", "appointment_id", "medication_adherence", "events",
]
VOID_COLUMNS = ["voided_at", "voided_by_id", "void_reason"]
COSIGN_COLUMNS = ["cosigned_at", "cosigned_by_id"]
MESSAGE = "signed note is locked: write an addendum instead"


def _changed(columns, old="OLD", new="NEW", op="IS NOT"):
    return " OR ".join(f"{new}.{c} {op} {old}.{c}" for c in columns)


SQLITE_CONDITION = (
    f"OLD.signed_at IS NOT NULL AND ({_changed(LOCKED_COLUMNS)} OR NEW.status = 'draft'"
    f" OR (OLD.status = 'void' AND NEW.status IS NOT 'void')"
    f" OR (OLD.voided_at IS NOT NULL AND ({_changed(VOID_COLUMNS)}))"
    f" OR (OLD.cosigned_at IS NOT NULL AND ({_changed(COSIGN_COLUMNS)})))"
)
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS notes_note_signed_locked;",
    f"CREATE TRIGGER notes_note_signed_locked BEFORE UPDATE ON notes_note WHEN {SQLITE_CONDITION} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
PG_CONDITION = SQLITE_CONDITION.replace(" IS NOT ", " IS DISTINCT FROM ")
POSTGRES_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION notes_note_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.signed_at IS NOT NULL THEN
                RAISE EXCEPTION '{MESSAGE}';
            END IF;
            RETURN OLD;
        END IF;
        IF {PG_CONDITION} THEN
            RAISE EXCEPTION '{MESSAGE}';
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
]


def forward(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_FORWARD if postgres else SQLITE_FORWARD:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("notes", "0004_appointment_adherence_events")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
