"""A generated claim batch is immutable: its file, control number and lines never change.

Only `submitted_at`/`submitted_by` may be filled in afterwards. As for signed notes, SQLite
refuses UPDATE only (Django empties SQLite tables with DELETE); PostgreSQL refuses DELETE too.
"""

from django.db import migrations

BATCH_COLUMNS = [
    "agency_id",
    "payer_id",
    "service_from",
    "service_to",
    "control_number",
    "content",
    "sha256",
    "claim_count",
    "total",
    "is_test",
    "created_by_id",
    "created_at",
]
LINE_COLUMNS = ["agency_id", "charge_id", "frequency", "original_reference", "amount", "batch_id"]
BATCH_MESSAGE = "claim batch is immutable once generated"
LINE_MESSAGE = "a claim line in a generated batch is immutable"

SQLITE_FORWARD = [
    "CREATE TRIGGER billing_claimbatch_locked BEFORE UPDATE ON billing_claimbatch WHEN "
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in BATCH_COLUMNS)
    + f" BEGIN SELECT RAISE(ABORT, '{BATCH_MESSAGE}'); END;",
    "CREATE TRIGGER billing_claimline_locked BEFORE UPDATE ON billing_claimline "
    "WHEN OLD.batch_id IS NOT NULL AND ("
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LINE_COLUMNS)
    + f") BEGIN SELECT RAISE(ABORT, '{LINE_MESSAGE}'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_claimbatch_locked;",
    "DROP TRIGGER IF EXISTS billing_claimline_locked;",
]


def _row(prefix: str, columns: list[str]) -> str:
    return "ROW(" + ", ".join(f"{prefix}.{c}" for c in columns) + ")"


POSTGRES_FORWARD = [
    f"""
    CREATE FUNCTION billing_claimbatch_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR {_row("OLD", BATCH_COLUMNS)} IS DISTINCT FROM {_row("NEW", BATCH_COLUMNS)} THEN
            RAISE EXCEPTION '{BATCH_MESSAGE}';
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    "CREATE TRIGGER billing_claimbatch_locked BEFORE UPDATE OR DELETE ON billing_claimbatch "
    "FOR EACH ROW EXECUTE FUNCTION billing_claimbatch_lock();",
    f"""
    CREATE FUNCTION billing_claimline_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.batch_id IS NOT NULL AND (TG_OP = 'DELETE'
           OR {_row("OLD", LINE_COLUMNS)} IS DISTINCT FROM {_row("NEW", LINE_COLUMNS)}) THEN
            RAISE EXCEPTION '{LINE_MESSAGE}';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    "CREATE TRIGGER billing_claimline_locked BEFORE UPDATE OR DELETE ON billing_claimline "
    "FOR EACH ROW EXECUTE FUNCTION billing_claimline_lock();",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_claimbatch_locked ON billing_claimbatch;",
    "DROP FUNCTION IF EXISTS billing_claimbatch_lock();",
    "DROP TRIGGER IF EXISTS billing_claimline_locked ON billing_claimline;",
    "DROP FUNCTION IF EXISTS billing_claimline_lock();",
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
    dependencies = [("billing", "0004_charge_links")]

    operations = [migrations.RunPython(forward, backward)]
