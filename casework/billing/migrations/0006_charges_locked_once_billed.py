"""A claimed or void charge never changes, and a batch's submission is recorded once.

A charge's content is fixed from the moment it is billed (or voided); its status may only go
billed → void (a void claim was sent). While held or ready it is still worked out again from
the facts. `submitted_at`/`submitted_by` of a batch are filled in once.
"""

from django.db import migrations

CONTENT = [
    "agency_id", "note_id", "client_id", "service_code_id", "rendering_provider_id", "payer_id",
    "coverage_id", "authorization_id", "service_date", "minutes", "units", "unit_rule", "rate",
    "amount", "place_of_service", "modifiers", "diagnosis_codes", "created_at",
]
CHARGE_MESSAGE = "a billed or void charge is locked"
BATCH_MESSAGE = "the submission of a claim batch is recorded once"


def _changed(columns):
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


CHARGE_CONDITION = (
    f"(OLD.status = 'billed' AND ({_changed(CONTENT)} OR NEW.status NOT IN ('billed', 'void')))"
    f" OR (OLD.status = 'void' AND ({_changed(CONTENT)} OR NEW.status IS NOT 'void'))"
)
SUBMITTED_CONDITION = (
    "OLD.submitted_at IS NOT NULL AND "
    "(NEW.submitted_at IS NOT OLD.submitted_at OR NEW.submitted_by_id IS NOT OLD.submitted_by_id)"
)
SQLITE_FORWARD = [
    f"CREATE TRIGGER billing_charge_locked BEFORE UPDATE ON billing_charge WHEN {CHARGE_CONDITION} "
    f"BEGIN SELECT RAISE(ABORT, '{CHARGE_MESSAGE}'); END;",
    "CREATE TRIGGER billing_claimbatch_submitted_once BEFORE UPDATE ON billing_claimbatch "
    f"WHEN {SUBMITTED_CONDITION} BEGIN SELECT RAISE(ABORT, '{BATCH_MESSAGE}'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_charge_locked;",
    "DROP TRIGGER IF EXISTS billing_claimbatch_submitted_once;",
]


def _pg(condition):
    return condition.replace(" IS NOT ", " IS DISTINCT FROM ")


POSTGRES_FORWARD = [
    f"""
    CREATE FUNCTION billing_charge_lock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.status IN ('billed', 'void') THEN
                RAISE EXCEPTION '{CHARGE_MESSAGE}';
            END IF;
            RETURN OLD;
        END IF;
        IF {_pg(CHARGE_CONDITION)} THEN
            RAISE EXCEPTION '{CHARGE_MESSAGE}';
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    "CREATE TRIGGER billing_charge_locked BEFORE UPDATE OR DELETE ON billing_charge "
    "FOR EACH ROW EXECUTE FUNCTION billing_charge_lock();",
    f"""
    CREATE FUNCTION billing_claimbatch_submitted_once() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {_pg(SUBMITTED_CONDITION)} THEN
            RAISE EXCEPTION '{BATCH_MESSAGE}';
        END IF;
        RETURN NEW;
    END;
    $$;
    """,
    "CREATE TRIGGER billing_claimbatch_submitted_once BEFORE UPDATE ON billing_claimbatch "
    "FOR EACH ROW EXECUTE FUNCTION billing_claimbatch_submitted_once();",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS billing_charge_locked ON billing_charge;",
    "DROP FUNCTION IF EXISTS billing_charge_lock();",
    "DROP TRIGGER IF EXISTS billing_claimbatch_submitted_once ON billing_claimbatch;",
    "DROP FUNCTION IF EXISTS billing_claimbatch_submitted_once();",
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
    dependencies = [("billing", "0005_claims_immutable")]

    operations = [migrations.RunPython(forward, backward)]
